// Writes test/fixtures/bundles.json (SPEC §7 opening rules, valid and invalid rows) from seeded
// transactions, so the table is reproducible: `node dist/test/support/bundle-fixtures.js > test/fixtures/bundles.json`.
// Expected ladders are computed here from bitcoinjs-lib directly, not from the module under test.
import { pathToFileURL } from 'node:url';
import { makeTx, seededBytes, type MakeTxOptions, type TestTx } from './txs.js';

export interface FixtureRung {
  fee: number | string;
  /** Names in `transactions`, parents first. */
  txs: string[];
}

/** Changes to the RSB1 frame that a client could not write: for layout rows only. */
export interface FrameEdit {
  rungCount?: number;
  /** Added to the last transaction's length field. */
  lastLengthDelta?: number;
  /** Bytes cut from the end of the frame (before any padding). */
  cut?: number;
}

export interface BundleRow {
  description: string;
  declaredLocktime: number;
  rungs: FixtureRung[];
  padTo: number;
  frame?: FrameEdit;
  poke?: { position: 'after_bundle' | 'last'; value: number };
  ladder?: Array<{ fee: string; vsize: number; feeRate: number; txids: string[]; wtxids: string[] }>;
  code?: string;
}

export interface BundleFixtures {
  comment: string;
  transactions: Record<string, string>;
  valid: BundleRow[];
  invalid: BundleRow[];
}

const L = 850_000;
const T = 1_718_000_000;
const P2A = '51024e73';
const P2WPKH = (name: string) => '0014' + seededBytes(`script/${name}`)(20).toString('hex');

class World {
  readonly txs = new Map<string, TestTx>();
  readonly raw = new Map<string, string>();

  add(name: string, opts: Omit<MakeTxOptions, 'random'>): TestTx {
    const tx = makeTx({ segwit: true, ...opts, random: seededBytes(`tx/${name}`) });
    this.txs.set(name, tx);
    return tx;
  }

  utxo(name: string): { txid: string; vout: number } {
    return { txid: seededBytes(`utxo/${name}`)(32).toString('hex'), vout: 0 };
  }

  /** A 1-in 1-out segwit spend of `from`: changing `value` gives another version of the same spend. */
  spend(name: string, from: { txid: string; vout: number }, value: number, locktime = L, extra: Partial<MakeTxOptions> = {}): TestTx {
    return this.add(name, { locktime, inputs: [from], outs: [{ script: P2WPKH('dest'), value: BigInt(value) }], ...extra });
  }

  hexes(): Record<string, string> {
    return Object.fromEntries([...[...this.txs].map(([n, t]) => [n, t.hex] as const), ...this.raw]);
  }

  ladder(rungs: FixtureRung[]): BundleRow['ladder'] {
    return rungs.map((r) => {
      const txs = r.txs.map((n) => this.txs.get(n)!);
      const vsize = txs.reduce((s, t) => s + t.tx.virtualSize(), 0);
      const wtxids = txs.map((t) => Buffer.from(t.tx.getHash(true)).reverse().toString('hex'));
      return { fee: String(r.fee), vsize, feeRate: Number(r.fee) / vsize, txids: txs.map((t) => t.txid), wtxids };
    });
  }
}

function transactions(w: World): void {
  const u = w.utxo('ladder');
  for (const rate of [5, 20, 80]) w.spend(`spend_${rate}`, u, 100_000 - rate * 110);
  w.spend('spend_20_again', u, 100_000 - 20 * 110 - 1);
  w.spend('spend_big_21', u, 100_000 - 2400, L, { outs: [{ script: P2WPKH('dest'), value: 40_000n }, { script: P2WPKH('change'), value: 57_600n }] });
  w.spend('spend_20_wrong_lt', u, 100_000 - 2200, L - 1);
  w.spend('child_of_5', { txid: w.txs.get('spend_5')!.txid, vout: 0 }, 100_000 - 550 - 5_000, 0);
  w.spend('child_of_20', { txid: w.txs.get('spend_20')!.txid, vout: 0 }, 100_000 - 2_200 - 5_800, 0);
  w.spend('elsewhere_20', w.utxo('elsewhere'), 100_000 - 2200);
  const v = w.utxo('sixteen');
  for (let r = 0; r < 17; r++) w.spend(`step_${r}`, v, 100_000 - (r + 1) * 500);
  const both = w.utxo('both');
  w.add('spend_both_20', { locktime: L, inputs: [u, both], outs: [{ script: P2WPKH('dest'), value: 150_000n }] });
  w.spend('spend_other_80', both, 100_000 - 80 * 110);
  packages(w);
  chains(w);
  w.raw.set('garbage', 'ffffffffffffffffffffffffffffffff');
  w.raw.set('empty', '');
  w.raw.set('trailing_byte', w.txs.get('spend_20')!.hex + '00');
  // Version 2, one input, no outputs, locktime L.
  w.raw.set('no_outputs', '0200000001' + '11'.repeat(32) + '0000000000feffffff00' + '50f80c00');
}

