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
  private readonly worker: Worker;
  private readonly jobs = new Map<number, Job>();
  private nextJob = 1;
  private failure: Error | null = null;

  constructor(keys: readonly SealingKey[]) {
    this.worker = new Worker(new URL('./opener-worker.js', import.meta.url), {
      workerData: { keys: keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey, secretKey: k.secretKey })) },
    });
    this.worker.unref();
    this.worker.on('message', (msg: { job: number; results: OpenResult[] }) => {
      const job = this.jobs.get(msg.job);
      this.jobs.delete(msg.job);
      job?.resolve(msg.results);
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const job of this.jobs.values()) job.reject(err);
      this.jobs.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`opener worker exited (${code})`)));
  }

  open(requests: readonly OpenRequest[]): Promise<OpenResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    const job = this.nextJob++;
    return new Promise((resolve, reject) => {
      this.jobs.set(job, { resolve, reject });
      this.worker.postMessage({ job, requests: requests.map((r) => ({ keyId: r.keyId, locktime: r.locktime, sealed: r.sealed })) });
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
