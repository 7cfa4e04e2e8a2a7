// A real Esplora-compatible HTTP explorer on 127.0.0.1 over a simulated regtest chain, answering
// broadcasts and packages the way Esplora relays Bitcoin Core, with a fee market (known coin values,
// minimum fees, replacements, package fee rates, fee estimates, selective mining) and switchable
// failure modes for resilience tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Transaction, script as bscript } from 'bitcoinjs-lib';
import {
  feeRateRefusal,
  formatMoney,
  inputTxid,
  isChildWithParents,
  replacementRefusal,
  selectForBlock,
  total,
  type MempoolTx,
  type Priced,
} from './fee-market.js';

/**
 * 'slow-broadcasts' holds only POST /tx: the chain stays visible while broadcasts hang. 'echo' and
 * 'echo-reject' answer every POST with an RPC error that repeats what was posted (the raw
 * transaction), one unrecognised (so retried), one a permanent refusal.
 */
export type ExplorerMode = 'ok' | 'down' | 'error500' | 'garbage' | 'slow' | 'slow-broadcasts' | 'echo' | 'echo-reject';

/** Where packages are taken: Blockstream Esplora's path, mempool.space's only, or nowhere (404). */
export type PackageEndpoint = '/txs/package' | '/v1/txs/package' | 'none';

export interface ExplorerOptions {
  /** Used in block hashes and error messages, so two explorers do not share a chain by accident. */
  name?: string;
  /** Height of the tip at start (default 100). */
  startHeight?: number;
  /** Header time of the tip block at start (default 1_700_000_000); earlier blocks are 600 s apart. */
  startTime?: number;
  /** How long 'slow' holds a request (default 60 000 ms). */
  slowMs?: number;
  /**
   * What GET /tx/:txid/status answers for an unknown txid. 'not-found' (default) is 404
   * "Transaction not found"; 'unconfirmed' is what Blockstream's electrs really answers
   * ({"confirmed":false}), for testing that a client does not depend on the 404.
   */
  unknownTxStatus?: 'not-found' | 'unconfirmed';
  /**
   * As Bitcoin Core: an input whose coin is neither funded (fund()) nor an output of a known
   * transaction is missing. Default false: such an input is a coin of unknown value, and a
   * transaction spending one has an unknown fee, which no fee rule can judge.
   */
  knownInputsOnly?: boolean;
  /** -minrelaytxfee in sat/vB (default 1). */
  minRelayFeeRate?: number;
  /** Default '/txs/package'. */
  packageEndpoint?: PackageEndpoint;
}

export interface Tip {
  height: number;
  hash: string;
  medianTime: number;
}

interface Block {
  height: number;
  hash: string;
  time: number;
  prev: string | null;
  merkleRoot: string;
  txids: string[];
}

interface TxEntry extends Priced {
  txid: string;
  hex: string;
  tx: Transaction;
  /** null while in the mempool. */
  block: Block | null;
}

/** A transaction that passed validation, and the mempool transactions it would replace. */
interface Candidate extends Priced {
  readonly txid: string;
  readonly tx: Transaction;
  readonly hex: string;
  readonly conflicts: readonly string[];
}

/** `candidate` on a refusal: refused only for its fee, so a package may still carry it. */
type Verdict =
  | { readonly kind: 'ok'; readonly candidate: Candidate }
  | { readonly kind: 'refused'; readonly code: number; readonly reason: string; readonly candidate?: Candidate };

/** How validation is asked: alone (sendrawtransaction), or as part of a package. */
interface Context {
  /** Package transactions not yet in the mempool, whose outputs the others may spend. */
  readonly pending: ReadonlyMap<string, Transaction>;
  /** Judged at the package fee rate: no individual fee floor (but TRUC's) and no replacement rule. */
  readonly packageFeerates: boolean;
}

type PackageTxResult = { readonly entry: Priced; readonly effective?: { readonly rate: Priced; readonly includes: readonly string[] } } | { readonly error: string };

interface Answer {
  status: number;
  body: string;
  type: 'text/plain' | 'application/json';
}

const LOCKTIME_THRESHOLD = 500_000_000;
const SEQUENCE_FINAL = 0xffffffff;
const BLOCK_SPACING = 600;
// As electrs: request bodies above 1 MB are refused.
const MAX_BODY = 1_000_000;
const GARBAGE_BYTES = 5 * 1024 * 1024;
// An outpoint spent by a transaction the explorer never saw (spendElsewhere).
const FOREIGN_SPENDER = 'f'.repeat(64);
const HEX64 = /^[0-9a-fA-F]{64}$/;
const MAX_PACKAGE_COUNT = 25;
const DECODE_FAILED = 'Make sure the tx has at least one input.';
const ALONE: Context = { pending: new Map(), packageFeerates: false };

let garbage: Buffer | null = null;

