// Bitcoin Core's fee policy (28+), for the test explorer: minimum fees, the replacement rule,
// child-with-parents topology and block selection by ancestor fee rate, with Core's exact texts.
import type { Transaction } from 'bitcoinjs-lib';

/** What the rules need of a transaction: its fee (null when an input value is unknown) and size. */
export interface Priced {
  readonly fee: bigint | null;
  readonly vsize: number;
}

/** BIP125 rule 4's incremental relay fee, sat/vB. */
export const INCREMENTAL_RELAY_FEE = 1;

/** Core's FormatMoney: BTC with 8 decimals, trailing zeros trimmed down to 2. */
export function formatMoney(sats: bigint): string {
  const abs = sats < 0n ? -sats : sats;
  const text = `${abs / 100_000_000n}.${(abs % 100_000_000n).toString().padStart(8, '0')}`.replace(/0{1,6}$/, '');
  return (sats < 0n ? '-' : '') + text;
}

/** Core's CFeeRate::ToString: satoshis per 1000 vB, shown as BTC/kvB. */
export function formatFeeRate(p: Priced): string {
  const perKvb = ((p.fee ?? 0n) * 1000n) / BigInt(Math.max(1, p.vsize));
  return `${perKvb / 100_000_000n}.${(perKvb % 100_000_000n).toString().padStart(8, '0')} BTC/kvB`;
}

/** CFeeRate::GetFee rounds up: the fee a rate asks of `vsize` virtual bytes. */
export function feeAt(rateSatPerVb: number, vsize: number): bigint {
  return BigInt(Math.ceil(rateSatPerVb * vsize));
}

/** Core's CheckFeeRate: the mempool's dynamic minimum first, then the static minimum relay fee. */
export function feeRateRefusal(p: Priced, mempoolMin: number, minRelay: number): string | null {
  if (p.fee === null) return null;
  const floor = feeAt(mempoolMin, p.vsize);
  if (floor > 0n && p.fee < floor) return `mempool min fee not met, ${p.fee} < ${floor}`;
  const relay = feeAt(minRelay, p.vsize);
  if (p.fee < relay) return `min relay fee not met, ${p.fee} < ${relay}`;
  return null;
}

/**
 * The replacement rule (Core's PaysMoreThanConflicts and PaysForRBF): a higher fee rate than each
 * transaction it conflicts with directly, and at least the fees of everything it evicts plus its
 * own size at the incremental relay fee. Returns the reason after "insufficient fee, " or null.
 */
export function replacementRefusal(txid: string, p: Priced, direct: readonly Priced[], evicted: readonly Priced[]): string | null {
  const fee = p.fee ?? 0n;
  for (const old of direct) {
    if (fee * BigInt(old.vsize) <= (old.fee ?? 0n) * BigInt(p.vsize)) {
      return `rejecting replacement ${txid}; new feerate ${formatFeeRate(p)} <= old feerate ${formatFeeRate(old)}`;
    }
  }
  const oldFees = evicted.reduce((sum, e) => sum + (e.fee ?? 0n), 0n);
  if (fee < oldFees) return `rejecting replacement ${txid}, less fees than conflicting txs; ${formatMoney(fee)} < ${formatMoney(oldFees)}`;
  const relay = feeAt(INCREMENTAL_RELAY_FEE, p.vsize);
  if (fee - oldFees < relay) return `rejecting replacement ${txid}, not enough additional fees to relay; ${formatMoney(fee - oldFees)} < ${formatMoney(relay)}`;
  return null;
}

/** The sum of a package: fees (null if any is unknown) and virtual sizes. */
export function total(parts: readonly Priced[]): Priced {
  const fee = parts.some((p) => p.fee === null) ? null : parts.reduce((sum, p) => sum + p.fee!, 0n);
  return { fee, vsize: parts.reduce((sum, p) => sum + p.vsize, 0) };
}

export function inputTxid(hash: Uint8Array): string {
  return Buffer.from(hash).reverse().toString('hex');
}

/** submitpackage's topology: one transaction, or a child last with only its own parents before it. */
export function isChildWithParents(txs: readonly Transaction[]): boolean {
  if (txs.length <= 1) return true;
  const child = txs[txs.length - 1]!;
  const parents = txs.slice(0, -1).map((tx) => tx.getId());
  if (new Set(parents).size !== parents.length) return false;
  const spentByChild = new Set(child.ins.map((i) => inputTxid(i.hash)));
  if (!parents.every((id) => spentByChild.has(id))) return false;
  // Parents may not depend on one another.
  const set = new Set(parents);
  return txs.slice(0, -1).every((tx) => tx.ins.every((i) => !set.has(inputTxid(i.hash))));
}

/** A mempool transaction as block selection sees it: its fee, size and in-mempool parents. */
export interface MempoolTx extends Priced {
  readonly txid: string;
  readonly parents: readonly string[];
}

/**
 * Core's block assembly in miniature: take the transaction whose ancestor set (itself and its
 * unconfirmed ancestors) pays the highest fee rate, with the ancestors first, until none pays
 * `minRate`. Unknown fees count as paying enough.
 */
export function selectForBlock(mempool: ReadonlyMap<string, MempoolTx>, minRate: number): string[] {
  const left = new Set(mempool.keys());
  const chosen: string[] = [];
  for (;;) {
    let best: { set: string[]; rate: number } | null = null;
    for (const txid of left) {
      const set = ancestorSet(txid, mempool, left);
      const rate = rateOf(total(set.map((id) => mempool.get(id)!)));
      if (best === null || rate > best.rate) best = { set, rate };
    }
    if (best === null || best.rate < minRate) return chosen;
    for (const id of best.set) left.delete(id);
    chosen.push(...best.set);
  }
}

function rateOf(p: Priced): number {
  return p.fee === null ? Infinity : Number(p.fee) / Math.max(1, p.vsize);
}

/** The transaction and its ancestors among `left`, ancestors first. */
function ancestorSet(txid: string, mempool: ReadonlyMap<string, MempoolTx>, left: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const visit = (id: string) => {
    if (out.includes(id) || !left.has(id)) return;
    for (const parent of mempool.get(id)!.parents) visit(parent);
    out.push(id);
  };
  visit(txid);
  return out;
}