/** A zero-fee TRUC parent with a pay-to-anchor output, and children that pay for it through the anchor. */
function packages(w: World): void {
  const parent = w.add('parent_v3', { version: 3, locktime: L, inputs: [w.utxo('channel')], outs: [{ script: P2WPKH('channel-out'), value: 100_000n }, { script: P2A, value: 0n }] });
  const anchor = { txid: parent.txid, vout: 1 };
  const child = (name: string, fee: number, locktime: number, input = anchor) =>
    w.add(name, { version: 3, locktime, inputs: [input, w.utxo('fee-wallet')], outs: [{ script: P2WPKH('fee-change'), value: BigInt(50_000 - fee) }] });
  child('child_2k', 2_000, 0);
  child('child_8k', 8_000, L - 10);
  child('child_30k', 30_000, 0);
  child('child_above', 8_000, L + 1);
  child('child_time', 8_000, T - 1);
  w.add('child_other_wallet', { version: 3, locktime: 0, inputs: [{ txid: parent.txid, vout: 0 }, w.utxo('other-wallet')], outs: [{ script: P2WPKH('x'), value: 10_000n }] });
  const timed = w.add('parent_v3_time', { version: 3, locktime: T, inputs: [w.utxo('channel-time')], outs: [{ script: P2A, value: 0n }] });
  const timedChild = (name: string, fee: number, locktime: number) =>
    w.add(name, { version: 3, locktime, inputs: [{ txid: timed.txid, vout: 0 }, w.utxo('fee-wallet')], outs: [{ script: P2WPKH('fee-change'), value: BigInt(50_000 - fee) }] });
  timedChild('tchild_1k', 1_000, T - 3_600);
  timedChild('tchild_5k', 5_000, 0);
  timedChild('tchild_height', 5_000, 800_000);
}

/** Chains of 25 and 26 transactions, each spending the one before: the package limit and one past it. */
function chains(w: World): void {
  let from = w.utxo('chain');
  for (let i = 0; i < 26; i++) from = { txid: w.spend(`chain_${i}`, from, 100_000 - i * 1_000, i === 0 ? L : 0).txid, vout: 0 };
}

const chain = (n: number) => Array.from({ length: n }, (_, i) => `chain_${i}`);
const steps = (n: number) => Array.from({ length: n }, (_, r) => ({ fee: (r + 1) * 500, txs: [`step_${r}`] }));
const THREE = [{ fee: 550, txs: ['spend_5'] }, { fee: 2_200, txs: ['spend_20'] }, { fee: 8_800, txs: ['spend_80'] }];
const SHARED = [
  { fee: 2_000, txs: ['parent_v3', 'child_2k'] },
  { fee: 8_000, txs: ['parent_v3', 'child_8k'] },
  { fee: 30_000, txs: ['parent_v3', 'child_30k'] },
];

