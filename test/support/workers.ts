// Kills the worker threads behind a WorkerSigner or WorkerOpener, as a crash would: for the
// tests that a dead worker is replaced. terminate() resolves after the pool has seen the exit.
import type { Worker } from 'node:worker_threads';

export async function terminateWorkers(holder: object): Promise<number> {
  const pool = (holder as { pool: { slots: Array<{ worker: Worker | null }> } }).pool;
  const workers = pool.slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
  await Promise.all(workers.map((w) => w.terminate()));
  return workers.length;
}
