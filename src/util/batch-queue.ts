// Group commit, written once: what callers ask for within one turn of the event loop is handed
// over as one batch (one SQLite transaction, one message to a worker), each caller getting its answer.
export interface BatchQueueOptions<T, R> {
  /** Does a batch's work; answers in the order of `items`. A throw fails every caller of the batch. */
  readonly run: (items: readonly T[]) => Promise<readonly R[]>;
  /** Most items in one batch; the rest wait for the next. Default: no limit. */
  readonly maxBatch?: number;
  /**
   * Where a batch runs. The store passes its serial writer, so that batches never overlap its other
   * writes; by default each batch starts at once, and batches may overlap.
   */
  readonly schedule?: (job: () => Promise<void>) => Promise<void>;
}

interface Queued<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class BatchQueue<T, R> {
  private queue: Queued<T, R>[] = [];
  private scheduled = false;

  constructor(private readonly options: BatchQueueOptions<T, R>) {}

  push(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Waits a turn first: the requests already waiting on their sockets join, so batches grow and fsyncs are fewer. */
  private scheduleFlush(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const job = () => nextTurn().then(() => this.flush());
    void (this.options.schedule ? this.options.schedule(job) : job());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.options.maxBatch ?? this.queue.length);
    if (this.queue.length > 0) this.scheduleFlush();
    if (batch.length === 0) return;
    try {
      const results = await this.options.run(batch.map((q) => q.item));
      batch.forEach((q, i) => q.resolve(results[i]!));
    } catch (err) {
      for (const q of batch) q.reject(err);
    }
  }
}
