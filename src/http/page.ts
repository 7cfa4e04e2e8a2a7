// The page at `/` for people with Tor Browser: server info, submit, status and cancel as plain
// HTML forms that work without JavaScript (the server then seals on receipt), and a same-origin
// script that seals in the browser when JavaScript is on. No cookies, no third parties.
import { readFile } from 'node:fs/promises';
import type Router from '@koa/router';
import type Koa from 'koa';
import { serverInfo, type AppDeps } from './app.js';
import type { RecordStatus, SubmitAnswer } from '../wire/answers.js';
import { parseTransaction, sealTransaction } from '../client/envelope.js';
import { BadTransactionError } from '../client/errors/bad-transaction-error.js';
import { HTTP_STATUS, HttpRefusal } from './errors.js';
import { readForm } from './body.js';

export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export interface PageAsset {
  readonly type: string;
  readonly body: Buffer;
}

/** Everything the page serves besides HTML, read once at start: its style, and its script as `npm run build` bundled it (scripts/build-page.ts). */
export async function loadPageAssets(): Promise<ReadonlyMap<string, PageAsset>> {
  const files: Array<[string, URL, string]> = [
    ['/assets/page.js', new URL('../../web/page.js', import.meta.url), 'text/javascript; charset=utf-8'],
    ['/assets/page.css', new URL('../../../web/page.css', import.meta.url), 'text/css; charset=utf-8'],
  ];
  const assets = new Map<string, PageAsset>();
  for (const [path, file, type] of files) assets.set(path, { type, body: await readFile(file) });
  return assets;
}

export interface PageDeps extends Pick<AppDeps, 'intake' | 'keys' | 'network' | 'tip' | 'onion' | 'limits' | 'fees'> {
  readonly assets: ReadonlyMap<string, PageAsset>;
}

