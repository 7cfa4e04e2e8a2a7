// The opener: decrypts and validates mature records in a worker thread, so that a popular block
// height (thousands due at once) never stalls the HTTP API on tweetnacl's curve arithmetic.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { SealingKey } from '../keys/keyring.js';
import { openTransaction, type OpenResult } from './open-transaction.js';

export interface OpenRequest {
  readonly id: string;
  readonly keyId: string;
  readonly locktime: number;
  readonly sealed: Uint8Array;
}

export interface Opener {
  open(requests: readonly OpenRequest[]): Promise<OpenResult[]>;
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

  async close(): Promise<void> {}
}

interface Job {
  readonly resolve: (results: OpenResult[]) => void;
  readonly reject: (err: unknown) => void;
}

/** One worker thread; a worker that dies (a bug, out of memory) fails its jobs and is replaced on the next open. */
class OpenerThread {
  worker: Worker | null = null;
  private readonly jobs = new Map<number, Job>();
  private nextJob = 1;

  constructor(private readonly keys: readonly SealingKey[]) {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./opener-worker.js', import.meta.url), {
      workerData: { keys: this.keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey, secretKey: k.secretKey })) },
    });
    worker.unref();
    worker.on('message', (msg: { job: number; results: OpenResult[] }) => {
      const job = this.jobs.get(msg.job);
      this.jobs.delete(msg.job);
      job?.resolve(msg.results);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const job of this.jobs.values()) job.reject(err);
      this.jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`opener worker exited (${code})`)));
    return worker;
  }

  open(requests: readonly OpenRequest[]): Promise<OpenResult[]> {
    this.worker ??= this.spawn();
    const worker = this.worker;
    const job = this.nextJob++;
    return new Promise((resolve, reject) => {
      this.jobs.set(job, { resolve, reject });
      worker.postMessage({ job, requests: requests.map((r) => ({ keyId: r.keyId, locktime: r.locktime, sealed: r.sealed })) });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) {
      worker.removeAllListeners('exit');
      await worker.terminate();
    }
  }
}

export interface WorkerOpenerOptions {
  /** Worker threads sharing each batch; default: one per core, at most 4. */
  readonly threads?: number;
}

/**
 * Opens in a small pool of worker threads, each batch split between them: curve25519 in
 * tweetnacl is the whole cost of a maturity burst, and the event loop stays free for the API.
 */
export class WorkerOpener implements Opener {
  private readonly threads: OpenerThread[];
  private closed = false;

  constructor(keys: readonly SealingKey[], options: WorkerOpenerOptions = {}) {
    const n = Math.max(1, Math.floor(options.threads ?? Math.min(4, availableParallelism())));
    this.threads = Array.from({ length: n }, () => new OpenerThread(keys));
  }

  async open(requests: readonly OpenRequest[]): Promise<OpenResult[]> {
    if (this.closed) throw new Error('opener is closed');
    if (requests.length === 0) return [];
    const per = Math.ceil(requests.length / this.threads.length);
    const parts = await Promise.all(
      this.threads.map((thread, i) => {
        const chunk = requests.slice(i * per, (i + 1) * per);
        return chunk.length ? thread.open(chunk) : Promise.resolve([]);
      }),
    );
    return parts.flat();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
