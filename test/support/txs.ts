// Builds unsigned but well-formed Bitcoin transactions for tests: the test explorer checks
// serialization, finality and double spends, never scripts, so no keys are needed.
import { randomBytes } from 'node:crypto';
import { Transaction } from 'bitcoinjs-lib';

export interface TestTx {
  hex: string;
  txid: string;
  /** The exact serialization (with witness data when `segwit`). */
  bytes: Buffer;
  tx: Transaction;
}

export interface MakeTxOptions {
  locktime: number;
  /** Default: one input spending a random previous txid, vout 0. */
  inputs?: Array<{ txid: string; vout: number; sequence?: number }>;
  /** How many outputs (default 1), each a P2WPKH-shaped script. */
  outputs?: number;
  /** Default 2, as modern wallets write. */
  version?: number;
  /** Adds a dummy signature + pubkey witness to every input. */
  segwit?: boolean;
}

/** 0xfffffffe: not final (so nLockTime is enforced) yet opts out of BIP68 and BIP125 signalling. */
export const LOCKTIME_SEQUENCE = 0xfffffffe;

export function randomTxid(): string {
  return randomBytes(32).toString('hex');
}

export function makeTx(opts: MakeTxOptions): TestTx {
  if (!Number.isInteger(opts.locktime) || opts.locktime < 0 || opts.locktime > 0xffffffff) {
    throw new RangeError(`locktime must be a uint32, got ${opts.locktime}`);
  }
  const tx = new Transaction();
  tx.version = opts.version ?? 2;
  tx.locktime = opts.locktime;
  const inputs = opts.inputs ?? [{ txid: randomTxid(), vout: 0 }];
  if (inputs.length === 0) throw new RangeError('a transaction needs at least one input');
  for (const input of inputs) {
    if (!/^[0-9a-fA-F]{64}$/.test(input.txid)) throw new RangeError(`not a txid: ${input.txid}`);
    // Txids are displayed byte-reversed relative to the serialized outpoint hash.
    const hash = Buffer.from(input.txid, 'hex').reverse();
    tx.addInput(hash, input.vout, input.sequence ?? LOCKTIME_SEQUENCE);
  }
  const outputs = opts.outputs ?? 1;
  if (!Number.isInteger(outputs) || outputs < 1) throw new RangeError('a transaction needs at least one output');
  for (let i = 0; i < outputs; i++) {
    tx.addOutput(Buffer.concat([Buffer.from([0x00, 0x14]), randomBytes(20)]), 50_000n + BigInt(i));
  }
  if (opts.segwit) {
    for (let i = 0; i < inputs.length; i++) {
      // DER-looking signature (71 bytes incl. sighash byte) and a compressed pubkey, so sizes are realistic.
      const sig = Buffer.concat([Buffer.from([0x30, 0x44]), randomBytes(68), Buffer.from([0x01])]);
      const pubkey = Buffer.concat([Buffer.from([0x02]), randomBytes(32)]);
      tx.setWitness(i, [sig, pubkey]);
    }
  }
  const bytes = Buffer.from(tx.toBuffer());
  return { hex: bytes.toString('hex'), txid: tx.getId(), bytes, tx };
}
