// SPEC §7 bundles: the RSB1 layout (encode, decode) and every rule checked at opening, one place for
// the server, the client library and the page. Browser-safe: no node: imports, no Buffer.
import { Transaction } from 'bitcoinjs-lib/src/transaction';
import { firstNonZero } from '../crypto/padding.js';
import { locktimeType } from './locktime.js';
import type { InvalidCode } from '../wire/vocabulary.js';

/** "RSB1": read as a transaction version (826430290) it is not standard, so it never starts a transaction. */
export const BUNDLE_MAGIC: readonly number[] = [0x52, 0x53, 0x42, 0x31];
export const MAX_RUNGS = 16;
export const MAX_TX_PER_RUNG = 25;
const MAX_FEE = (1n << 64n) - 1n;

/** Every invalid code but undecryptable (which only the key decides); the wire contract lists them. */
export type OpeningCode = Exclude<InvalidCode, 'undecryptable'>;

/** One transaction of a rung: ids for tracking (package answers are keyed by wtxid), hex for sending. */
export interface LadderTx {
  readonly txid: string;
  readonly wtxid: string;
  readonly hex: string;
}

/** One alternative: a transaction, or a package (parents first). `fee` is as declared; null for a bare transaction. */
export interface Rung {
  readonly fee: bigint | null;
  /** Sum of the transactions' virtual sizes (bitcoinjs-lib, BIP141). */
  readonly vsize: number;
  /** fee / vsize in sat/vB; null when the fee is unknown. */
  readonly feeRate: number | null;
  readonly txs: readonly LadderTx[];
}

/** What an opened record holds: a bare transaction is a ladder of one rung of one transaction, fee unknown. */
export interface Ladder {
  readonly kind: 'tx' | 'bundle';
  /** In strictly rising fee rate. */
  readonly rungs: readonly Rung[];
}

export type InvalidLadder = { readonly kind: 'invalid'; readonly code: OpeningCode; readonly detail: string };
export type LadderResult = { readonly kind: 'ok'; readonly ladder: Ladder } | InvalidLadder;

/** A rung as a client hands it in, before sealing: the whole rung's fee and its serialized transactions. */
export interface RungDraft {
  readonly fee: bigint;
  readonly txs: readonly Uint8Array[];
}

interface ParsedRung {
  readonly fee: bigint;
  readonly txs: readonly ParsedTx[];
}

export interface ParsedTx {
  readonly tx: Transaction;
  readonly bytes: Uint8Array;
  readonly txid: string;
  readonly vsize: number;
}

export function invalid(code: OpeningCode, detail: string): InvalidLadder {
  return { kind: 'invalid', code, detail };
}

/** bad_padding when anything but zero follows the transaction or bundle that ends at `end` (SPEC §2), else null. */
export function paddingFault(plaintext: Uint8Array, end: number, what: 'transaction' | 'bundle'): InvalidLadder | null {
  const stray = firstNonZero(plaintext, end);
  return stray === -1 ? null : invalid('bad_padding', `a non-zero byte at ${stray}, after the ${what}'s ${end} bytes`);
}

export function isBundle(plaintext: Uint8Array): boolean {
  return plaintext.length >= 4 && BUNDLE_MAGIC.every((b, i) => plaintext[i] === b);
}

/** A transaction read strictly, or why not (the client shows the reason; the opener answers malformed_transaction). */
export type TxReading = { readonly kind: 'ok'; readonly parsed: ParsedTx } | { readonly kind: 'malformed'; readonly reason: string };

/**
 * A serialized transaction, strictly: exactly these bytes, at least one input and one output.
 * The one reader for server, client and page, so that what a client seals the server opens.
 */
export function readTx(bytes: Uint8Array): TxReading {
  let tx: Transaction;
  try {
    tx = Transaction.fromBuffer(bytes);
  } catch (err) {
    return { kind: 'malformed', reason: `not a Bitcoin transaction: ${(err as Error).message}` };
  }
  if (tx.ins.length === 0 || tx.outs.length === 0) return { kind: 'malformed', reason: 'a transaction needs at least one input and one output' };
  // bitcoinjs-lib reads a count or length written wider than needed; Bitcoin Core does not.
  if (tx.byteLength() !== bytes.length) return { kind: 'malformed', reason: 'not a Bitcoin transaction: a count or length is not in its shortest encoding' };
  return { kind: 'ok', parsed: { tx, bytes, txid: tx.getId(), vsize: tx.virtualSize() } };
}

/** readTx for those that need no reason: the transaction, or null. */
export function parseTx(bytes: Uint8Array): ParsedTx | null {
  const reading = readTx(bytes);
  return reading.kind === 'ok' ? reading.parsed : null;
}