function validRows(w: World): BundleRow[] {
  const row = (description: string, rungs: FixtureRung[], padTo = 1024, declaredLocktime = L): BundleRow => ({ description, declaredLocktime, rungs, padTo, ladder: w.ladder(rungs) });
  return [
    row('one rung of one transaction', [{ fee: 550, txs: ['spend_5'] }], 512),
    row('three versions of one spend at 5, 20 and 80 sat/vB', THREE),
    row('no padding at all', THREE, 0),
    row('padded further than the next power of two', THREE, 4096),
    row('16 rungs, the most there may be', steps(16), 8192),
    row('a ladder of packages sharing a zero-fee v3 parent with a P2A anchor; children at locktime 0 and below the declared height', SHARED, 2048),
    row('one package of 25 transactions, the most there may be, parents first', [{ fee: 24_000, txs: chain(25) }], 8192),
    row('a time-locked package ladder whose child has an earlier time', [{ fee: 1_000, txs: ['parent_v3_time', 'tchild_1k'] }, { fee: 5_000, txs: ['parent_v3_time', 'tchild_5k'] }], 1024, T),
    row('a single transaction, then a replacement carrying its own child (CPFP)', [{ fee: 550, txs: ['spend_5'] }, { fee: 8_000, txs: ['spend_20', 'child_of_20'] }]),
    row('a rung may spend a second outpoint: the ladder conflicts on the first', [{ fee: 550, txs: ['spend_5'] }, { fee: 4_000, txs: ['spend_both_20'] }]),
    row('the fee may be any uint64', [{ fee: 550, txs: ['spend_5'] }, { fee: '18446744073709551615', txs: ['spend_80'] }]),
  ];
}

function invalidRows(w: World): BundleRow[] {
  const lastRung = 8 + 1 + 4 + w.txs.get('spend_80')!.bytes.length;
  const row = (code: string, description: string, rungs: FixtureRung[], more: Partial<BundleRow> = {}): BundleRow => ({ description, declaredLocktime: L, rungs, padTo: 1024, ...more, code });
  return [
    row('bad_bundle', 'no rungs', []),
    row('bad_bundle', '17 rungs', steps(17), { padTo: 8192 }),
    row('bad_bundle', 'a rung of no transactions', [{ fee: 550, txs: ['spend_5'] }, { fee: 2_200, txs: [] }]),
    row('bad_bundle', 'a package of 26 transactions', [{ fee: 25_000, txs: chain(26) }], { padTo: 8192 }),
    row('bad_bundle', 'nothing after the magic', [], { frame: { cut: 1 }, padTo: 0 }),
    row('bad_bundle', 'the rung count says 4, the frame holds 3', THREE, { frame: { rungCount: 4 }, padTo: 0 }),
    row('bad_bundle', 'a transaction cut short at the end of the plaintext', THREE, { frame: { cut: 10 }, padTo: 0 }),
    row('bad_bundle', 'a length past the end of the plaintext', THREE, { frame: { lastLengthDelta: 0x7fffffff } }),
    row('bad_bundle', "the last rung's fee cut short", THREE, { frame: { cut: lastRung - 4 }, padTo: 0 }),
    row('bad_bundle', 'two rungs at the same fee rate', [{ fee: 2_200, txs: ['spend_20'] }, { fee: 2_200, txs: ['spend_20_again'] }]),
    row('bad_bundle', 'fee rates falling', [{ fee: 8_800, txs: ['spend_80'] }, { fee: 2_200, txs: ['spend_20'] }]),
    row('bad_bundle', 'a higher fee but a lower fee rate (a larger transaction)', [{ fee: 2_200, txs: ['spend_20'] }, { fee: 2_400, txs: ['spend_big_21'] }]),
    row('bad_bundle', 'a child before its parent', [{ fee: 2_000, txs: ['child_2k', 'parent_v3'] }]),
    row('bad_bundle', 'the same transaction twice in a rung', [{ fee: 1_100, txs: ['spend_5', 'spend_5'] }]),
    row('malformed_transaction', 'a rung holds bytes that are not a transaction', [{ fee: 550, txs: ['spend_5'] }, { fee: 2_200, txs: ['garbage'] }]),
    row('malformed_transaction', 'a transaction with a byte left over inside its length', [{ fee: 2_200, txs: ['trailing_byte'] }]),
    row('malformed_transaction', 'a transaction of length 0', [{ fee: 0, txs: ['empty'] }]),
    row('malformed_transaction', 'a transaction without outputs', [{ fee: 0, txs: ['no_outputs'] }]),
    row('locktime_mismatch', "a later rung's first transaction has another nLockTime", [{ fee: 550, txs: ['spend_5'] }, { fee: 2_200, txs: ['spend_20_wrong_lt'] }]),
    row('locktime_mismatch', 'a child whose nLockTime is above the declared height', [{ fee: 8_000, txs: ['parent_v3', 'child_above'] }]),
    row('locktime_mismatch', 'a child time-locked under a declared height', [{ fee: 8_000, txs: ['parent_v3', 'child_time'] }]),
    row('locktime_mismatch', 'a child height-locked under a declared time', [{ fee: 5_000, txs: ['parent_v3_time', 'tchild_height'] }], { declaredLocktime: T }),
    row('rungs_not_conflicting', 'two rungs spending different coins', [{ fee: 550, txs: ['spend_5'] }, { fee: 2_200, txs: ['elsewhere_20'] }]),
    row('rungs_not_conflicting', "a rung that only adds a child to the previous rung's transaction (both could confirm)", [{ fee: 550, txs: ['spend_5'] }, { fee: 5_550, txs: ['spend_5', 'child_of_5'] }]),
    row('rungs_not_conflicting', 'rung 0 conflicts with 1 and 1 with 2, but 0 and 2 spend different coins', [{ fee: 550, txs: ['spend_5'] }, { fee: 4_000, txs: ['spend_both_20'] }, { fee: 8_800, txs: ['spend_other_80'] }]),
    row('rungs_not_conflicting', 'children of one parent spending different outputs of it', [{ fee: 8_000, txs: ['parent_v3', 'child_8k'] }, { fee: 30_000, txs: ['parent_v3', 'child_other_wallet'] }]),
    row('bad_padding', 'a non-zero byte right after the bundle', THREE, { poke: { position: 'after_bundle', value: 1 } }),
    row('bad_padding', 'a non-zero byte at the very end', THREE, { poke: { position: 'last', value: 0x80 } }),
  ];
}

