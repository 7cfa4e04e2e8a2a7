// Who computes receipt signatures during ingest. Ed25519 is a large share of a submission's CPU,
// so the service signs in a worker thread, batched, with libsodium, off the event loop and SQLite's pool.
import type { KeyObject } from 'node:crypto';
import { receiptMessage, signReceiptOffThread } from './receipts.js';
import { textSigner } from './sodium-signing.js';
import { WorkerPool } from '../util/worker-pool.js';
import { BatchQueue } from '../util/batch-queue.js';

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

/**
 * Signs on the event loop, at once, with libsodium: no message to another thread (on a single core
 * the worker's round trip costs ~70,000 instructions per submission more, callgrind), but the ~24 µs
 * signature then holds the event loop, which on two or more cores is the part that cannot run in parallel.
 */
export class InlineSigner implements ReceiptSigner {
  private readonly signText: (text: string) => string;

  constructor(privateKey: KeyObject) {
    this.signText = textSigner(privateKey);
  }

  async sign(id: string, locktime: number, sealedSha256Hex: string): Promise<string> {
    return this.signText(receiptMessage(id, locktime, sealedSha256Hex));
  }

  async close(): Promise<void> {}
}

/** What the signer's worker is started with: the receipt key as PKCS#8 DER. */
export interface SignerWorkerData {
  readonly keyDer: Buffer;
}

/** One request to the worker: the receipt messages of one turn; the answer is their signatures, in order. */
export type SignRequest = readonly string[];

/**
 * One worker thread; everything asked for in one turn of the event loop travels in one message,
 * so the per-signature cost on the event loop is a string in an array. A dead worker fails its
 * batch (the submissions answer 503 and are retried by clients) and is replaced on the next call.
 */
export class WorkerSigner implements ReceiptSigner {
  private readonly pool: WorkerPool<SignRequest, string[]>;
  private readonly batches: BatchQueue<string, string>;

  constructor(privateKey: KeyObject) {
    const workerData: SignerWorkerData = { keyDer: privateKey.export({ format: 'der', type: 'pkcs8' }) };
    this.pool = new WorkerPool({ url: new URL('./receipt-signer-worker.js', import.meta.url), workerData, name: 'receipt signer' });
    this.batches = new BatchQueue({ run: (messages) => this.pool.run(messages) });
  }

  sign(id: string, locktime: number, sealedSha256Hex: string): Promise<string> {
    return this.batches.push(receiptMessage(id, locktime, sealedSha256Hex));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
