// The page's script, when JavaScript is on: seals in the browser before anything is sent, so that the
// server never sees the transaction before it matures. Bundled by scripts/build-page.ts from the same
// modules the client library and the server use: a rule the page needs is one import here.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { parseTransaction, sealTransaction } from '../src/client/envelope.js';
import { seal } from '../src/crypto/sealed-box.js';

// The bundle exports what it computes with, so that the tests hold this very file (as the browser
// runs it) to the fixture tables.
export { parseTransaction, sealTransaction, seal };

type Row = readonly [name: string, value: string, cls?: string];

interface SubmissionAnswer {
  readonly id: string;
  readonly locktime: number;
  readonly locktimeType: string;
  readonly token: string;
  readonly receipt: string;
}

type Answer =
  | { readonly ok: true; readonly status: number; readonly body: SubmissionAnswer }
  | { readonly ok: false; readonly status: number; readonly body: { readonly error: { readonly code: string; readonly message: string } } };

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no #${id}`);
  return element;
}

function list(rows: readonly Row[]): HTMLDListElement {
  const dl = document.createElement('dl');
  for (const [name, value, cls] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dd.className = cls ?? 'hex';
    dd.dataset.field = name;
    dl.append(dt, dd);
  }
  return dl;
}

function show(result: HTMLElement, kind: string, rows: readonly Row[], text: string): void {
  result.replaceChildren();
  result.className = kind;
  result.hidden = false;
  const p = document.createElement('p');
  p.textContent = text;
  result.append(p);
  if (rows.length) result.append(list(rows));
}

/** SPEC §3's submission body, sealed here; the txid is only shown (the server learns it when it opens the blob at maturity). */
function sealForm(form: HTMLFormElement, tx: string, delay: string): { body: Record<string, unknown>; txid: string } {
  const parsed = parseTransaction(tx);
  const sealed = sealTransaction(hexToBytes(form.dataset.publicKey ?? ''), parsed);
  const body: Record<string, unknown> = { locktime: parsed.locktime, sealed: bytesToHex(sealed.sealed), keyId: form.dataset.keyId };
  if (delay !== '') body.window = Number(delay);
  return { body, txid: parsed.txid };
}

async function send(body: Record<string, unknown>): Promise<Answer> {
  const res = await fetch('/v1/transactions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  });
  return { status: res.status, ok: res.ok, body: await res.json() } as Answer;
}

function stored(status: number, answer: SubmissionAnswer, txid: string): [readonly Row[], string] {
  const rows: Row[] = [
    ['id', answer.id],
    ['txid', txid],
    ['locktime', `${answer.locktime} (${answer.locktimeType})`, 'plain'],
    ['token', answer.token, 'hex secret'],
    ['receipt', answer.receipt],
  ];
  return [
    rows,
    status === 201
      ? 'Stored, sealed in this browser: the server cannot read it before it matures. Save the token now: it is the only way to cancel, and this page will not show it again.'
      : 'This exact sealed transaction was already stored. Save the token: it is the only way to cancel.',
  ];
}

async function submit(form: HTMLFormElement, result: HTMLElement): Promise<void> {
  const txField = byId('tx', HTMLTextAreaElement);
  const { body, txid } = sealForm(form, txField.value, byId('window', HTMLInputElement).value.trim());
  show(result, 'note', [], 'Sealed in this browser; sending…');
  const answer = await send(body);
  if (!answer.ok) return show(result, 'error', [['code', answer.body.error.code, 'plain']], `Refused: ${answer.body.error.message}`);
  txField.value = '';
  show(result, 'ok', ...stored(answer.status, answer.body, txid));
}

function start(): void {
  const form = byId('submit-form', HTMLFormElement);
  const result = byId('submit-result', HTMLDivElement);
  const button = form.querySelector('button')!;
  byId('sealing-nojs', HTMLParagraphElement).hidden = true;
  byId('sealing-js', HTMLParagraphElement).hidden = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    button.disabled = true;
    submit(form, result)
      .catch((err: unknown) => show(result, 'error', [], err instanceof Error ? err.message : String(err)))
      .finally(() => (button.disabled = false));
  });
}

start();