export function bundleFixtures(): BundleFixtures {
  const w = new World();
  transactions(w);
  return {
    comment: 'SPEC §7 bundles, generated by test/support/bundle-fixtures.ts from seeded transactions; do not edit by hand',
    transactions: w.hexes(),
    valid: validRows(w),
    invalid: invalidRows(w),
  };
}

/** The RSB1 frame written straight from SPEC §7 (Buffer and hand-placed bytes), independently of src/domain/bundle.ts. */
export function bundleWriter(transactions: Record<string, string>) {
  const txBytes = (name: string): Buffer => {
    const hex = transactions[name];
    if (hex === undefined) throw new Error(`no transaction ${name} in bundles.json`);
    return Buffer.from(hex, 'hex');
  };
  const frameOf = (row: BundleRow): Buffer => {
    const parts: Buffer[] = [Buffer.from('RSB1'), Buffer.from([row.frame?.rungCount ?? row.rungs.length])];
    row.rungs.forEach((rung, r) => {
      const head = Buffer.alloc(9);
      head.writeBigUInt64LE(BigInt(rung.fee));
      head[8] = rung.txs.length;
      parts.push(head);
      rung.txs.forEach((name, t) => {
        const tx = txBytes(name);
        const length = Buffer.alloc(4);
        const last = r === row.rungs.length - 1 && t === rung.txs.length - 1;
        length.writeUInt32LE(tx.length + (last ? (row.frame?.lastLengthDelta ?? 0) : 0));
        parts.push(length, tx);
      });
    });
    const frame = Buffer.concat(parts);
    return frame.subarray(0, frame.length - (row.frame?.cut ?? 0));
  };
  const plaintextOf = (row: BundleRow): Buffer => {
    const frame = frameOf(row);
    const out = Buffer.alloc(Math.max(row.padTo, frame.length));
    frame.copy(out);
    if (row.poke) out[row.poke.position === 'last' ? out.length - 1 : frame.length] = row.poke.value;
    return out;
  };
  const draftsOf = (row: BundleRow) => row.rungs.map((r) => ({ fee: BigInt(r.fee), txs: r.txs.map(txBytes) }));
  return { frameOf, plaintextOf, draftsOf };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(JSON.stringify(bundleFixtures(), null, 2) + '\n');
