// The opener: decrypts and validates mature records in a worker thread, so that a popular block
// height (thousands due at once) never stalls the HTTP API on tweetnacl's curve arithmetic.
import { Worker } from 'node:worker_threads';
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

export class WorkerOpener implements Opener {
  private worker: Worker | null = null;
  private readonly jobs = new Map<number, Job>();
  private nextJob = 1;
  private closed = false;

  constructor(private readonly keys: readonly SealingKey[]) {
    this.worker = this.spawn();
  }

  /** A worker that dies (a bug, out of memory) fails its jobs and is replaced on the next open. */
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
    if (this.closed) return Promise.reject(new Error('opener is closed'));
    this.worker ??= this.spawn();
    const worker = this.worker;
    const job = this.nextJob++;
    return new Promise((resolve, reject) => {
      this.jobs.set(job, { resolve, reject });
      worker.postMessage({ job, requests: requests.map((r) => ({ keyId: r.keyId, locktime: r.locktime, sealed: r.sealed })) });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) {
      worker.removeAllListeners('exit');
      await worker.terminate();
    }
  }
}
