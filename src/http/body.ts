// Reads request bodies (JSON for the API, urlencoded forms for the page) with the size limit
// enforced while streaming, before any parsing.
import type { Context } from 'koa';
import { HttpRefusal } from './errors.js';

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

async function readText(ctx: Context, limitBytes: number): Promise<string> {
  const declared = Number(ctx.request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    throw new HttpRefusal('payload_too_large', `the body is larger than ${limitBytes} bytes`);
  }
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const req = ctx.req;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        // Stop reading; the connection is closed after the answer so the rest is never buffered.
        req.off('data', onData);
        req.pause();
        ctx.set('Connection', 'close');
        reject(new HttpRefusal('payload_too_large', `the body is larger than ${limitBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8')));
    req.once('error', reject);
  });
  return text;
}
