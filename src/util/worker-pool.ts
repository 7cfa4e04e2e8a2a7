// A small pool of worker threads that answer typed requests, one reply per request: the one way
// the service moves CPU-heavy work (receipt signatures, opening sealed blobs) off the event loop.
import { Worker, parentPort } from 'node:worker_threads';

export interface WorkerPoolOptions {
  /** The worker's module; it calls answerRequests() with the handler for this pool's requests. */
  readonly url: URL;
  /** Handed to every worker at start (keys: each worker holds its own copy). */
  readonly workerData: unknown;
  /** Named in errors, e.g. "opener worker". */
  readonly name: string;
  /** Worker threads; default 1. */
  readonly size?: number;
  /** Most requests unanswered at once; more are refused rather than queued without end. */
  readonly maxInflight?: number;
}

interface Request<Req> {
  readonly id: number;
  readonly request: Req;
}

interface Reply<Res> {
  readonly id: number;
  readonly response: Res;
}

interface Waiting<Res> {
  readonly resolve: (response: Res) => void;
  readonly reject: (err: unknown) => void;
}

/** One thread of the pool and what it owes; a worker that dies fails its requests and leaves its slot empty. */
class Slot<Res> {
  worker: Worker | null = null;
  readonly waiting = new Map<number, Waiting<Res>>();

  fail(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}

/**
 * Requests go to the thread with the fewest unanswered ones. A thread holds the process open only
 * while it owes an answer (an idle one never keeps a finished program alive; a busy one must, or an
 * awaited answer is lost when nothing else is pending). Threads start on first use; one that
 * died (a bug, out of memory, terminated) is replaced by the next request that lands on its slot.
 */
export class WorkerPool<Req, Res> {
  private readonly slots: Slot<Res>[];
  private readonly maxInflight: number;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions) {
    this.slots = Array.from({ length: Math.max(1, Math.floor(options.size ?? 1)) }, () => new Slot<Res>());
    this.maxInflight = options.maxInflight ?? 1024;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Answers one request; rejects if the pool is closed or full, or if the worker dies meanwhile. */
  run(request: Req): Promise<Res> {
    if (this.closed) return Promise.reject(new Error(`${this.options.name} is closed`));
    if (this.inflight() >= this.maxInflight) return Promise.reject(new Error(`${this.options.name} is busy (${this.maxInflight} requests waiting)`));
    const slot = this.slots.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
    slot.worker ??= this.spawn(slot);
    const id = this.nextId++;
    return new Promise<Res>((resolve, reject) => {
      slot.waiting.set(id, { resolve, reject });
      slot.worker!.ref();
      slot.worker!.postMessage({ id, request } satisfies Request<Req>);
    });
  }

  private inflight(): number {
    return this.slots.reduce((n, slot) => n + slot.waiting.size, 0);
  }

  private spawn(slot: Slot<Res>): Worker {
    const worker = new Worker(this.options.url, { workerData: this.options.workerData });
    worker.on('message', ({ id, response }: Reply<Res>) => {
      const waiting = slot.waiting.get(id);
      slot.waiting.delete(id);
      if (slot.waiting.size === 0) worker.unref();
      waiting?.resolve(response);
    });
    worker.on('error', (err) => slot.fail(worker, err));
    worker.on('exit', (code) => slot.fail(worker, new Error(`${this.options.name} exited (${code})`)));
    return worker;
  }

  /** Stops every thread; unanswered requests are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        const worker = slot.worker;
        if (worker) {
          slot.fail(worker, new Error(`${this.options.name} is closed`));
          await worker.terminate();
        }
      }),
    );
  }
}

/** The worker's side: answers each request of a WorkerPool<Req, Res> with `handle`. */
export function answerRequests<Req, Res>(handle: (request: Req) => Res): void {
  if (!parentPort) throw new Error('answerRequests() runs only in a worker thread');
  const port = parentPort;
  port.on('message', ({ id, request }: Request<Req>) => port.postMessage({ id, response: handle(request) } satisfies Reply<Res>));
}
