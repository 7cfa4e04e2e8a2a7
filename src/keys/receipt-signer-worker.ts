// Worker thread body for WorkerSigner: holds the receipt key and signs the batches it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { createPrivateKey, sign } from 'node:crypto';

const key = createPrivateKey({ key: (workerData as { keyDer: Buffer }).keyDer, format: 'der', type: 'pkcs8' });

parentPort!.on('message', (msg: { batch: number; messages: string[] }) => {
  const signatures = msg.messages.map((m) => sign(null, Buffer.from(m, 'utf8'), key).toString('hex'));
  parentPort!.postMessage({ batch: msg.batch, signatures });
});
