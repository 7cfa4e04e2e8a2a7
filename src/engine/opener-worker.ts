// Worker thread body for WorkerOpener: holds the sealing keys and opens the batches it is sent.
import { workerData } from 'node:worker_threads';
import { openTransaction, type KeyPair } from './open-transaction.js';
import { answerRequests } from '../util/worker-pool.js';
import type { OpenJob, OpenerWorkerData } from './opener.js';

const keys = new Map<string, KeyPair>((workerData as OpenerWorkerData).keys.map((k) => [k.keyId, k]));

answerRequests((jobs: readonly OpenJob[]) => jobs.map((j) => openTransaction(j.sealed, keys.get(j.keyId), j.locktime)));