function rpcError(code: number, message: string, method = 'sendrawtransaction'): Answer {
  return text(400, `${method} RPC error: ${JSON.stringify({ code, message })}`);
}

/** An RPC error that repeats what was posted, as some explorers' error texts do. */
function echoAnswer(retried: boolean, posted: string): Answer {
  return rpcError(-26, retried ? `unexpected: ${posted}` : `bad-txns-inputs-duplicate, tx ${posted}`);
}

function refused(code: number, reason: string, candidate?: Candidate): Verdict {
  return candidate ? { kind: 'refused', code, reason, candidate } : { kind: 'refused', code, reason };
}

/** Core's DecodeHexTx: strictly hex, no whitespace, then a full (segwit or legacy) parse. */
function decodeTx(hex: string): Transaction | null {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  try {
    const tx = Transaction.fromHex(hex);
    return tx.ins.length > 0 ? tx : null;
  } catch {
    return null;
  }
}

function wtxidOf(tx: Transaction): string {
  return Buffer.from(tx.getHash(true)).reverse().toString('hex');
}

function valueOut(tx: Transaction): bigint {
  return tx.outs.reduce((sum, o) => sum + BigInt(o.value), 0n);
}

function structureRefusal(tx: Transaction): string | null {
  if (tx.outs.length === 0) return 'bad-txns-vout-empty';
  const keys = tx.ins.map((i) => outpointKey(inputTxid(i.hash), i.index));
  if (new Set(keys).size !== keys.length) return 'bad-txns-inputs-duplicate';
  return tx.isCoinbase() ? 'coinbase' : null;
}

/** The package body: a JSON array of hex strings, or null. */
function parseHexArray(body: string): string[] | null {
  try {
    const parsed = JSON.parse(body) as unknown;
    return Array.isArray(parsed) && parsed.every((h) => typeof h === 'string') ? (parsed as string[]) : null;
  } catch {
    return null;
  }
}

function text(status: number, body: string): Answer {
  return { status, body, type: 'text/plain' };
}

function json(value: unknown): Answer {
  return { status: 200, body: JSON.stringify(value), type: 'application/json' };
}

function outpointKey(txid: string, vout: number): string {
  return `${txid.toLowerCase()}:${vout}`;
}

function asm(bytes: Uint8Array): string {
  try {
    return bscript.toASM(bytes);
  } catch {
    return '';
  }
}

function scriptType(s: Buffer): string {
  if (s.length === 0) return 'empty';
  if (s[0] === 0x6a) return 'op_return';
  if (s.length === 22 && s[0] === 0x00 && s[1] === 0x14) return 'v0_p2wpkh';
  if (s.length === 34 && s[0] === 0x00 && s[1] === 0x20) return 'v0_p2wsh';
  if (s.length === 34 && s[0] === 0x51 && s[1] === 0x20) return 'v1_p2tr';
  if (s.length === 25 && s[0] === 0x76 && s[1] === 0xa9 && s[2] === 0x14 && s[23] === 0x88 && s[24] === 0xac) return 'p2pkh';
  if (s.length === 23 && s[0] === 0xa9 && s[1] === 0x14 && s[22] === 0x87) return 'p2sh';
  return 'unknown';
}

export class TestExplorer {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** Every transaction that reached validation, alone or in a package, accepted or not (txid '' when undecodable). */
  readonly received: Array<{ txid: string; hex: string }> = [];
  /** Every package that decoded, as its txids in the order sent. */
  readonly packages: string[][] = [];
  /** Every HTTP request that reached the server (not those cut off by 'down'). */
  readonly requests: Array<{ method: string; path: string }> = [];
  /** The client port each of `requests` came from, in the same order: which connection brought it. */
  readonly requestPorts: number[] = [];

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<{ timer: NodeJS.Timeout; release: () => void; answer: () => void }>();
  private readonly events = new EventEmitter();
  private readonly slowMs: number;
  private readonly unknownTxStatus: 'not-found' | 'unconfirmed';
  // Heights below chain[0] exist only as timestamps (timeAt), so a chain can start at any height cheaply.
  private readonly baseHeight: number;
  private readonly startHeight: number;
  private readonly startTime: number;
  private chain: Block[] = [];
  private readonly blocksByHash = new Map<string, Block>();
  private readonly txs = new Map<string, TxEntry>();
  private readonly mempool = new Set<string>();
  private readonly spent = new Map<string, string>();
  private readonly bip68 = new Map<string, number>();
  /** Confirmed coins the tests declared, by outpoint: their values in satoshis. */
  private readonly funded = new Map<string, bigint>();
  private readonly knownInputsOnly: boolean;
  private readonly minRelayFeeRate: number;
  private mempoolMinFee = 0;
  private feeEstimates: Record<string, number> = {};
  private packageEndpoint: PackageEndpoint;
  private mode: ExplorerMode = 'ok';
  private lagged: { height: number; hash: string } | null = null;
  private hashCounter = 0;
  private closed = false;

