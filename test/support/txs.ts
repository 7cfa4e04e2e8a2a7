// Builds unsigned but well-formed Bitcoin transactions for tests: the test explorer checks
// serialization, finality and double spends, never scripts, so no keys are needed.
import { createHash, randomBytes } from 'node:crypto';
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
  /** Explicit outputs (script hex, value in sat) instead of `outputs` P2WPKH-shaped ones. */
  outs?: Array<{ script: string; value: bigint }>;
  /** Where the dummy bytes come from: `seededBytes(seed)` makes the transaction reproducible (fixtures). */
  random?: (n: number) => Buffer;
}

/** Deterministic "random" bytes (SHA-256 in counter mode) so that fixture generators write the same file twice. */
export function seededBytes(seed: string): (n: number) => Buffer {
  let counter = 0;
  return (n) => {
    const chunks: Buffer[] = [];
    for (let have = 0; have < n; have += 32) chunks.push(createHash('sha256').update(`${seed}/${counter++}`).digest());
    return Buffer.concat(chunks).subarray(0, n);
  };
}

/** Pay-to-anchor (OP_1 <0x4e73>): anyone can spend it, so anyone can bump the fee (Core 28+). */
export const P2A_SCRIPT = '51024e73';

/** A random P2WPKH-shaped output script, in hex. */
export function p2wpkhScript(): string {
  return '0014' + randomBytes(20).toString('hex');
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
  const random = opts.random ?? randomBytes;
  const tx = new Transaction();
  tx.version = opts.version ?? 2;
  tx.locktime = opts.locktime;
  const inputs = opts.inputs ?? [{ txid: random(32).toString('hex'), vout: 0 }];
  if (inputs.length === 0) throw new RangeError('a transaction needs at least one input');
  for (const input of inputs) {
    if (!/^[0-9a-fA-F]{64}$/.test(input.txid)) throw new RangeError(`not a txid: ${input.txid}`);
    // Txids are displayed byte-reversed relative to the serialized outpoint hash.
    const hash = Buffer.from(input.txid, 'hex').reverse();
    tx.addInput(hash, input.vout, input.sequence ?? LOCKTIME_SEQUENCE);
  }
  const outs = opts.outs ?? Array.from({ length: opts.outputs ?? 1 }, (_, i) => ({ script: '0014' + random(20).toString('hex'), value: 50_000n + BigInt(i) }));
  if (outs.length < 1) throw new RangeError('a transaction needs at least one output');
  for (const out of outs) tx.addOutput(Buffer.from(out.script, 'hex'), out.value);
  if (opts.segwit) {
    for (let i = 0; i < inputs.length; i++) {
      // DER-looking signature (71 bytes incl. sighash byte) and a compressed pubkey, so sizes are realistic.
      const sig = Buffer.concat([Buffer.from([0x30, 0x44]), random(68), Buffer.from([0x01])]);
      const pubkey = Buffer.concat([Buffer.from([0x02]), random(32)]);
      tx.setWitness(i, [sig, pubkey]);
    }
  }
  const bytes = Buffer.from(tx.toBuffer());
  return { hex: bytes.toString('hex'), txid: tx.getId(), bytes, tx };
}
