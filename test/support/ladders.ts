// Fee ladders for tests (SPEC §7): rungs that are versions of one spend at rising fees, as the
// padded RSB1 plaintext a client seals and the Ladder the server should open from it.
import { randomBytes } from 'node:crypto';
import { pad } from '../../src/crypto/padding.js';
import { encodeBundle, type Ladder } from '../../src/domain/bundle.js';
import { makeTx, P2A_SCRIPT } from './txs.js';

export const COIN_VALUE = 100_000;

/** One rung per fee (satoshis, rising), each spending `coin` (default: a random one) to one output. */
export function ladderPlaintext(locktime: number, fees: readonly number[], coin = { txid: randomBytes(32).toString('hex'), vout: 0 }): { plaintext: Uint8Array; ladder: Ladder } {
  const drafts = fees.map((fee) => ({
    fee: BigInt(fee),
    txs: [makeTx({ locktime, inputs: [coin], segwit: true, outs: [{ script: '0014' + '33'.repeat(20), value: BigInt(COIN_VALUE - fee) }] }).bytes],
  }));
  const encoded = encodeBundle(drafts, locktime);
  if (encoded.kind !== 'ok') throw new Error(`test bundle is invalid: ${encoded.code}`);
  return { plaintext: pad(encoded.plaintext), ladder: encoded.ladder };
}

/**
 * A ladder of packages sharing one zero-fee v3 parent with an anchor (P2A): rung i is [parent, child
 * i], each child spending the anchor and one funding coin at `fees[i]` (satoshis, rising).
 */
export function sharedParentPlaintext(locktime: number, fees: readonly number[]): { plaintext: Uint8Array; ladder: Ladder } {
  const parent = makeTx({ locktime, version: 3, inputs: [{ txid: randomBytes(32).toString('hex'), vout: 0 }], outs: [{ script: '0014' + '44'.repeat(20), value: BigInt(COIN_VALUE) }, { script: P2A_SCRIPT, value: 0n }] });
  const funding = { txid: randomBytes(32).toString('hex'), vout: 0 };
  const drafts = fees.map((fee) => ({
    fee: BigInt(fee),
    txs: [parent.bytes, makeTx({ locktime: 0, version: 3, inputs: [{ txid: parent.txid, vout: 1 }, funding], segwit: true, outs: [{ script: '0014' + '55'.repeat(20), value: BigInt(COIN_VALUE - fee) }] }).bytes],
  }));
  const encoded = encodeBundle(drafts, locktime);
  if (encoded.kind !== 'ok') throw new Error(`test bundle is invalid: ${encoded.code}`);
  return { plaintext: pad(encoded.plaintext), ladder: encoded.ladder };
}