  private constructor(server: Server, port: number, opts: ExplorerOptions) {
    this.server = server;
    this.port = port;
    this.url = `http://127.0.0.1:${port}/api`;
    this.name = opts.name ?? 'explorer';
    this.slowMs = opts.slowMs ?? 60_000;
    this.unknownTxStatus = opts.unknownTxStatus ?? 'not-found';
    this.knownInputsOnly = opts.knownInputsOnly ?? false;
    this.minRelayFeeRate = opts.minRelayFeeRate ?? 1;
    this.packageEndpoint = opts.packageEndpoint ?? '/txs/package';
    this.startHeight = opts.startHeight ?? 100;
    this.startTime = opts.startTime ?? 1_700_000_000;
    if (!Number.isInteger(this.startHeight) || this.startHeight < 0) throw new RangeError('startHeight must be >= 0');
    this.events.setMaxListeners(0);
    // Enough history for a true 11-block median time past at the start tip.
    this.baseHeight = Math.max(0, this.startHeight - 10);
    let prev: string | null = this.baseHeight === 0 ? null : this.nextHash(this.baseHeight - 1, 'virtual');
    for (let h = this.baseHeight; h <= this.startHeight; h++) {
      const block = this.makeBlock(h, this.startTime - BLOCK_SPACING * (this.startHeight - h), prev, []);
      prev = block.hash;
    }
  }

