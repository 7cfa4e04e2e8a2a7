// Worker thread body for WorkerSigner: holds the receipt key and signs the batches it is sent (libsodium).
import { workerData } from 'node:worker_threads';
import { createPrivateKey } from 'node:crypto';
import { answerRequests } from '../util/worker-pool.js';
import { textSigner } from './sodium-signing.js';
import type { SignRequest, SignerWorkerData } from './receipt-signer.js';

const signText = textSigner(createPrivateKey({ key: (workerData as SignerWorkerData).keyDer, format: 'der', type: 'pkcs8' }));

answerRequests((messages: SignRequest) => messages.map(signText));
