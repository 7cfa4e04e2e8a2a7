// The HTTP API of SPEC §3 as a Koa app. It translates requests to Intake calls and outcomes to
// answers; tests drive it through app.callback() without opening a port.
import Koa from 'koa';
import Router from '@koa/router';
import type { Intake } from '../engine/intake.js';
import type { Refusal } from '../domain/outcomes.js';
import type { Tip } from '../domain/locktime.js';
import type { KeyRing } from '../keys/keyring.js';
import { errorBody, HTTP_STATUS, HttpRefusal } from './errors.js';
import { readJson } from './body.js';
import { describeError, type Logger } from '../util/log.js';

export type Network = 'bitcoin' | 'testnet' | 'testnet4' | 'signet' | 'regtest';

export interface AppDeps {
  readonly intake: Intake;
  readonly keys: KeyRing;
  readonly network: Network;
  readonly tip: () => Tip | null;
  readonly onion: () => string | null;
  readonly limits: { readonly maxSealedBytes: number; readonly maxWindowSeconds: number };
  readonly log: Logger;
  /** Extra routes mounted before the API's fallbacks (the page of the client issue). */
  readonly extraRoutes?: (router: Router) => void;
}

export const VERSION = '1.0.0';

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  const router = new Router();
  // Hex doubles the sealed size; the rest of the JSON is small.
  const bodyLimit = deps.limits.maxSealedBytes * 2 + 4096;

  app.use(async (ctx, next) => {
    // No referrer leaves, nothing is sniffed or framed; the page (page.ts) widens the CSP for itself.
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new HttpRefusal('not_found', `no route for ${ctx.path}`);
    } catch (err) {
      if (err instanceof HttpRefusal) {
        ctx.status = HTTP_STATUS[err.code];
        ctx.body = errorBody(err.code, err.message);
      } else {
        deps.log.log('error', 'http_internal_error', { error: describeError(err) });
        ctx.status = 500;
        ctx.body = errorBody('internal_error', 'internal error');
      }
    }
    ctx.set('Cache-Control', 'no-store');
  });

  const answer = (ctx: Koa.Context, refusal: Refusal) => {
    ctx.status = HTTP_STATUS[refusal.code];
    ctx.body = errorBody(refusal.code, refusal.message);
  };

  router.get('/v1/info', (ctx) => {
    const current = deps.keys.current;
    ctx.body = {
      name: 'relaystore',
      version: VERSION,
      network: deps.network,
      sealing: {
        scheme: 'curve25519-xsalsa20-poly1305-sealedbox',
        publicKey: Buffer.from(current.publicKey).toString('hex'),
        keyId: current.keyId,
      },
      receipts: { scheme: 'ed25519', publicKey: Buffer.from(deps.keys.receiptPublicKey).toString('hex') },
      tip: deps.tip(),
      limits: { maxSealedBytes: deps.limits.maxSealedBytes, maxWindowSeconds: deps.limits.maxWindowSeconds },
      onion: deps.onion(),
    };
  });

  router.post('/v1/transactions', async (ctx) => {
    const body = await readJson(ctx, bodyLimit);
    let outcome;
    try {
      outcome = await deps.intake.submit(body);
    } catch (err) {
      // Not stored: say so plainly, so the client keeps its transaction and retries.
      deps.log.log('error', 'submit_failed', { error: describeError(err) });
      throw new HttpRefusal('unavailable', 'the submission could not be stored; nothing was kept, try again');
    }
    switch (outcome.kind) {
      case 'accepted':
        ctx.status = 201;
        ctx.body = outcome.body;
        return;
      case 'already_known':
        ctx.status = 200;
        ctx.body = outcome.body;
        return;
      case 'refused':
        return answer(ctx, outcome);
    }
  });

  router.get('/v1/transactions/:id', async (ctx) => {
    const outcome = await deps.intake.status(ctx.params.id ?? '');
    if (outcome.kind === 'refused') return answer(ctx, outcome);
    ctx.body = outcome.view;
  });

  router.delete('/v1/transactions/:id', async (ctx) => {
    const outcome = await deps.intake.cancel(ctx.params.id ?? '', ctx.get('Authorization') || undefined);
    if (outcome.kind === 'refused') return answer(ctx, outcome);
    ctx.body = { id: outcome.id, status: 'cancelled' };
  });

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