/**
 * Opens an RSB1 plaintext (magic included, padding after): every §7 rule, answered as a value.
 * Checks run in this order, so a bundle that breaks several rules always answers the same code:
 * layout (bad_bundle) → padding (bad_padding) → each transaction parses (malformed_transaction) →
 * counts, duplicates, parent-before-child (bad_bundle) → locktimes (locktime_mismatch) →
 * strictly rising fee rates (bad_bundle) → every two rungs conflict (rungs_not_conflicting).
 */
export function decodeBundle(plaintext: Uint8Array, declaredLocktime: number): LadderResult {
  const layout = readLayout(plaintext);
  if (layout.kind === 'invalid') return layout;
  return paddingFault(plaintext, layout.end, 'bundle') ?? checkDrafts(layout.rungs, declaredLocktime);
}

/** The client's side: the same rules as decodeBundle, then the RSB1 bytes (unpadded) to seal. */
export function encodeBundle(rungs: readonly RungDraft[], declaredLocktime: number): { readonly kind: 'ok'; readonly ladder: Ladder; readonly plaintext: Uint8Array } | InvalidLadder {
  const checked = checkDrafts(rungs, declaredLocktime);
  if (checked.kind === 'invalid') return checked;
  return { kind: 'ok', ladder: checked.ladder, plaintext: writeLayout(rungs) };
}

function checkDrafts(drafts: readonly RungDraft[], declaredLocktime: number): LadderResult {
  const counts = checkCounts(drafts.length, drafts.map((r) => r.txs.length));
  if (counts) return counts;
  const rungs: ParsedRung[] = [];
  for (const [r, draft] of drafts.entries()) {
    if (draft.fee < 0n || draft.fee > MAX_FEE) return invalid('bad_bundle', `rung ${r}: the fee is not a uint64`);
    const txs: ParsedTx[] = [];
    for (const [t, bytes] of draft.txs.entries()) {
      const parsed = parseTx(bytes);
      if (!parsed) return invalid('malformed_transaction', `rung ${r}, transaction ${t} does not parse`);
      txs.push(parsed);
    }
    rungs.push({ fee: draft.fee, txs });
  }
  const broken = checkRungs(rungs, declaredLocktime);
  return broken ?? { kind: 'ok', ladder: { kind: 'bundle', rungs: rungs.map(rungOf) } };
}

function checkCounts(rungCount: number, txCounts: readonly number[]): InvalidLadder | null {
  return rungCountError(rungCount) ?? txCounts.reduce<InvalidLadder | null>((found, n, r) => found ?? txCountError(r, n), null);
}

function rungCountError(n: number): InvalidLadder | null {
  return n >= 1 && n <= MAX_RUNGS ? null : invalid('bad_bundle', `${n} rungs (1 to ${MAX_RUNGS})`);
}

function txCountError(r: number, n: number): InvalidLadder | null {
  return n >= 1 && n <= MAX_TX_PER_RUNG ? null : invalid('bad_bundle', `rung ${r}: ${n} transactions (1 to ${MAX_TX_PER_RUNG})`);
}

function checkRungs(rungs: readonly ParsedRung[], declaredLocktime: number): InvalidLadder | null {
  for (const [r, rung] of rungs.entries()) {
    const broken = checkPackage(r, rung.txs) ?? checkLocktimes(r, rung.txs, declaredLocktime);
    if (broken) return broken;
  }
  return checkFeeRates(rungs) ?? checkConflicts(rungs);
}

/** Each transaction once, and none spending a transaction that comes after it in the rung. */
function checkPackage(r: number, txs: readonly ParsedTx[]): InvalidLadder | null {
  const later = new Map<string, number>(txs.map((t, i) => [t.txid, i]));
  if (later.size !== txs.length) return invalid('bad_bundle', `rung ${r} holds the same transaction twice`);
  for (const [i, t] of txs.entries()) {
    for (const input of t.tx.ins) {
      const parent = later.get(txidOfHash(input.hash));
      if (parent !== undefined && parent >= i) return invalid('bad_bundle', `rung ${r}: transaction ${i} spends transaction ${parent}, which must come before it`);
    }
  }
  return null;
}

/** The first transaction is the declared one; the others may be final at or before it, never after. */
function checkLocktimes(r: number, txs: readonly ParsedTx[], declared: number): InvalidLadder | null {
  if (txs[0]!.tx.locktime !== declared) return invalid('locktime_mismatch', `rung ${r}: the first transaction's nLockTime ${txs[0]!.tx.locktime} is not the declared ${declared}`);
  for (const [i, t] of txs.entries()) {
    const lt = t.tx.locktime;
    if (lt !== 0 && (locktimeType(lt) !== locktimeType(declared) || lt > declared)) {
      return invalid('locktime_mismatch', `rung ${r}: transaction ${i} has nLockTime ${lt}, neither 0 nor a ${locktimeType(declared)} at or below ${declared}`);
    }
  }
  return null;
}

