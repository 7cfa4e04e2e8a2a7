// Kills the worker threads behind a WorkerSigner or WorkerOpener, as a crash would: for the
// tests that a dead worker is replaced. terminate() resolves after the pool has seen the exit.
// Also says which threads have started, for the tests of when they start.
import type { Worker } from 'node:worker_threads';

export async function terminateWorkers(holder: object): Promise<number> {
  const workers = runningWorkers(holder);
  await Promise.all(workers.map((w) => w.terminate()));
  return workers.length;
}

/** The threads of the holder's pool that have started (they start on first use). */
export function runningWorkers(holder: object): Worker[] {
  const pool = (holder as { pool: { slots: Array<{ worker: Worker | null }> } }).pool;
  return pool.slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
}
