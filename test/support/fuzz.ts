// Shared settings and generators for property tests: run counts sized for CI, a failing run
// replayable from its seed, and Bitcoin transactions built from their parts (any version,
// counts, scripts, witnesses; CompactSizes written canonically or wider than needed).
import { fc } from '@fast-check/ava';
import { Transaction } from 'bitcoinjs-lib';

/**
 * fast-check parameters: `numRuns` runs, from a fresh seed each time unless FC_SEED (and FC_PATH)
 * replay one. A failure prints its seed and path: `FC_SEED=… FC_PATH=… npx ava dist/test/x.test.js`.
 */
export function runs<T>(numRuns: number): fc.Parameters<T> {
  const seed = process.env.FC_SEED;
  const path = process.env.FC_PATH;
  return { numRuns, ...(seed ? { seed: Number(seed) } : {}), ...(path ? { path } : {}) };
}

const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });

/** A transaction's parts, as anyone could write them: nothing about them need be standard. */
export interface TxParts {
  readonly version: number;
  readonly locktime: number;
  readonly ins: ReadonlyArray<{ hash: Uint8Array; index: number; sequence: number; script: Uint8Array; witness: Uint8Array[] }>;
  readonly outs: ReadonlyArray<{ script: Uint8Array; value: bigint }>;
}

/** Locktimes with the kind boundaries (height/time, uint32) weighted in. */
export const locktimeArb = fc.oneof(fc.constantFrom(0, 499_999_999, 500_000_000, 0xffffffff), uint32);

export const txPartsArb: fc.Arbitrary<TxParts> = fc.record({
  version: fc.oneof(fc.constantFrom(1, 2, 3), uint32),
  locktime: locktimeArb,
  ins: fc.array(
    fc.record({
      hash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      index: uint32,
      sequence: uint32,
      script: bytes(80),
      witness: fc.array(bytes(80), { maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  outs: fc.array(fc.record({ script: bytes(60), value: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }) }), { minLength: 1, maxLength: 4 }),
});

/** The canonical serialization, through bitcoinjs-lib (segwit when any input has a witness). */
export function serializeTx(parts: TxParts): Uint8Array {
  const tx = new Transaction();
  tx.version = parts.version;
  tx.locktime = parts.locktime;
  parts.ins.forEach((input, i) => {
    tx.addInput(input.hash, input.index, input.sequence, input.script);
    tx.setWitness(i, input.witness);
  });
  for (const out of parts.outs) tx.addOutput(out.script, out.value);
  return tx.toBuffer();
}

/** A CompactSize in `width` bytes (1, 3, 5 or 9), or the shortest that holds `n` when width is too small. */
function compactSize(n: number, width: number): number[] {
  const w = n < 0xfd && width <= 1 ? 1 : n <= 0xffff && width <= 3 ? 3 : width <= 5 ? 5 : 9;
  if (w === 1) return [n];
  const out = [w === 3 ? 0xfd : w === 5 ? 0xfe : 0xff];
  for (let i = 0; i < w - 1; i++) out.push(i < 6 ? Math.floor(n / 2 ** (8 * i)) & 0xff : 0);
  return out;
}

/** Writes the parts by hand, each CompactSize in the width `widths` gives it (cycled): the grammar, not Core's rule. */
export function serializeTxWith(parts: TxParts, widths: readonly number[]): Uint8Array {
  let k = 0;
  const size = (n: number) => compactSize(n, widths.length === 0 ? 1 : widths[k++ % widths.length]!);
  const le = (n: number | bigint, length: number) => Array.from({ length }, (_, i) => Number((BigInt(n) >> BigInt(8 * i)) & 0xffn));
  const slice = (b: Uint8Array) => [...size(b.length), ...b];
  const segwit = parts.ins.some((i) => i.witness.length > 0);
  const out = [...le(parts.version, 4), ...(segwit ? [0, 1] : []), ...size(parts.ins.length)];
  for (const i of parts.ins) out.push(...i.hash, ...le(i.index, 4), ...slice(i.script), ...le(i.sequence, 4));
  out.push(...size(parts.outs.length));
  for (const o of parts.outs) out.push(...le(o.value, 8), ...slice(o.script));
  if (segwit) for (const i of parts.ins) out.push(...size(i.witness.length), ...i.witness.flatMap(slice));
  out.push(...le(parts.locktime, 4));
  return Uint8Array.from(out);
}

/** CompactSize widths: mostly the shortest (1 asks for it), now and then wider than needed. */
export const widthsArb = fc.array(fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(3, 5, 9) }), { maxLength: 12 });

/** One edit of a byte string: change, insert, delete, cut or extend. */
export type Mutation = (b: Uint8Array) => Uint8Array;

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, delta]): Mutation => (b) => {
    const out = Uint8Array.from(b);
    if (out.length > 0) out[at % out.length] = (out[at % out.length]! + delta) & 0xff;
    return out;
  }),
  fc.tuple(fc.nat(), bytes(8)).map(([at, add]): Mutation => (b) => concat(b.subarray(0, at % (b.length + 1)), add, b.subarray(at % (b.length + 1)))),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 8 })).map(([at, n]): Mutation => (b) => concat(b.subarray(0, at % (b.length + 1)), b.subarray((at % (b.length + 1)) + n))),
  fc.nat().map((at): Mutation => (b) => b.subarray(0, at % (b.length + 1))),
  bytes(8).map((add): Mutation => (b) => concat(b, add)),
);

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