/** Compared exactly, as fee_a × vsize_b < fee_b × vsize_a, so no float rounding decides. */
function checkFeeRates(rungs: readonly ParsedRung[]): InvalidLadder | null {
  for (let r = 1; r < rungs.length; r++) {
    const [a, b] = [rungs[r - 1]!, rungs[r]!];
    if (a.fee * BigInt(vsizeOf(b)) >= b.fee * BigInt(vsizeOf(a))) {
      return invalid('bad_bundle', `rung ${r} does not pay a higher fee rate than rung ${r - 1}`);
    }
  }
  return null;
}

/** Every two rungs spend some outpoint through two different transactions, so at most one of them can confirm. */
function checkConflicts(rungs: readonly ParsedRung[]): InvalidLadder | null {
  const spends = rungs.map(spentOutpoints);
  for (let a = 0; a < spends.length; a++) {
    for (let b = a + 1; b < spends.length; b++) {
      if (!conflict(spends[a]!, spends[b]!)) return invalid('rungs_not_conflicting', `rungs ${a} and ${b} could both confirm: no outpoint is spent by a different transaction in each`);
    }
  }
  return null;
}

function conflict(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  for (const [outpoint, txid] of a) {
    const other = b.get(outpoint);
    if (other !== undefined && other !== txid) return true;
  }
  return false;
}

/** Outpoint ("txid:vout") → the txid of the rung's transaction that spends it. */
function spentOutpoints(rung: ParsedRung): Map<string, string> {
  const spends = new Map<string, string>();
  for (const t of rung.txs) for (const input of t.tx.ins) spends.set(`${txidOfHash(input.hash)}:${input.index}`, t.txid);
  return spends;
}

function vsizeOf(rung: ParsedRung): number {
  return rung.txs.reduce((sum, t) => sum + t.vsize, 0);
}

function rungOf(rung: ParsedRung): Rung {
  const vsize = vsizeOf(rung);
  return { fee: rung.fee, vsize, feeRate: Number(rung.fee) / vsize, txs: rung.txs.map(ladderTxOf) };
}

export function ladderTxOf(t: ParsedTx): LadderTx {
  return { txid: t.txid, wtxid: txidOfHash(t.tx.getHash(true)), hex: hexOf(t.bytes) };
}

type Layout = { readonly kind: 'ok'; readonly rungs: RungDraft[]; readonly end: number } | InvalidLadder;
type Read<T> = { readonly kind: 'ok'; readonly value: T; readonly at: number } | InvalidLadder;

function pastTheEnd(what: string): InvalidLadder {
  return invalid('bad_bundle', `${what} runs past the end of the plaintext`);
}

/** Reads the RSB1 frame; counts are checked as they are read, so a hostile count never drives a loop. */
function readLayout(p: Uint8Array): Layout {
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  let at = BUNDLE_MAGIC.length;
  if (at + 1 > p.length) return pastTheEnd('the rung count');
  const rungCount = p[at++]!;
  const badCount = rungCountError(rungCount);
  if (badCount) return badCount;
  const rungs: RungDraft[] = [];
  for (let r = 0; r < rungCount; r++) {
    const rung = readRung(p, view, at, r);
    if (rung.kind === 'invalid') return rung;
    rungs.push(rung.value);
    at = rung.at;
  }
  return { kind: 'ok', rungs, end: at };
}

function readRung(p: Uint8Array, view: DataView, at: number, r: number): Read<RungDraft> {
  if (at + 9 > p.length) return pastTheEnd(`rung ${r}'s fee and count`);
  const fee = view.getBigUint64(at, true);
  const txCount = p[at + 8]!;
  at += 9;
  const badCount = txCountError(r, txCount);
  if (badCount) return badCount;
  const txs: Uint8Array[] = [];
  for (let t = 0; t < txCount; t++) {
    if (at + 4 > p.length) return pastTheEnd(`rung ${r}, transaction ${t}'s length`);
    const length = view.getUint32(at, true);
    if (length > p.length - at - 4) return pastTheEnd(`rung ${r}, transaction ${t}`);
    txs.push(p.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { kind: 'ok', value: { fee, txs }, at };
}

function writeLayout(rungs: readonly RungDraft[]): Uint8Array {
  const size = 5 + rungs.reduce((sum, r) => sum + 9 + r.txs.reduce((s, t) => s + 4 + t.length, 0), 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(BUNDLE_MAGIC, 0);
  out[4] = rungs.length;
  let at = 5;
  for (const rung of rungs) {
    view.setBigUint64(at, rung.fee, true);
    out[at + 8] = rung.txs.length;
    at += 9;
    for (const tx of rung.txs) {
      view.setUint32(at, tx.length, true);
      out.set(tx, at + 4);
      at += 4 + tx.length;
    }
  }
  return out;
}

/** Txids are shown byte-reversed relative to the hash in an outpoint. */
function txidOfHash(hash: Uint8Array): string {
  return hexOf(Uint8Array.from(hash).reverse());
}

const HEX_DIGITS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function hexOf(bytes: Uint8Array): string {
  let hex = '';
  for (const b of bytes) hex += HEX_DIGITS[b]!;
  return hex;
}
