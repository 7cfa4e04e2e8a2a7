// One Esplora explorer's HTTP API (the routes RelayStore uses), with every answer shape-checked.
import type { Tip } from '../domain/locktime.js';
import type { HttpOutcome, SocksCredentials, Transport } from '../net/transport.js';
import { classifyBroadcast, type BroadcastAnswer } from './esplora-errors.js';
import { classifyPackage } from './package-answer.js';
import { parseFeeEstimates, type FeeEstimates } from './fee-estimates.js';

export type Unreachable = { readonly kind: 'unreachable'; readonly reason: string };

export type TipAnswer = { readonly kind: 'tip'; readonly tip: Tip } | Unreachable;
export type TxStatusAnswer =
  | { readonly kind: 'confirmed'; readonly blockHeight: number; readonly blockHash: string }
  | { readonly kind: 'mempool' }
  | { readonly kind: 'unknown' }
  | Unreachable;
export type PostAnswer = BroadcastAnswer | Unreachable;
/** `no_endpoint`: the explorer answered 404 at that package path. */
export type PackagePostAnswer = PostAnswer | { readonly kind: 'no_endpoint' };
export type FeeEstimatesAnswer = { readonly kind: 'estimates'; readonly estimates: FeeEstimates } | Unreachable;

/** Blockstream's Esplora serves packages at /txs/package, mempool.space's backend at /v1/txs/package. */
export type PackagePath = '/txs/package' | '/v1/txs/package';

const HASH_RE = /^[0-9a-f]{64}$/;
const SMALL = 4 * 1024;
const BLOCK_JSON = 64 * 1024;
// submitpackage's result: at most 25 tx-results entries of a few hundred bytes each.
const PACKAGE_JSON = 64 * 1024;

export interface EsploraLimits {
  readonly timeoutMs: number;
}

export class Esplora {
  readonly base: string;

  constructor(
    base: string,
    private readonly transport: Transport,
    private readonly limits: EsploraLimits = { timeoutMs: 30_000 },
  ) {
    this.base = base.replace(/\/+$/, '');
  }

  /** The configured request timeout (--request-timeout). */
  get timeoutMs(): number {
    return this.limits.timeoutMs;
  }

  /** For logs: the explorer's host, never credentials. */
  get label(): string {
    return new URL(this.base).host;
  }

  private get(path: string, credentials: SocksCredentials, maxBytes: number, timeoutMs = this.limits.timeoutMs): Promise<HttpOutcome> {
    return this.transport.request(this.base + path, { method: 'GET', credentials, timeoutMs, maxBytes });
  }

  async tip(credentials: SocksCredentials): Promise<TipAnswer> {
    const hashAnswer = await this.get('/blocks/tip/hash', credentials, SMALL);
    if (hashAnswer.kind === 'unreachable') return hashAnswer;
    const hash = hashAnswer.body.trim();
    if (hashAnswer.status !== 200 || !HASH_RE.test(hash)) return { kind: 'unreachable', reason: `tip hash: HTTP ${hashAnswer.status}, unusable answer` };
    const blockAnswer = await this.get(`/block/${hash}`, credentials, BLOCK_JSON);
    if (blockAnswer.kind === 'unreachable') return blockAnswer;
    if (blockAnswer.status !== 200) return { kind: 'unreachable', reason: `block: HTTP ${blockAnswer.status}` };
    let block: { id?: unknown; height?: unknown; mediantime?: unknown };
    try {
      block = JSON.parse(blockAnswer.body) as typeof block;
    } catch {
      return { kind: 'unreachable', reason: 'block: not JSON' };
    }
    const { height, mediantime, id } = block ?? {};
    if (id !== hash || !isUint(height) || !isUint(mediantime)) return { kind: 'unreachable', reason: 'block: unexpected shape' };
    return { kind: 'tip', tip: { height, hash, medianTime: mediantime } };
  }

  /** `timeoutMs`: this attempt's deadline, when shorter than the configured one (the pacer's). */
  async broadcast(rawHex: string, credentials: SocksCredentials, timeoutMs = this.limits.timeoutMs): Promise<PostAnswer> {
    const answer = await this.transport.request(this.base + '/tx', {
      method: 'POST',
      body: rawHex,
      credentials,
      timeoutMs,
      maxBytes: SMALL,
    });
    if (answer.kind === 'unreachable') return answer;
    return classifyBroadcast(answer.status, answer.body);
  }

  /** Bitcoin Core's submitpackage behind the explorer: hex strings, parents first, the child last. */
  async broadcastPackage(rawHexes: readonly string[], path: PackagePath, credentials: SocksCredentials, timeoutMs = this.limits.timeoutMs): Promise<PackagePostAnswer> {
    const answer = await this.transport.request(this.base + path, {
      method: 'POST',
      body: JSON.stringify(rawHexes),
      contentType: 'application/json',
      credentials,
      timeoutMs,
      maxBytes: PACKAGE_JSON,
    });
    if (answer.kind === 'unreachable') return answer;
    if (answer.status === 404) return { kind: 'no_endpoint' };
    return classifyPackage(answer.status, answer.body);
  }

  async feeEstimates(credentials: SocksCredentials): Promise<FeeEstimatesAnswer> {
    const answer = await this.get('/fee-estimates', credentials, SMALL);
    if (answer.kind === 'unreachable') return answer;
    if (answer.status !== 200) return { kind: 'unreachable', reason: `fee estimates: HTTP ${answer.status}` };
    const estimates = parseFeeEstimates(answer.body);
    return estimates ? { kind: 'estimates', estimates } : { kind: 'unreachable', reason: 'fee estimates: unexpected shape' };
  }

  async txStatus(txid: string, credentials: SocksCredentials, timeoutMs = this.limits.timeoutMs): Promise<TxStatusAnswer> {
    const answer = await this.get(`/tx/${txid}/status`, credentials, SMALL, timeoutMs);
    if (answer.kind === 'unreachable') return answer;
    if (answer.status === 404) return { kind: 'unknown' };
    if (answer.status !== 200) return { kind: 'unreachable', reason: `tx status: HTTP ${answer.status}` };
    let status: { confirmed?: unknown; block_height?: unknown; block_hash?: unknown };
    try {
      status = JSON.parse(answer.body) as typeof status;
    } catch {
      return { kind: 'unreachable', reason: 'tx status: not JSON' };
    }
    if (status?.confirmed === false) return { kind: 'mempool' };
    if (status?.confirmed === true && isUint(status.block_height) && typeof status.block_hash === 'string') {
      return { kind: 'confirmed', blockHeight: status.block_height, blockHash: status.block_hash };
    }
    return { kind: 'unreachable', reason: 'tx status: unexpected shape' };
  }

  /** Whether the explorer knows the transaction at all (mempool or chain): GET /tx/:txid. */
  async knows(txid: string, credentials: SocksCredentials, timeoutMs = this.limits.timeoutMs): Promise<boolean | Unreachable> {
    const answer = await this.get(`/tx/${txid}`, credentials, 1024 * 1024, timeoutMs);
    if (answer.kind === 'unreachable') return answer;
    if (answer.status === 404) return false;
    if (answer.status !== 200) return { kind: 'unreachable', reason: `tx: HTTP ${answer.status}` };
    try {
      return (JSON.parse(answer.body) as { txid?: unknown }).txid === txid;
    } catch {
      return { kind: 'unreachable', reason: 'tx: not JSON' };
    }
  }
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}
