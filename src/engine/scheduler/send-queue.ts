// The send queue: claimed records waiting for the broadcaster, at most `max` of them sent at once.
// A record's claim passes to the queue with it and is released when its send is over.
import type { DueRecord } from '../../domain/record.js';
import type { Claims } from './claims.js';

export class SendQueue {
  private readonly waiting: DueRecord[] = [];
  private running = 0;

  constructor(
    private readonly max: number,
    private readonly claims: Claims,
    private readonly send: (record: DueRecord) => Promise<void>,
  ) {}

  /** Queues a record that the caller has claimed. */
  push(record: DueRecord): void {
    this.waiting.push(record);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.max && this.waiting.length > 0) {
      const record = this.waiting.shift()!;
      this.running++;
      void this.send(record).finally(() => {
        this.running--;
        this.claims.release(record.id);
        this.pump();
      });
    }
  }
}
