// Worker thread body for WorkerOpener: holds the sealing keys and opens batches it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { openTransaction, type KeyPair } from './open-transaction.js';

const keys = new Map<string, KeyPair>(
  (workerData as { keys: Array<{ keyId: string; publicKey: Uint8Array; secretKey: Uint8Array }> }).keys.map((k) => [k.keyId, k]),
);

parentPort!.on('message', (msg: { job: number; requests: Array<{ keyId: string; locktime: number; sealed: Uint8Array }> }) => {
  const results = msg.requests.map((r) => openTransaction(r.sealed, keys.get(r.keyId), r.locktime));
  parentPort!.postMessage({ job: msg.job, results });
});
