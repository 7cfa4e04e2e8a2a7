// `relaystore submit --rung ITEM[,ITEM...]`: one --rung per alternative of a SPEC §7 bundle, cheapest
// first; an ITEM is a signed PSBT or a raw transaction followed by `:FEE` (satoshis).
import { readFile } from 'node:fs/promises';
import type { RungItem } from '../client/bundle-builder.js';

export class RungUsageError extends Error {}

/** One rung as typed: its items, a package (a child paying for its parents) when several, parents first. Each item is
 * `@FILE`, a path, or inline hex / base64, with an optional `:FEE`. */
export async function readRung(arg: string, r: number): Promise<RungItem[]> {
  const items = arg.split(',').filter((s) => s.trim() !== '');
  if (items.length === 0) throw new RungUsageError(`--rung ${r + 1} names no transaction`);
  return Promise.all(items.map((item, t) => readItem(item.trim(), `--rung ${r + 1}, item ${t + 1}`)));
}

async function readItem(item: string, where: string): Promise<RungItem> {
  const m = /^(.*):(\d+)$/.exec(item);
  const [source, fee] = m ? [m[1]!, BigInt(m[2]!)] : [item, null];
  const content = await contentOf(source, where);
  if (isPsbt(content)) {
    if (fee !== null) throw new RungUsageError(`${where} is a PSBT: its fee comes from its inputs, drop ":${fee}"`);
    return { psbt: content };
  }
  if (fee === null) throw new RungUsageError(`${where} is a raw transaction: give its fee in satoshis after a colon (${source}:FEE)`);
  return { tx: content, fee };
}

const INLINE = /^(?:[0-9a-fA-F]+|cHNidP8[A-Za-z0-9+/=]*)$/;

/** Text (hex, base64) stays text; a file of raw bytes stays bytes. */
async function contentOf(source: string, where: string): Promise<string | Uint8Array> {
  if (!source.startsWith('@') && INLINE.test(source)) return source;
  const path = source.startsWith('@') ? source.slice(1) : source;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new RungUsageError(`${where}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const text = bytes.toString('latin1').trim();
  return /^[0-9a-zA-Z+/=]+$/.test(text) ? text : bytes;
}

/** PSBT magic ("psbt\xff") in binary, hex or base64. */
function isPsbt(content: string | Uint8Array): boolean {
  if (typeof content !== 'string') return Buffer.from(content.subarray(0, 5)).toString('latin1') === 'psbt\xff';
  return content.startsWith('cHNidP8') || content.toLowerCase().startsWith('70736274ff');
}