const esc = (s: string | number) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function pageRoutes(deps: PageDeps): (router: Router) => void {
  const formLimit = deps.limits.maxSealedBytes * 2 + 4096;

  const html = (ctx: Koa.Context, status: number, title: string, main: string) => {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', PAGE_CSP);
    ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${title === 'RelayStore' ? '' : `${esc(title)} · `}RelayStore</title><link rel="stylesheet" href="/assets/page.css"></head>
<body>${main}
<p><a href="/">Back to the start</a></p></body></html>`;
  };

  const problem = (ctx: Koa.Context, status: number, code: string, message: string) =>
    html(ctx, status, 'Refused', `<h1>Refused</h1><div class="error" id="problem"><p>${esc(message)}</p><p>code: <code>${esc(code)}</code></p></div>`);

  const receipt = (body: SubmitAnswer, txid: string, isNew: boolean) => `<h1>Stored</h1>
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

  const statusView = (v: RecordStatus) => `<h1>Status</h1>
<dl id="status">
<dt>id</dt><dd class="hex" data-field="id">${esc(v.id)}</dd>
<dt>status</dt><dd data-field="status">${esc(v.status)}</dd>
<dt>locktime</dt><dd>${esc(v.locktime)} (${esc(v.locktimeType)})</dd>
${v.txid ? `<dt>txid</dt><dd class="hex" data-field="txid">${esc(v.txid)}</dd>` : ''}
${v.confirmations !== undefined ? `<dt>confirmations</dt><dd data-field="confirmations">${esc(v.confirmations)}</dd>` : ''}
${v.error ? `<dt>error</dt><dd data-field="error">${esc(v.error.code)}: ${esc(v.error.message)}</dd>` : ''}
</dl>
<form method="get" action="/status"><input type="hidden" name="id" value="${esc(v.id)}"><button type="submit">Refresh</button></form>`;

  const home = () => {
    const { network, tip, onion, sealing, receipts } = serverInfo(deps);
    return `<h1>RelayStore</h1>
<p>Keeps a time-locked Bitcoin transaction sealed until Bitcoin would accept it, then broadcasts it
through Tor, each transaction over its own circuit.</p>
<h2>This server</h2>
<dl id="info">
<dt>network</dt><dd data-field="network">${esc(network)}</dd>
<dt>chain tip</dt><dd data-field="tip">${tip ? `${esc(tip.height)} <span class="hex">${esc(tip.hash)}</span> (median time ${esc(new Date(tip.medianTime * 1000).toISOString())})` : 'not known yet'}</dd>
<dt>onion</dt><dd class="hex" data-field="onion">${onion ? esc(onion) : 'none configured'}</dd>
<dt>sealing key</dt><dd class="hex" data-field="sealing-key">${esc(sealing.publicKey)} (keyId ${esc(sealing.keyId)})</dd>
<dt>receipt key</dt><dd class="hex" data-field="receipt-key">${esc(receipts.publicKey)}</dd>
</dl>
<h2>Hand in a transaction</h2>
<p class="note" id="sealing-nojs">JavaScript is off, so this page cannot seal in your browser: <strong>the server will
see your transaction</strong> when it seals it on receipt (it keeps only the sealed form, and never
writes the transaction to disk). To keep it from the server until it matures, turn JavaScript on for
this page, or use the <code>relaystore submit</code> command.</p>
<p class="note" id="sealing-js" hidden>This page seals the transaction in your browser before sending it: the
server cannot read it before it matures.</p>
<form method="post" action="/submit" id="submit-form" data-public-key="${esc(sealing.publicKey)}" data-key-id="${esc(sealing.keyId)}">
<label for="tx">Signed transaction (hex), with its nLockTime set to when it may be broadcast</label>
<textarea id="tx" name="tx" required spellcheck="false" autocomplete="off"></textarea>
<label for="window">Random delay after maturity, in seconds (optional, at most ${esc(deps.limits.maxWindowSeconds)})</label>
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
  };

  return (router) => {
    router.get('/', (ctx) => html(ctx, 200, 'RelayStore', home()));
    // Browsers ask for it on every page; an empty answer keeps their consoles (and logs) quiet.
    router.get('/favicon.ico', (ctx) => {
      ctx.status = 204;
    });

    router.get('/assets/:name', (ctx) => {
      const asset = deps.assets.get(ctx.path);
      if (!asset) throw new HttpRefusal('not_found', `no asset ${ctx.path}`);
      ctx.type = asset.type;
      ctx.body = asset.body;
    });

    router.post('/submit', async (ctx) => {
      let form: URLSearchParams;
      try {
        form = await readForm(ctx, formLimit);
      } catch (err) {
        if (err instanceof HttpRefusal) return problem(ctx, HTTP_STATUS[err.code], err.code, err.message);
        throw err;
      }
      let sealed;
      try {
        const parsed = parseTransaction((form.get('tx') ?? '').replace(/\s+/g, ''));
        sealed = sealTransaction(deps.keys.current.publicKey, parsed);
      } catch (err) {
        if (err instanceof BadTransactionError) return problem(ctx, 400, 'invalid_transaction', err.message);
        throw err;
      }
      const windowText = (form.get('window') ?? '').trim();
      const outcome = await deps.intake.submit({
        locktime: sealed.locktime,
        sealed: Buffer.from(sealed.sealed).toString('hex'),
        keyId: deps.keys.current.keyId,
        ...(windowText !== '' ? { window: Number(windowText) } : {}),
      });
      if (outcome.kind === 'refused') return problem(ctx, HTTP_STATUS[outcome.code], outcome.code, outcome.message);
      html(ctx, outcome.kind === 'accepted' ? 201 : 200, 'Stored', receipt(outcome.body, sealed.txid, outcome.kind === 'accepted'));
    });

    router.get('/status', async (ctx) => {
      const id = String(ctx.query.id ?? '').trim().toLowerCase();
      const outcome = await deps.intake.status(id);
      if (outcome.kind === 'refused') return problem(ctx, HTTP_STATUS[outcome.code], outcome.code, outcome.message);
      html(ctx, 200, 'Status', statusView(outcome.view));
    });

    router.post('/cancel', async (ctx) => {
      let form: URLSearchParams;
      try {
        form = await readForm(ctx, 4096);
      } catch (err) {
        if (err instanceof HttpRefusal) return problem(ctx, HTTP_STATUS[err.code], err.code, err.message);
        throw err;
      }
      const id = (form.get('id') ?? '').trim().toLowerCase();
      const token = (form.get('token') ?? '').trim().toLowerCase();
      const outcome = await deps.intake.cancel(id, token ? `Bearer ${token}` : undefined);
      if (outcome.kind === 'refused') return problem(ctx, HTTP_STATUS[outcome.code], outcome.code, outcome.message);
      html(ctx, 200, 'Cancelled', `<h1>Cancelled</h1><div class="ok" id="cancel-result"><p><span class="hex">${esc(outcome.id)}</span> is cancelled: the sealed transaction was wiped and will never be broadcast.</p></div>`);
    });
  };
}
