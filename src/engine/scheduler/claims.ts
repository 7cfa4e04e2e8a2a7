// Claims: the one owner of "some step is working on this record", so a record is never worked on
// twice at once; opening, sending and tracking claim what they take and release it when done.
export class Claims {
  private readonly held = new Set<string>();
  private idleWaiters: Array<() => void> = [];

  /** The records nobody has claimed (claims none of them). */
  unclaimed<T extends { readonly id: string }>(records: readonly T[]): T[] {
    return records.filter((r) => !this.held.has(r.id));
  }

  /** Claims every record nobody holds and returns those, in order; the others are skipped. */
  take<T extends { readonly id: string }>(records: readonly T[]): T[] {
    const taken: T[] = [];
    for (const r of records) {
      if (this.held.has(r.id)) continue;
      this.held.add(r.id);
      taken.push(r);
    }
    return taken;
  }

  release(id: string): void {
    this.held.delete(id);
    if (this.held.size === 0) this.wakeIdleWaiters();
  }

  /** Resolves once no record is claimed: "idle" for benchmarks and tests. */
  idle(): Promise<void> {
    if (this.held.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
