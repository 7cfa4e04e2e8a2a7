// The HTTP API of SPEC §3 as a Koa app. It translates requests to Intake calls and outcomes to
// answers shaped by the wire contract (src/wire); tests drive it through app.callback() without a port.
import Koa from 'koa';
import Router from '@koa/router';
import type { Intake } from '../engine/intake.js';
import type { Refusal } from '../domain/outcomes.js';
import type { Tip } from '../domain/locktime.js';
import type { AdmissionLevel } from '../domain/admission.js';
import type { KeyRing } from '../keys/keyring.js';
import { ClientGone, errorBody, HTTP_STATUS, HttpRefusal, isClientGone } from './errors.js';
import { readJson } from './body.js';
import { openApiDocument } from './openapi.js';
import { describeError, type Logger } from '../util/log.js';
import { Tally } from '../util/tally.js';
import { systemClock } from '../util/clock.js';
import { VERSION, type CancelAnswer, type Fees, type ServerInfo } from '../wire/answers.js';
import { MAX_RUNGS, MAX_TX_PER_RUNG } from '../domain/bundle.js';
import type { Network } from '../wire/vocabulary.js';
import { submitBodyLimit } from '../wire/submit-request.js';

export interface AppDeps {
  readonly intake: Intake;
  readonly keys: KeyRing;
  readonly network: Network;
  readonly tip: () => Tip | null;
  readonly onion: () => string | null;
  readonly limits: { readonly maxSealedBytes: number; readonly maxWindowSeconds: number };
  /** SPEC §7: --fee-target, --fee-bump-blocks and the explorers' current estimate. */
  readonly fees: () => Fees;
  /** SPEC §8: what a submission costs now. */
  readonly admission: () => AdmissionLevel;
  readonly log: Logger;
  /** Where aborts and timeouts are counted (default: counted, never written, as tests without a server want). */
  readonly tally?: Tally;
  /** Extra routes mounted before the API's fallbacks (the page of the client issue). */
  readonly extraRoutes?: (router: Router) => void;
}

export type InfoDeps = Pick<AppDeps, 'keys' | 'network' | 'tip' | 'onion' | 'limits' | 'fees' | 'admission'>;

/** The /v1/info answer; the page shows the same. */
export function serverInfo(deps: InfoDeps): ServerInfo {
  const current = deps.keys.current;
  return {
    name: 'relaystore',
    version: VERSION,
    network: deps.network,
    sealing: { scheme: 'curve25519-xsalsa20-poly1305-sealedbox', publicKey: Buffer.from(current.publicKey).toString('hex'), keyId: current.keyId },
    receipts: { scheme: 'ed25519', publicKey: Buffer.from(deps.keys.receiptPublicKey).toString('hex') },
    tip: deps.tip(),
    limits: { maxSealedBytes: deps.limits.maxSealedBytes, maxWindowSeconds: deps.limits.maxWindowSeconds, maxRungs: MAX_RUNGS, maxTxPerRung: MAX_TX_PER_RUNG },
    onion: deps.onion(),
    fees: deps.fees(),
    admission: deps.admission(),
  };
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  const router = new Router();
  const tally = deps.tally ?? new Tally(deps.log, systemClock);
  // Instead of Koa's default, which prints a stack trace on stderr for every client that leaves.
  app.on('error', (err: unknown, ctx?: Koa.Context) => {
    if (isClientGone(err)) return tally.count('client_aborts', ctx?.req.socket);
    deps.log.log('error', 'http_error', { error: describeError(err) });
  });
  app.use(answerErrors(deps.log, tally));
  apiRoutes(router, deps);
  deps.extraRoutes?.(router);
  app.use(router.routes());
  app.use(
    router.allowedMethods({
      throw: true,
      methodNotAllowed: () => new HttpRefusal('method_not_allowed', 'this path does not take that method'),
      notImplemented: () => new HttpRefusal('method_not_allowed', 'this method is not supported'),
    }),
  );
  return app;
}

/** Sets the headers of every answer and turns refusals and failures into SPEC error bodies. */
function answerErrors(log: Logger, tally: Tally): Koa.Middleware {
  return async (ctx, next) => {
    // No referrer leaves, nothing is sniffed or framed; the page (page.ts) widens the CSP for itself.
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new HttpRefusal('not_found', `no route for ${ctx.path}`);
    } catch (err) {
      if (err instanceof HttpRefusal) return refused(ctx, err);
      if (isClientGone(err)) return gone(ctx, err, tally);
      log.log('error', 'http_internal_error', { error: describeError(err) });
      ctx.status = 500;
      ctx.body = errorBody('internal_error', 'internal error');
    } finally {
      ctx.set('Cache-Control', 'no-store');
    }
  };
}

/** Nothing to answer: the client left or stalled. Counted once per connection, which is let go. */
function gone(ctx: Koa.Context, err: unknown, tally: Tally): void {
  tally.count(err instanceof ClientGone && err.reason === 'timeout' ? 'client_timeouts' : 'client_aborts', ctx.req.socket);
  ctx.respond = false;
  ctx.req.socket.destroy();
}

function refused(ctx: Koa.Context, refusal: Pick<Refusal, 'code' | 'message'>): void {
  ctx.status = HTTP_STATUS[refusal.code];
  ctx.body = errorBody(refusal.code, refusal.message);
}

function apiRoutes(router: Router, deps: AppDeps): void {
  const openApi = openApiDocument(deps.limits);
  router.get('/v1/info', (ctx) => {
    ctx.body = serverInfo(deps);
  });
  router.get('/v1/openapi.json', (ctx) => {
    ctx.body = openApi;
  });
  router.post('/v1/transactions', (ctx) => submit(ctx, deps));
  router.get('/v1/transactions/:id', async (ctx) => {
    const outcome = await deps.intake.status(ctx.params.id ?? '');
    if (outcome.kind === 'refused') return refused(ctx, outcome);
    ctx.body = outcome.view;
  });
  router.delete('/v1/transactions/:id', async (ctx) => {
    const outcome = await deps.intake.cancel(ctx.params.id ?? '', ctx.get('Authorization') || undefined);
    if (outcome.kind === 'refused') return refused(ctx, outcome);
    ctx.body = { id: outcome.id, status: 'cancelled' } satisfies CancelAnswer;
  });
}

async function submit(ctx: Koa.Context, deps: AppDeps): Promise<void> {
  // Hex doubles the sealed size; the rest of the JSON is small.
  const body = await readJson(ctx, submitBodyLimit(deps.limits));
  let outcome;
  try {
    outcome = await deps.intake.submit(body);
  } catch (err) {
    // Not stored: say so plainly, so the client keeps its transaction and retries.
    deps.log.log('error', 'submit_failed', { error: describeError(err) });
    throw new HttpRefusal('unavailable', 'the submission could not be stored; nothing was kept, try again');
  }
  if (outcome.kind === 'refused') return refused(ctx, outcome);
  ctx.status = outcome.kind === 'accepted' ? 201 : 200;
  ctx.body = outcome.body;
}
