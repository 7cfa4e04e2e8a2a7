// Who computes receipt signatures during ingest. Ed25519 is a large share of a submission's CPU,
// so the service signs in a worker thread, batched, keeping it off the event loop and SQLite's pool.
import { Worker } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import { receiptMessage, signReceiptOffThread } from './receipts.js';

export interface ReceiptSigner {
  sign(id: string, locktime: number, sealedSha256Hex: string): Promise<string>;
  close(): Promise<void>;
}

/** Signs on libuv's thread pool (node:crypto's async sign): for tests and tools. */
export class PoolSigner implements ReceiptSigner {
  constructor(private readonly privateKey: KeyObject) {}

  sign(id: string, locktime: number, sealedSha256Hex: string): Promise<string> {
    return signReceiptOffThread(this.privateKey, id, locktime, sealedSha256Hex);
  }

  async close(): Promise<void> {}
}

interface Waiting {
  readonly resolve: (signature: string) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * One worker thread; everything asked for in one turn of the event loop travels in one message,
 * so the per-signature cost on the event loop is a string in an array. A dead worker fails its
 * batch (the submissions answer 503 and are retried by clients) and is replaced on the next call.
 */
export class WorkerSigner implements ReceiptSigner {
  private worker: Worker | null = null;
  private queue: Array<{ message: string; waiting: Waiting }> = [];
  private readonly inflight = new Map<number, Waiting[]>();
  private nextBatch = 1;
  private scheduled = false;
  private closed = false;
  private readonly keyDer: Buffer;

  constructor(privateKey: KeyObject) {
    this.keyDer = privateKey.export({ format: 'der', type: 'pkcs8' });
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./receipt-signer-worker.js', import.meta.url), { workerData: { keyDer: this.keyDer } });
    worker.unref();
    worker.on('message', (msg: { batch: number; signatures: string[] }) => {
      const waiting = this.inflight.get(msg.batch) ?? [];
      this.inflight.delete(msg.batch);
      waiting.forEach((w, i) => w.resolve(msg.signatures[i]!));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const waiting of this.inflight.values()) for (const w of waiting) w.reject(err);
      this.inflight.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`receipt signer exited (${code})`)));
    return worker;
  }

  sign(id: string, locktime: number, sealedSha256Hex: string): Promise<string> {
    if (this.closed) return Promise.reject(new Error('receipt signer is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ message: receiptMessage(id, locktime, sealedSha256Hex), waiting: { resolve, reject } });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    if (queue.length === 0) return;
    this.worker ??= this.spawn();
    const batch = this.nextBatch++;
    this.inflight.set(batch, queue.map((q) => q.waiting));
    this.worker.postMessage({ batch, messages: queue.map((q) => q.message) });
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
