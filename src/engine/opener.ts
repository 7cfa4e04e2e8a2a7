// The opener: decrypts and validates mature records in a worker thread, so that a popular block
// height (thousands due at once) never stalls the HTTP API on tweetnacl's curve arithmetic.
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { seal } from '../crypto/sealed-box.js';
import type { SealingKey } from '../keys/keyring.js';
import { openTransaction, type OpenResult } from './open-transaction.js';
import { WorkerPool } from '../util/worker-pool.js';

export interface OpenRequest {
  readonly id: string;
  readonly keyId: string;
  readonly locktime: number;
  readonly sealed: Uint8Array;
}

export interface Opener {
  open(requests: readonly OpenRequest[]): Promise<OpenResult[]>;
  /** Records wait to mature: get ready for their burst in the background (only the first call does anything). */
  prepare(): void;
  close(): Promise<void>;
}

/** Opens on the calling thread: for tests and tools, never for the service. */
export class InlineOpener implements Opener {
  private readonly keys: Map<string, SealingKey>;

  constructor(keys: readonly SealingKey[]) {
    this.keys = new Map(keys.map((k) => [k.keyId, k]));
  }

  async open(requests: readonly OpenRequest[]): Promise<OpenResult[]> {
    return requests.map((r) => openTransaction(r.sealed, this.keys.get(r.keyId), r.locktime));
  }

  prepare(): void {}

  async close(): Promise<void> {}
}

/** What one opener worker is started with: every sealing key it may need. */
export interface OpenerWorkerData {
  readonly keys: ReadonlyArray<{ readonly keyId: string; readonly publicKey: Uint8Array; readonly secretKey: Uint8Array }>;
}

/** One record as the worker sees it: no id, only what opening needs. */
export interface OpenJob {
  readonly keyId: string;
  readonly locktime: number;
  readonly sealed: Uint8Array;
}

export interface WorkerOpenerOptions {
  /** Worker threads sharing each batch; default: one per core, at most 4. */
  readonly threads?: number;
}

/**
 * Opens in a small pool of worker threads, each batch split between them: curve25519 in
 * tweetnacl is the whole cost of a maturity burst, and the event loop stays free for the API.
 * A worker that dies (a bug, out of memory) fails its part of the batch and is replaced.
 */
export class WorkerOpener implements Opener {
  private readonly pool: WorkerPool<readonly OpenJob[], OpenResult[]>;
  private readonly warmKey: SealingKey | undefined;
  private warming: Promise<void> | null = null;

  constructor(keys: readonly SealingKey[], options: WorkerOpenerOptions = {}) {
    const workerData: OpenerWorkerData = { keys: keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey, secretKey: k.secretKey })) };
    const size = options.threads ?? Math.min(4, availableParallelism());
    this.pool = new WorkerPool({ url: new URL('./opener-worker.js', import.meta.url), workerData, name: 'opener', size });
    this.warmKey = keys[0];
  }

  async open(requests: readonly OpenRequest[]): Promise<OpenResult[]> {
    const per = Math.ceil(requests.length / this.pool.size);
    const chunks: OpenJob[][] = [];
    for (let i = 0; i < requests.length; i += per) {
      chunks.push(requests.slice(i, i + per).map((r) => ({ keyId: r.keyId, locktime: r.locktime, sealed: r.sealed })));
    }
    const parts = await Promise.all(chunks.map((chunk) => this.pool.run(chunk)));
    return parts.flat();
  }

  /**
   * Starts every thread and runs box.open in each until the JIT has compiled it, so that the first
   * burst of maturities does not pay for thread start-up and cold code: 4.3 s for the first 100
   * records on a loaded 2-core machine, most of a Tor burst's time. Not at start, where it cost
   * 1.1 s of CPU (0.4 s of it sealing 50 blobs on the event loop) before the first answer. A failure
   * (the pool closed while warming) says nothing that opening real records would not say again.
   */
  prepare(): void {
    this.warming ??= this.warm().catch(() => {});
  }

  /** One blob of random bytes sealed to a current key, opened again and again (it opens, then reads as invalid; nothing is kept), in small pieces so that a real batch waits behind one at most. */
  private async warm(): Promise<void> {
    if (!this.warmKey) return;
    const job: OpenJob = { keyId: this.warmKey.keyId, locktime: 0, sealed: seal(this.warmKey.publicKey, randomBytes(256)) };
    const piece = Array.from({ length: WARM_PIECE }, () => job);
    for (let done = 0; done < WARM_OPENS; done += WARM_PIECE) {
      await Promise.all(Array.from({ length: this.pool.size }, () => this.pool.run(piece)));
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Opens per thread when warming (a burst of 100 then took 0.2 s, against 0.43 s after 5 and 1.2 s cold), and per message. */
const WARM_OPENS = 50;
const WARM_PIECE = 10;
