// A worker for test/worker-pool.test.ts: answers with its thread id and start data; exits on "die".
import { threadId, workerData } from 'node:worker_threads';
import { answerRequests } from '../../src/util/worker-pool.js';

export type EchoRequest = { readonly say: string } | 'die';
export interface EchoResponse {
  readonly threadId: number;
  readonly said: string;
  readonly tag: string;
}

answerRequests((request: EchoRequest): EchoResponse => {
  if (request === 'die') process.exit(3);
  return { threadId, said: request.say, tag: (workerData as { tag: string }).tag };
});
