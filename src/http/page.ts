// The page at `/` for Tor Browser: info, submit, status and cancel as plain HTML forms that work
// without JavaScript (the server then seals on receipt); web/page.ts seals in the browser when it runs.
import { readFile } from 'node:fs/promises';
import type Router from '@koa/router';
import type Koa from 'koa';
import { serverInfo, type AppDeps } from './app.js';
import type { Refusal } from '../domain/outcomes.js';
import { submitBodyLimit, type SubmitRequest } from '../wire/submit-request.js';
import { parseTransaction, sealTransaction, submitRequestOf, type SealedTransaction } from '../client/envelope.js';
import { BadTransactionError } from '../client/errors/bad-transaction-error.js';
import { HttpRefusal, PAGE_STATUS } from './errors.js';
import { dropBody, readForm } from './body.js';
import { cancelledHtml, homeHtml, layout, NO_JS_WORK, problemHtml, receiptHtml, statusHtml } from './page-html.js';

// Its own script and style only: no cookies, no third parties, nothing inline.
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

export interface PageDeps extends Pick<AppDeps, 'intake' | 'keys' | 'network' | 'tip' | 'onion' | 'limits' | 'fees' | 'admission'> {
  readonly assets: ReadonlyMap<string, PageAsset>;
}

export function pageRoutes(deps: PageDeps): (router: Router) => void {
  return (router) => {
    router.get('/', (ctx) => answerHtml(ctx, 200, 'RelayStore', homeHtml(serverInfo(deps))));
    // Browsers ask for it on every page; an empty answer keeps their consoles (and logs) quiet.
    router.get('/favicon.ico', (ctx) => {
      ctx.status = 204;
    });
    router.get('/assets/:name', (ctx) => serveAsset(ctx, deps.assets));
    router.post('/submit', (ctx) => submitForm(ctx, deps));
    router.get('/status', (ctx) => statusPage(ctx, deps));
    router.post('/cancel', (ctx) => cancelForm(ctx, deps));
  };
}

function answerHtml(ctx: Koa.Context, status: number, title: string, main: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', PAGE_CSP);
  ctx.body = layout(title, main);
}

/** A refusal as a page, with the status and code the API would answer (or the page's own, for a transaction it cannot read). */
function refusedPage(ctx: Koa.Context, refusal: { readonly code: Refusal['code'] | 'invalid_transaction'; readonly message: string }): void {
  answerHtml(ctx, PAGE_STATUS[refusal.code], 'Refused', problemHtml(refusal.code, refusal.message));
}

function serveAsset(ctx: Koa.Context, assets: ReadonlyMap<string, PageAsset>): void {
  const asset = assets.get(ctx.path);
  if (!asset) throw new HttpRefusal('not_found', `no asset ${ctx.path}`);
  ctx.type = asset.type;
  ctx.body = asset.body;
}

/** The form, or null once a refusal page has been answered (too large, not a form). */
async function formOrRefusal(ctx: Koa.Context, limitBytes: number): Promise<URLSearchParams | null> {
  try {
    return await readForm(ctx, limitBytes);
  } catch (err) {
    if (!(err instanceof HttpRefusal)) throw err;
    refusedPage(ctx, err);
    return null;
  }
}

async function submitForm(ctx: Koa.Context, deps: PageDeps): Promise<void> {
  // Refused before the transaction is read: a form cannot carry a stamp, and the server does no work for free.
  const { bits } = deps.admission();
  if (bits > 0) {
    await dropBody(ctx);
    return refusedPage(ctx, { code: 'stamp_required', message: `This server is busy and asks every submission for a proof of work (${bits} bits or more). ${NO_JS_WORK}` });
  }
  const form = await formOrRefusal(ctx, submitBodyLimit(deps.limits));
  if (!form) return;
  const sealed = sealFormTransaction(form, deps.keys.current.publicKey);
  if (sealed instanceof BadTransactionError) return refusedPage(ctx, { code: 'invalid_transaction', message: sealed.message });
  const outcome = await deps.intake.submit(formRequest(form, sealed, deps.keys.current.keyId));
  if (outcome.kind === 'refused') return refusedPage(ctx, outcome);
  const isNew = outcome.kind === 'accepted';
  answerHtml(ctx, isNew ? 201 : 200, 'Stored', receiptHtml(outcome.body, sealed.txid, isNew));
}

function sealFormTransaction(form: URLSearchParams, publicKey: Uint8Array): SealedTransaction | BadTransactionError {
  try {
    return sealTransaction(publicKey, parseTransaction((form.get('tx') ?? '').replace(/\s+/g, '')));
  } catch (err) {
    if (err instanceof BadTransactionError) return err;
    throw err;
  }
}

/** The API's request body for what the form handed in; Intake judges the window as typed. */
function formRequest(form: URLSearchParams, sealed: SealedTransaction, keyId: string): SubmitRequest {
  const windowText = (form.get('window') ?? '').trim();
  return submitRequestOf(sealed, keyId, windowText !== '' ? Number(windowText) : undefined);
}

async function statusPage(ctx: Koa.Context, deps: PageDeps): Promise<void> {
  const id = String(ctx.query.id ?? '').trim().toLowerCase();
  const outcome = await deps.intake.status(id);
  if (outcome.kind === 'refused') return refusedPage(ctx, outcome);
  answerHtml(ctx, 200, 'Status', statusHtml(outcome.view));
}

async function cancelForm(ctx: Koa.Context, deps: PageDeps): Promise<void> {
  const form = await formOrRefusal(ctx, 4096);
  if (!form) return;
  const id = (form.get('id') ?? '').trim().toLowerCase();
  const token = (form.get('token') ?? '').trim().toLowerCase();
  const outcome = await deps.intake.cancel(id, token ? `Bearer ${token}` : undefined);
  if (outcome.kind === 'refused') return refusedPage(ctx, outcome);
  answerHtml(ctx, 200, 'Cancelled', cancelledHtml(outcome.id));
}
