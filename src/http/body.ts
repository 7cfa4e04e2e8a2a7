// Reads request bodies (JSON for the API, urlencoded forms for the page) with the size limit enforced
// while streaming, before any parsing; a client that stalls or leaves is let go at once.
import type { Context } from 'koa';
import type { IncomingMessage } from 'node:http';
import { ClientGone, HttpRefusal } from './errors.js';

/** A body that stops arriving for this long is given up (Node's requestTimeout bounds the whole). */
const BODY_IDLE_MS = 10_000;
/**
 * After the limit, what is still read and thrown away before the 413 goes out: a client that sends
 * everything before it reads (Python's urllib) would otherwise meet a reset instead of the answer.
 * nginx's lingering close does the same; beyond this the connection is closed.
 */
const DRAIN_MAX_BYTES = 16 * 1024 * 1024;

export async function readJson(ctx: Context, limitBytes: number): Promise<unknown> {
  const type = ctx.request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpRefusal('unsupported_media_type', 'the body must be application/json');
  }
  const text = await readText(ctx, limitBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpRefusal('invalid_json', 'the body is not valid JSON');
  }
}

/** An HTML form post (application/x-www-form-urlencoded), as browsers send without JavaScript. */
export async function readForm(ctx: Context, limitBytes: number): Promise<URLSearchParams> {
  const type = ctx.request.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new HttpRefusal('unsupported_media_type', 'the body must be a form (application/x-www-form-urlencoded)');
  }
  return new URLSearchParams(await readText(ctx, limitBytes));
}

/**
 * For a refusal decided before the body is read (a busy server refusing a form): the body is read and
 * dropped as for a 413, up to DRAIN_MAX_BYTES, so that a client that sends everything before it reads
 * meets the answer and not a reset; the connection is closed after the answer (a busy server keeps no
 * idle connection for a client it refused). A body not asked for yet (100-continue) is not read.
 */
export async function dropBody(ctx: Context): Promise<void> {
  ctx.set('Connection', 'close');
  const { expects, declared } = announced(ctx);
  if (expects || declared > DRAIN_MAX_BYTES) return;
  const body = await readBody(ctx.req, 0);
  if (body.kind === 'gone') throw new ClientGone(body.reason);
}

/** What the headers say of the body: whether it waits to be asked for, and its declared length (NaN if none). */
function announced(ctx: Context): { readonly expects: boolean; readonly declared: number } {
  return {
    expects: /^100-continue$/i.test(ctx.request.headers.expect ?? ''),
    declared: Number(ctx.request.headers['content-length'] ?? Number.NaN),
  };
}

async function readText(ctx: Context, limitBytes: number): Promise<string> {
  const { expects, declared } = announced(ctx);
  if (declared > limitBytes && (expects || declared > DRAIN_MAX_BYTES)) {
    // The body was not asked for yet (or is more than is worth reading): answer now, then close.
    ctx.set('Connection', 'close');
    throw tooLarge(limitBytes);
  }
  // The server leaves `Expect: 100-continue` to us (server.ts): the body is asked for only now.
  if (expects) ctx.res.writeContinue();
  const body = await readBody(ctx.req, limitBytes);
  if (body.kind === 'gone') throw new ClientGone(body.reason);
  if (body.kind === 'too_large') {
    if (!body.drained) ctx.set('Connection', 'close');
    throw tooLarge(limitBytes);
  }
  return body.text;
}

function tooLarge(limitBytes: number): HttpRefusal {
  return new HttpRefusal('payload_too_large', `the body is larger than ${limitBytes} bytes`);
}

type Body =
  | { readonly kind: 'text'; readonly text: string }
  /** `drained`: the whole body was read (and dropped), so the answer can be read before any close. */
  | { readonly kind: 'too_large'; readonly drained: boolean }
  | { readonly kind: 'gone'; readonly reason: 'aborted' | 'timeout' };

/** Keeps up to `keep` bytes; past them reads on and drops, up to DRAIN_MAX_BYTES in all. */
function readBody(req: IncomingMessage, keep: number): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (body: Body) => {
      clearTimeout(idle);
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onGone);
      if (body.kind !== 'text') req.pause();
      resolve(body);
    };
    const idle = setTimeout(() => settle({ kind: 'gone', reason: 'timeout' }), BODY_IDLE_MS);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= keep) chunks.push(chunk);
      else if (size > DRAIN_MAX_BYTES) return settle({ kind: 'too_large', drained: false });
      idle.refresh();
    };
    const onEnd = () => settle(size > keep ? { kind: 'too_large', drained: true } : { kind: 'text', text: Buffer.concat(chunks, size).toString('utf8') });
    const onGone = () => settle({ kind: 'gone', reason: 'aborted' });
    req.on('data', onData).once('end', onEnd).once('error', onGone).once('close', onGone);
  });
}