  static async start(opts: ExplorerOptions = {}): Promise<TestExplorer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const explorer = new TestExplorer(server, port, opts);
    explorer.attach();
    return explorer;
  }

  // ---- chain ---------------------------------------------------------------------------------

  tip(): Tip {
    const block = this.tipBlock();
    return { height: block.height, hash: block.hash, medianTime: this.medianTimePast(block.height) };
  }

  /** The block at `height` on the current best chain, if stored. */
  blockAt(height: number): { height: number; hash: string; time: number; medianTime: number; txids: string[] } | undefined {
    const block = this.chain[height - this.baseHeight];
    if (!block) return undefined;
    return { height: block.height, hash: block.hash, time: block.time, medianTime: this.medianTimePast(block.height), txids: [...block.txids] };
  }

  /**
   * Mines `n` blocks; the first one confirms the whole mempool, or with `minFeeRate` (sat/vB) only
   * what pays at least that, judged by ancestor fee rate as miners do (a child pays for its parents).
   * Each block is `timeStep` seconds (default 600) after its parent, but never at or below the
   * parent's median time past (the consensus rule), so a negative step is clamped. Returns the new
   * block hashes.
   */
  mine(n = 1, opts: { timeStep?: number; minFeeRate?: number } = {}): string[] {
    const hashes: string[] = [];
    for (let i = 0; i < n; i++) {
      const txids = i > 0 ? [] : opts.minFeeRate === undefined ? [...this.mempool] : selectForBlock(this.mempoolView(), opts.minFeeRate);
      const block = this.appendBlock(txids, opts.timeStep ?? BLOCK_SPACING);
      for (const txid of txids) {
        const entry = this.txs.get(txid);
        if (entry) entry.block = block;
        this.mempool.delete(txid);
      }
      hashes.push(block.hash);
    }
    return hashes;
  }

  /**
   * Drops the last `depth` blocks; their transactions vanish entirely (not back to the mempool,
   * as if the competing chain had conflicting spends), then mines `depth` new empty blocks.
   */
  reorg(depth: number): string[] {
    if (!Number.isInteger(depth) || depth < 1 || depth >= this.chain.length) {
      throw new RangeError(`reorg depth must be between 1 and ${this.chain.length - 1}`);
    }
    const dropped = this.chain.splice(this.chain.length - depth, depth);
    for (const block of dropped) {
      this.blocksByHash.delete(block.hash);
      for (const txid of block.txids) this.forget(txid);
    }
    const hashes: string[] = [];
    for (let i = 0; i < depth; i++) hashes.push(this.appendBlock([], BLOCK_SPACING).hash);
    return hashes;
  }

  /** Removes a transaction from the mempool (as expiry or a full mempool would). */
  evict(txid: string): boolean {
    const id = txid.toLowerCase();
    if (!this.mempool.has(id)) return false;
    this.mempool.delete(id);
    this.forget(id);
    return true;
  }

  /** Makes broadcasts of `txid` answer non-BIP68-final while the tip height is below `untilHeight`. */
  requireBip68(txid: string, untilHeight: number): void {
    this.bip68.set(txid.toLowerCase(), untilHeight);
  }

  /** Marks an outpoint as spent by a transaction this explorer never saw. */
  spendElsewhere(outpointTxid: string, vout: number): void {
    this.spent.set(outpointKey(outpointTxid, vout), FOREIGN_SPENDER);
  }

  // ---- fee market -------------------------------------------------------------------------------

  /** Declares a confirmed coin worth `value` satoshis, so that a transaction spending it has a known fee. */
  fund(txid: string, vout: number, value: number | bigint): void {
    this.funded.set(outpointKey(txid, vout), BigInt(value));
  }

  /** The mempool's dynamic minimum fee rate (sat/vB); 0 (default) while the mempool is not full. */
  setMempoolMinFee(rate: number): void {
    this.mempoolMinFee = rate;
  }

  /** What GET /fee-estimates answers: confirmation target in blocks → sat/vB (default {}, as on regtest). */
  setFeeEstimates(estimates: Record<string, number>): void {
    this.feeEstimates = { ...estimates };
  }

  setPackageEndpoint(endpoint: PackageEndpoint): void {
    this.packageEndpoint = endpoint;
  }

  /** The fee (satoshis) of a known transaction, null when unknown or when an input value is. */
  feeOf(txid: string): bigint | null {
    return this.txs.get(txid.toLowerCase())?.fee ?? null;
  }

  /** In the mempool or on the best chain. */
  accepted(txid: string): boolean {
    return this.txs.has(txid.toLowerCase());
  }

  inMempool(txid: string): boolean {
    return this.mempool.has(txid.toLowerCase());
  }

  /** 0 when unconfirmed or unknown. */
  confirmations(txid: string): number {
    const block = this.txs.get(txid.toLowerCase())?.block;
    return block ? this.tipBlock().height - block.height + 1 : 0;
  }

  // ---- behaviour switches -------------------------------------------------------------------

  setMode(mode: ExplorerMode): void {
    this.mode = mode;
    // A server that went down takes its open connections with it.
    if (mode === 'down') for (const socket of this.sockets) socket.destroy();
  }

  getMode(): ExplorerMode {
    return this.mode;
  }

  /** Requests held by 'slow' or 'slow-broadcasts' right now. */
  get heldCount(): number {
    return this.held.size;
  }

  /** Answers every held request now, as if slowMs had passed: tests wait on facts, not on time. */
  answerHeld(): number {
    const held = [...this.held];
    for (const h of held) h.answer();
    return held.length;
  }

  /** While on, the tip routes keep answering the tip from when lag was turned on. */
  lag(on: boolean): void {
    if (!on) this.lagged = null;
    else if (!this.lagged) {
      const block = this.tipBlock();
      this.lagged = { height: block.height, hash: block.hash };
    }
  }

  waitForReceived(txid: string, timeoutMs: number): Promise<void> {
    const id = txid.toLowerCase();
    if (this.received.some((r) => r.txid === id)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onReceived = (got: string) => {
        if (got !== id) return;
        clearTimeout(timer);
        this.events.off('received', onReceived);
        resolve();
      };
      const timer = setTimeout(() => {
        this.events.off('received', onReceived);
        reject(new Error(`${this.name} did not receive ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.events.on('received', onReceived);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.held) {
      clearTimeout(h.timer);
      h.release();
    }
    this.held.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await done;
  }

  // ---- internals: chain ------------------------------------------------------------------------

  private tipBlock(): Block {
    const block = this.chain[this.chain.length - 1];
    if (!block) throw new Error('empty chain');
    return block;
  }

  private nextHash(height: number, salt: string): string {
    return createHash('sha256').update(`${this.name}:${this.hashCounter++}:${height}:${salt}`).digest('hex');
  }

  private makeBlock(height: number, time: number, prev: string | null, txids: string[]): Block {
    const block: Block = {
      height,
      hash: this.nextHash(height, prev ?? ''),
      time,
      prev,
      merkleRoot: this.nextHash(height, 'merkle'),
      txids,
    };
    this.chain.push(block);
    this.blocksByHash.set(block.hash, block);
    return block;
  }

  private appendBlock(txids: string[], timeStep: number): Block {
    const parent = this.tipBlock();
    const time = Math.max(parent.time + timeStep, this.medianTimePast(parent.height) + 1);
    return this.makeBlock(parent.height + 1, time, parent.hash, txids);
  }

  private timeAt(height: number): number {
    const block = this.chain[height - this.baseHeight];
    if (block) return block.time;
    // Below the stored window the start chain is evenly spaced.
    return this.startTime - BLOCK_SPACING * (this.startHeight - height);
  }

  /** Bitcoin Core's GetMedianTimePast: the middle of the last (up to) 11 block times, sorted. */
  private medianTimePast(height: number): number {
    const times: number[] = [];
    for (let h = height; h >= 0 && h > height - 11; h--) times.push(this.timeAt(h));
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  }

  /** Drops a transaction and frees the outpoints it spent. */
  private forget(txid: string): void {
    const entry = this.txs.get(txid);
    if (!entry) return;
    this.txs.delete(txid);
    this.mempool.delete(txid);
    for (const input of entry.tx.ins) {
      const key = outpointKey(inputTxid(input.hash), input.index);
      if (this.spent.get(key) === txid) this.spent.delete(key);
    }
  }

  // ---- internals: broadcast, as Bitcoin Core's sendrawtransaction ------------------------------

  private broadcast(hex: string): Answer {
    const tx = decodeTx(hex);
    if (!tx) {
      this.record('', hex);
      return rpcError(-22, `TX decode failed. ${DECODE_FAILED}`);
    }
    const txid = tx.getId();
    this.record(txid, hex);
    // BroadcastTransaction looks for the tx itself before any mempool policy.
    const known = this.txs.get(txid);
    if (known?.block) return rpcError(-27, 'Transaction outputs already in utxo set');
    if (known) return text(200, txid);
    const verdict = this.validate(tx, hex, ALONE);
    if (verdict.kind === 'refused') return rpcError(verdict.code, verdict.reason);
    this.admit(verdict.candidate);
    return text(200, txid);
  }

  /** MemPoolAccept's PreChecks in Core's order: structure, finality, inputs, BIP68, fees, replacement. */
  private validate(tx: Transaction, hex: string, ctx: Context): Verdict {
    const txid = tx.getId();
    const structural = structureRefusal(tx);
    if (structural) return refused(-26, structural);
    if (!this.isFinalForNextBlock(tx)) return refused(-26, 'non-final');
    const inputs = this.readInputs(tx, txid, ctx.pending);
    if (!inputs) return refused(-25, 'bad-txns-inputs-missingorspent');
    const until = this.bip68.get(txid);
    if (until !== undefined && this.tipBlock().height < until) return refused(-26, 'non-BIP68-final');
    const out = valueOut(tx);
    const fee = inputs.valueIn === null ? null : inputs.valueIn - out;
    if (fee !== null && fee < 0n) return refused(-26, `bad-txns-in-belowout, value in (${formatMoney(inputs.valueIn!)}) < value out (${formatMoney(out)})`);
    return this.feeVerdict({ txid, tx, hex, fee, vsize: tx.virtualSize(), conflicts: inputs.conflicts }, ctx.packageFeerates);
  }

  private feeVerdict(c: Candidate, inPackage: boolean): Verdict {
    const floor = inPackage ? this.trucFloor(c) : feeRateRefusal(c, this.mempoolMinFee, this.minRelayFeeRate);
    if (floor) return refused(-26, floor, inPackage ? undefined : c);
    if (inPackage || c.conflicts.length === 0) return { kind: 'ok', candidate: c };
    const refusal = replacementRefusal(c.txid, c, this.priced(c.conflicts), this.priced(this.evictedBy(c.conflicts)));
    return refusal ? refused(-26, `insufficient fee, ${refusal}`, c) : { kind: 'ok', candidate: c };
  }

  /** In a package only a TRUC (version 3) transaction may pay less than the minimum relay fee itself. */
  private trucFloor(c: Candidate): string | null {
    return c.tx.version === 3 ? null : feeRateRefusal(c, 0, this.minRelayFeeRate);
  }

  /**
   * The coins a transaction spends: their total value (null when one is unknown) and the mempool
   * transactions already spending them. Null when an input is missing or spent beyond replacement.
   */
  private readInputs(tx: Transaction, txid: string, pending: ReadonlyMap<string, Transaction>): { valueIn: bigint | null; conflicts: string[] } | null {
    let valueIn: bigint | null = 0n;
    const conflicts = new Set<string>();
    for (const input of tx.ins) {
      const prev = inputTxid(input.hash);
      const spender = this.spent.get(outpointKey(prev, input.index));
      if (spender !== undefined && spender !== txid) {
        if (!this.replaceable(spender)) return null;
        conflicts.add(spender);
      }
      const value = this.coinValue(prev, input.index, pending);
      if (value === undefined) return null;
      valueIn = value === null || valueIn === null ? null : valueIn + value;
    }
    // Without a known fee no replacement can be judged: a conflict stays a spent input.
    if (conflicts.size > 0 && valueIn === null) return null;
    return { valueIn, conflicts: [...conflicts] };
  }

  /** A coin's value; null when unknown (and allowed), undefined when it does not exist. */
  private coinValue(prevTxid: string, vout: number, pending: ReadonlyMap<string, Transaction>): bigint | null | undefined {
    const funded = this.funded.get(outpointKey(prevTxid, vout));
    if (funded !== undefined) return funded;
    const parent = this.txs.get(prevTxid)?.tx ?? pending.get(prevTxid);
    if (parent) {
      const output = parent.outs[vout];
      return output ? BigInt(output.value) : undefined;
    }
    return this.knownInputsOnly ? undefined : null;
  }

  /** Full RBF (Core 28's default): any mempool transaction of known fee can be replaced. */
  private replaceable(txid: string): boolean {
    const entry = this.txs.get(txid);
    return entry !== undefined && entry.block === null && entry.fee !== null;
  }

  private priced(txids: readonly string[]): Priced[] {
    return txids.map((id) => this.txs.get(id)!);
  }

  /** The transactions replacing `conflicts` evicts: them and all their mempool descendants. */
  private evictedBy(conflicts: readonly string[]): string[] {
    const out = new Set(conflicts);
    let grew = true;
    while (grew) {
      grew = false;
      for (const id of this.mempool) {
        if (out.has(id) || !this.txs.get(id)!.tx.ins.some((i) => out.has(inputTxid(i.hash)))) continue;
        out.add(id);
        grew = true;
      }
    }
    return [...out];
  }

  /** Into the mempool, evicting what it replaces; returns the evicted txids. */
  private admit(c: Candidate): string[] {
    const evicted = this.evictedBy(c.conflicts);
    for (const id of evicted) this.forget(id);
    this.txs.set(c.txid, { txid: c.txid, hex: c.hex.toLowerCase(), tx: c.tx, block: null, fee: c.fee, vsize: c.vsize });
    this.mempool.add(c.txid);
    for (const input of c.tx.ins) this.spent.set(outpointKey(inputTxid(input.hash), input.index), c.txid);
    return evicted;
  }

  private mempoolView(): Map<string, MempoolTx> {
    const view = new Map<string, MempoolTx>();
    for (const txid of this.mempool) {
      const entry = this.txs.get(txid)!;
      const parents = [...new Set(entry.tx.ins.map((i) => inputTxid(i.hash)))].filter((p) => this.mempool.has(p));
      view.set(txid, { txid, fee: entry.fee, vsize: entry.vsize, parents });
    }
    return view;
  }

  // ---- internals: packages, as Bitcoin Core's submitpackage behind Esplora -----------------------

  private submitPackage(body: string): Answer {
    const hexes = parseHexArray(body);
    if (!hexes) return text(400, 'invalid package: expected a JSON array of hex strings');
    if (hexes.length > MAX_PACKAGE_COUNT) return text(400, `Exceeded maximum of ${MAX_PACKAGE_COUNT} transactions`);
    if (hexes.length === 0) return rpcError(-8, `Array must contain between 1 and ${MAX_PACKAGE_COUNT} transactions.`, 'submitpackage');
    const txs: Transaction[] = [];
    for (const [i, hex] of hexes.entries()) {
      const tx = decodeTx(hex);
      this.record(tx?.getId() ?? '', hex);
      if (!tx) return rpcError(-22, `TX decode failed for tx ${i}. ${DECODE_FAILED}`, 'submitpackage');
      txs.push(tx);
    }
    this.packages.push(txs.map((tx) => tx.getId()));
    if (!isChildWithParents(txs)) {
      return rpcError(-25, 'package topology disallowed. not child-with-parents or parents depend on each other.', 'submitpackage');
    }
    return json(this.acceptPackage(txs, hexes));
  }

  /**
   * Core's AcceptPackage, simplified: each transaction alone first (what passes enters the
   * mempool); those refused only for their fee, and what spends them, are then judged together at
   * the package fee rate.
   */
  private acceptPackage(txs: readonly Transaction[], hexes: readonly string[]): object {
    const results = new Map<string, PackageTxResult>();
    const pending = new Map<string, Transaction>();
    const deferred: Candidate[] = [];
    const replaced: string[] = [];
    for (const [i, tx] of txs.entries()) {
      const txid = tx.getId();
      const known = this.txs.get(txid);
      if (known) {
        results.set(txid, known.block ? { error: 'txn-already-known' } : { entry: known });
        continue;
      }
      const spendsPending = tx.ins.some((input) => pending.has(inputTxid(input.hash)));
      const verdict = this.validate(tx, hexes[i]!, { pending, packageFeerates: spendsPending });
      if (verdict.kind === 'refused' && !verdict.candidate) {
        results.set(txid, { error: verdict.reason });
        return this.packageAnswer(txs, results, 'transaction failed', replaced);
      }
      const candidate = verdict.candidate!;
      if (verdict.kind === 'ok' && !spendsPending) {
        replaced.push(...this.admit(candidate));
        results.set(txid, { entry: candidate });
        continue;
      }
      pending.set(txid, tx);
      deferred.push(candidate);
    }
    const failure = deferred.length ? this.packageRefusal(deferred) : null;
    if (failure) return this.packageAnswer(txs, new Map([...results, ...failure.results]), failure.message, replaced);
    const rate = total(deferred);
    const includes = deferred.map((c) => wtxidOf(c.tx));
    for (const c of deferred) {
      replaced.push(...this.admit(c));
      results.set(c.txid, { entry: c, effective: { rate, includes } });
    }
    return this.packageAnswer(txs, results, 'success', replaced);
  }

  /** Why the deferred transactions cannot enter together, in Core 28's words, or null. */
  private packageRefusal(deferred: readonly Candidate[]): { message: string; results: Map<string, PackageTxResult> } | null {
    const child = deferred[deferred.length - 1]!;
    const failed = (c: Candidate, error: string) => ({ message: 'transaction failed', results: new Map([[c.txid, { error }]]) });
    for (const c of deferred) {
      const floor = this.trucFloor(c);
      if (floor) return failed(c, floor);
    }
    const sum = total(deferred);
    const rate = feeRateRefusal(sum, this.mempoolMinFee, this.minRelayFeeRate);
    if (rate) return failed(child, rate);
    const conflicts = [...new Set(deferred.flatMap((c) => c.conflicts))];
    if (conflicts.length === 0) return null;
    const refusal = replacementRefusal(child.txid, deferred.length === 1 ? child : sum, this.priced(conflicts), this.priced(this.evictedBy(conflicts)));
    if (!refusal) return null;
    if (deferred.length === 1) return failed(child, `insufficient fee, ${refusal}`);
    const message = refusal.includes('feerate') ? 'package RBF failed: insufficient feerate: does not improve feerate diagram' : `package RBF failed: insufficient anti-DoS fees, ${refusal}`;
    return { message, results: new Map() };
  }

  /** submitpackage's result: an entry per transaction, keyed by wtxid. */
  private packageAnswer(txs: readonly Transaction[], results: ReadonlyMap<string, PackageTxResult>, message: string, replaced: readonly string[]): object {
    const entries = txs.map((tx) => {
      const txid = tx.getId();
      const result = results.get(txid) ?? { error: 'package-not-validated' };
      if ('error' in result) return [wtxidOf(tx), { txid, error: result.error }];
      const fees: Record<string, unknown> = { base: Number(result.entry.fee ?? 0n) / 1e8 };
      if (result.effective) {
        fees['effective-feerate'] = Number(((result.effective.rate.fee ?? 0n) * 1000n) / BigInt(result.effective.rate.vsize)) / 1e8;
        fees['effective-includes'] = result.effective.includes;
      }
      return [wtxidOf(tx), { txid, vsize: result.entry.vsize, fees }];
    });
    return { package_msg: message, 'tx-results': Object.fromEntries(entries), 'replaced-transactions': [...new Set(replaced)] };
  }

  /** IsFinalTx(tx, tip height + 1, tip median time past), as CheckFinalTxAtTip. */
  private isFinalForNextBlock(tx: Transaction): boolean {
    if (tx.locktime === 0) return true;
    const tip = this.tip();
    const cutoff = tx.locktime < LOCKTIME_THRESHOLD ? tip.height + 1 : tip.medianTime;
    if (tx.locktime < cutoff) return true;
    return tx.ins.every((i) => i.sequence === SEQUENCE_FINAL);
  }

  private record(txid: string, hex: string): void {
    this.received.push({ txid, hex });
    this.events.emit('received', txid);
  }

  // ---- internals: HTTP ------------------------------------------------------------------------

  private attach(): void {
    this.server.on('connection', (socket: Socket) => {
      if (this.mode === 'down' || this.closed) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch(() => req.socket.destroy());
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.mode === 'down') {
      req.socket.destroy();
      return;
    }
    const method = req.method ?? '';
    const path = req.url ?? '';
    this.requests.push({ method, path });
    this.requestPorts.push(req.socket.remotePort ?? 0);
    let body: Buffer | null;
    try {
      body = await readBody(req, MAX_BODY);
    } catch {
      req.socket.destroy();
      return;
    }
    if (body === null) {
      send(res, text(400, 'Request body too large'));
      return;
    }
    if (this.mode === 'slow' || (this.mode === 'slow-broadcasts' && method === 'POST')) {
      const stillThere = await this.hold(req);
      if (!stillThere) return;
    }
    // Re-read: the mode may have changed while the body arrived or while held.
    switch (this.getMode()) {
      case 'down':
        req.socket.destroy();
        return;
      case 'error500':
        send(res, text(500, 'Internal Server Error'));
        return;
      case 'echo':
      case 'echo-reject':
        if (method !== 'POST') break;
        send(res, echoAnswer(this.getMode() === 'echo', body.toString('utf8')));
        return;
      case 'garbage':
        garbage ??= randomBytes(GARBAGE_BYTES);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': garbage.length });
        res.end(garbage);
        return;
    }
    send(res, this.route(method, path.split('?')[0] ?? '', body.toString('utf8')));
  }

  /** Resolves true after slowMs, false if the client or the explorer gave up first. */
  private hold(req: IncomingMessage): Promise<boolean> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => finish(true), this.slowMs),
        release: () => finish(false),
        answer: () => finish(true),
      };
      const onClose = () => finish(false);
      const finish = (ok: boolean) => {
        clearTimeout(entry.timer);
        this.held.delete(entry);
        req.socket.off('close', onClose);
        resolve(ok && !req.socket.destroyed && !this.closed);
      };
      this.held.add(entry);
      req.socket.on('close', onClose);
    });
  }

  private route(method: string, path: string, body: string): Answer {
    if (!path.startsWith('/api/')) return text(404, 'endpoint does not exist');
    const parts = path.slice('/api/'.length).split('/');
    const [a, b, c] = parts;
    const n = parts.length;

    if (method === 'POST' && n === 1 && a === 'tx') return this.broadcast(body);
    if (method === 'POST' && `/${parts.join('/')}` === this.packageEndpoint) return this.submitPackage(body);
    if (method !== 'GET') return text(404, 'endpoint does not exist');
    if (n === 1 && a === 'fee-estimates') return json(this.feeEstimates);

    if (n === 3 && a === 'blocks' && b === 'tip' && (c === 'hash' || c === 'height')) {
      const shown = this.lagged ?? this.tipBlock();
      return text(200, c === 'hash' ? shown.hash : String(shown.height));
    }
    if (a === 'block-height' && n === 2 && b !== undefined) {
      if (!/^\d+$/.test(b)) return text(400, 'Invalid number');
      const block = this.chain[Number(b) - this.baseHeight];
      return block ? text(200, block.hash) : text(404, 'Block not found');
    }
    if (a === 'block' && b !== undefined && (n === 2 || (n === 3 && c === 'status'))) {
      if (!HEX64.test(b)) return text(400, 'Invalid hex string');
      const block = this.blocksByHash.get(b.toLowerCase());
      if (n === 3) {
        if (!block) return json({ in_best_chain: false });
        const next = this.chain[block.height + 1 - this.baseHeight];
        return json({ in_best_chain: true, height: block.height, next_best: next ? next.hash : null });
      }
      return block ? json(this.blockJson(block)) : text(404, 'Block not found');
    }
    if (a === 'tx' && b !== undefined && (n === 2 || (n === 3 && (c === 'status' || c === 'hex')))) {
      if (!HEX64.test(b)) return text(400, 'Invalid hex string');
      const entry = this.txs.get(b.toLowerCase());
      if (!entry) {
        if (c === 'status' && this.unknownTxStatus === 'unconfirmed') return json({ confirmed: false });
        return text(404, 'Transaction not found');
      }
      if (c === 'status') return json(this.statusJson(entry));
      if (c === 'hex') return text(200, entry.hex);
      return json(this.txJson(entry));
    }
    return text(404, 'endpoint does not exist');
  }

  private statusJson(entry: TxEntry): Record<string, unknown> {
    const block = entry.block;
    if (!block) return { confirmed: false };
    return { confirmed: true, block_height: block.height, block_hash: block.hash, block_time: block.time };
  }

  private txJson(entry: TxEntry): Record<string, unknown> {
    const tx = entry.tx;
    return {
      txid: entry.txid,
      version: tx.version >>> 0,
      locktime: tx.locktime,
      vin: tx.ins.map((input) => ({
        txid: inputTxid(input.hash),
        vout: input.index,
        prevout: null,
        scriptsig: Buffer.from(input.script).toString('hex'),
        scriptsig_asm: asm(input.script),
        ...(input.witness.length > 0 ? { witness: input.witness.map((w) => Buffer.from(w).toString('hex')) } : {}),
        is_coinbase: false,
        sequence: input.sequence,
      })),
      vout: tx.outs.map((output) => {
        const s = Buffer.from(output.script);
        return {
          scriptpubkey: s.toString('hex'),
          scriptpubkey_asm: asm(s),
          scriptpubkey_type: scriptType(s),
          value: Number(output.value),
        };
      }),
      size: tx.byteLength(),
      weight: tx.weight(),
      ...(entry.fee !== null ? { fee: Number(entry.fee) } : {}),
      status: this.statusJson(entry),
    };
  }

  private blockJson(block: Block): Record<string, unknown> {
    const txBytes = block.txids.reduce((sum, id) => sum + (this.txs.get(id)?.tx.byteLength() ?? 0), 0);
    const txWeight = block.txids.reduce((sum, id) => sum + (this.txs.get(id)?.tx.weight() ?? 0), 0);
    const coinbaseBytes = 200;
    return {
      id: block.hash,
      height: block.height,
      version: 0x20000000,
      timestamp: block.time,
      tx_count: 1 + block.txids.length,
      size: 81 + coinbaseBytes + txBytes,
      weight: 4 * (81 + coinbaseBytes) + txWeight,
      merkle_root: block.merkleRoot,
      previousblockhash: block.prev,
      mediantime: this.medianTimePast(block.height),
      nonce: 0,
      bits: 0x207fffff,
      difficulty: 4.656542373906925e-10,
    };
  }
}

/** The whole body, or null once it exceeds `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.destroyed || res.writableEnded) return;
  const body = Buffer.from(answer.body, 'utf8');
  res.writeHead(answer.status, { 'content-type': answer.type, 'content-length': body.length });
  res.end(body);
}
