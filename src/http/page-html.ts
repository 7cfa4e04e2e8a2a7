// The page's HTML: the wire contract's answers (src/wire) shown to people, as templates only, every
// value escaped. page.ts decides which one to answer.
import type { RecordStatus, ServerInfo, SubmitAnswer } from '../wire/answers.js';

/** What a visitor without JavaScript can do when the server asks for work (SPEC §8). */
export const NO_JS_WORK =
  'Without JavaScript this page cannot compute it, and the server does not compute it for anyone, so a form sent without JavaScript is refused. ' +
  'Turn JavaScript on for this page (it then computes the work in your browser), or use the relaystore submit command.';

const esc = (s: string | number) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function layout(title: string, main: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${title === 'RelayStore' ? '' : `${esc(title)} · `}RelayStore</title><link rel="stylesheet" href="/assets/page.css"></head>
<body>${main}
<p><a href="/">Back to the start</a></p></body></html>`;
}

export function problemHtml(code: string, message: string): string {
  return `<h1>Refused</h1><div class="error" id="problem"><p>${esc(message)}</p><p>code: <code>${esc(code)}</code></p></div>`;
}

export function receiptHtml(body: SubmitAnswer, txid: string, isNew: boolean): string {
  return `<h1>Stored</h1>
<div class="ok" id="submit-result"><p>${isNew ? 'Stored.' : 'This exact sealed transaction was already stored.'}
Your browser sent the transaction without JavaScript, so this server sealed it on receipt: it saw the
transaction once, in memory, and keeps only the sealed form until it matures.</p>
<p class="secret">Save the token now: it is the only way to cancel, and this page will not show it again.</p>
<dl>
<dt>id</dt><dd class="hex" data-field="id">${esc(body.id)}</dd>
<dt>txid</dt><dd class="hex" data-field="txid">${esc(txid)}</dd>
<dt>locktime</dt><dd data-field="locktime">${esc(body.locktime)} (${esc(body.locktimeType)})</dd>
<dt>token</dt><dd class="hex secret" data-field="token">${esc(body.token)}</dd>
<dt>receipt</dt><dd class="hex" data-field="receipt">${esc(body.receipt)}</dd>
</dl></div>
<p><a href="/status?id=${esc(body.id)}">Follow its status</a></p>`;
}

export function statusHtml(v: RecordStatus): string {
  return `<h1>Status</h1>
<dl id="status">
<dt>id</dt><dd class="hex" data-field="id">${esc(v.id)}</dd>
<dt>status</dt><dd data-field="status">${esc(v.status)}</dd>
<dt>locktime</dt><dd>${esc(v.locktime)} (${esc(v.locktimeType)})</dd>
${v.txid ? `<dt>txid</dt><dd class="hex" data-field="txid">${esc(v.txid)}</dd>` : ''}
${v.confirmations !== undefined ? `<dt>confirmations</dt><dd data-field="confirmations">${esc(v.confirmations)}</dd>` : ''}
${v.error ? `<dt>error</dt><dd data-field="error">${esc(v.error.code)}: ${esc(v.error.message)}</dd>` : ''}
</dl>
<form method="get" action="/status"><input type="hidden" name="id" value="${esc(v.id)}"><button type="submit">Refresh</button></form>`;
}

export function cancelledHtml(id: string): string {
  return `<h1>Cancelled</h1><div class="ok" id="cancel-result"><p><span class="hex">${esc(id)}</span> is cancelled: the sealed transaction was wiped and will never be broadcast.</p></div>`;
}

function admissionText({ bits, storeFull }: ServerInfo['admission']): string {
  const full = `store ${Math.round(storeFull * 100)}% full`;
  return bits === 0 ? `${full}; no proof of work asked` : `${full}; a proof of work of ${bits} bits or more is asked`;
}

function infoHtml({ network, tip, onion, sealing, receipts, admission }: ServerInfo): string {
  const tipText = tip ? `${esc(tip.height)} <span class="hex">${esc(tip.hash)}</span> (median time ${esc(new Date(tip.medianTime * 1000).toISOString())})` : 'not known yet';
  return `<dl id="info">
<dt>network</dt><dd data-field="network">${esc(network)}</dd>
<dt>chain tip</dt><dd data-field="tip">${tipText}</dd>
<dt>onion</dt><dd class="hex" data-field="onion">${onion ? esc(onion) : 'none configured'}</dd>
<dt>sealing key</dt><dd class="hex" data-field="sealing-key">${esc(sealing.publicKey)} (keyId ${esc(sealing.keyId)})</dd>
<dt>receipt key</dt><dd class="hex" data-field="receipt-key">${esc(receipts.publicKey)}</dd>
<dt>admission</dt><dd data-field="admission">${admissionText(admission)}</dd>
</dl>`;
}

export function homeHtml(info: ServerInfo): string {
  return `<h1>RelayStore</h1>
<p>Keeps a time-locked Bitcoin transaction sealed until Bitcoin would accept it, then broadcasts it
through Tor, each transaction over its own circuit.</p>
<h2>This server</h2>
${infoHtml(info)}
<h2>Hand in a transaction</h2>
<p class="note" id="sealing-nojs">JavaScript is off, so this page cannot seal in your browser: <strong>the server will
see your transaction</strong> when it seals it on receipt (it keeps only the sealed form, and never
writes the transaction to disk). To keep it from the server until it matures, turn JavaScript on for
this page, or use the <code>relaystore submit</code> command.</p>
${info.admission.bits > 0 ? `<p class="error" id="work-nojs"><strong>This server is busy and asks every submission for a proof of work,
which this page computes only with JavaScript on.</strong> ${NO_JS_WORK}</p>` : ''}
<p class="note" id="sealing-js" hidden>This page seals the transaction in your browser before sending it: the
server cannot read it before it matures.</p>
<form method="post" action="/submit" id="submit-form" data-public-key="${esc(info.sealing.publicKey)}" data-key-id="${esc(info.sealing.keyId)}">
<label for="tx">Signed transaction (hex), with its nLockTime set to when it may be broadcast</label>
<textarea id="tx" name="tx" required spellcheck="false" autocomplete="off"></textarea>
<label for="window">Random delay after maturity, in seconds (optional, at most ${esc(info.limits.maxWindowSeconds)})</label>
<input type="text" id="window" name="window" inputmode="numeric" autocomplete="off">
<button type="submit">Seal and store</button>
</form>
<div id="submit-result" hidden></div>
<h2>Status</h2>
<form method="get" action="/status"><label for="status-id">id</label>
<input type="text" id="status-id" name="id" required autocomplete="off"><button type="submit">Show status</button></form>
<h2>Cancel</h2>
<form method="post" action="/cancel"><label for="cancel-id">id</label>
<input type="text" id="cancel-id" name="id" required autocomplete="off">
<label for="cancel-token">token</label><input type="text" id="cancel-token" name="token" required autocomplete="off">
<button type="submit">Cancel it</button></form>
<script type="module" src="/assets/page.js"></script>`;
}
