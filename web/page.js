// The page's form, when JavaScript is on: seals in the browser (envelope.js) before anything is
// sent, so that the server never sees the transaction before it matures.
import { bytesToHex, hexToBytes, pad, parseTransaction, seal } from './envelope.js';

function show(result, kind, rows, text) {
  result.replaceChildren();
  result.className = kind;
  result.hidden = false;
  if (text) {
    const p = document.createElement('p');
    p.textContent = text;
    result.append(p);
  }
  if (rows.length) {
    const dl = document.createElement('dl');
    for (const [name, value, cls] of rows) {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = value;
      dd.className = cls || 'hex';
      dd.dataset.field = name;
      dl.append(dt, dd);
    }
    result.append(dl);
  }
}

const form = document.getElementById('submit-form');
const result = document.getElementById('submit-result');
document.getElementById('sealing-nojs').hidden = true;
document.getElementById('sealing-js').hidden = false;

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = form.querySelector('button');
  try {
    const bytes = hexToBytes(form.elements.tx.value.trim());
    const { locktime, txid } = parseTransaction(bytes);
    const publicKey = hexToBytes(form.dataset.publicKey);
    const sealed = seal(publicKey, pad(bytes));
    const body = { locktime, sealed: bytesToHex(sealed), keyId: form.dataset.keyId };
    const delay = form.elements.window.value.trim();
    if (delay !== '') body.window = Number(delay);
    button.disabled = true;
    show(result, 'note', [], 'Sealed in this browser; sending…');
    const res = await fetch('/v1/transactions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    const answer = await res.json();
    if (!res.ok) {
      show(result, 'error', [['code', answer.error.code, 'plain']], `Refused: ${answer.error.message}`);
      return;
    }
    form.elements.tx.value = '';
    show(
      result,
      'ok',
      [
        ['id', answer.id],
        ['txid', txid],
        ['locktime', `${answer.locktime} (${answer.locktimeType})`, 'plain'],
        ['token', answer.token, 'hex secret'],
        ['receipt', answer.receipt],
      ],
      res.status === 201
        ? 'Stored, sealed in this browser: the server cannot read it before it matures. Save the token now: it is the only way to cancel, and this page will not show it again.'
        : 'This exact sealed transaction was already stored. Save the token: it is the only way to cancel.',
    );
  } catch (err) {
    show(result, 'error', [], err instanceof Error ? err.message : String(err));
  } finally {
    button.disabled = false;
  }
});
