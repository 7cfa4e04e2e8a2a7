// Worker thread body for WorkerSigner: holds the receipt key and signs the batches it is sent.
import { workerData } from 'node:worker_threads';
import { createPrivateKey, sign } from 'node:crypto';
import { answerRequests } from '../util/worker-pool.js';
import type { SignRequest, SignerWorkerData } from './receipt-signer.js';

const key = createPrivateKey({ key: (workerData as SignerWorkerData).keyDer, format: 'der', type: 'pkcs8' });

answerRequests((messages: SignRequest) => messages.map((m) => sign(null, Buffer.from(m, 'utf8'), key).toString('hex')));
