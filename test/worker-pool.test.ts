// The worker-pool helper behind the receipt signer and the opener: typed answers, a dead worker
// replaced, a bounded number of requests in flight, and close().
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { WorkerPool } from '../src/util/worker-pool.js';
import type { EchoRequest, EchoResponse } from './support/echo-worker.js';

function echoPool(options: { size?: number; maxInflight?: number } = {}): WorkerPool<EchoRequest, EchoResponse> {
  return new WorkerPool({ url: new URL('./support/echo-worker.js', import.meta.url), workerData: { tag: 'started-with' }, name: 'echo', ...options });
}

test('each request gets its own answer; requests in flight together go to different threads', async (t) => {
  const pool = echoPool({ size: 2 });
  t.teardown(() => pool.close());
  const answers = await Promise.all(['a', 'b'].map((say) => pool.run({ say })));
  t.deepEqual(answers.map((a) => [a.said, a.tag]), [['a', 'started-with'], ['b', 'started-with']]);
  t.not(answers[0]!.threadId, answers[1]!.threadId);
});

test('a worker that dies fails its request and is replaced by the next one', async (t) => {
  const pool = echoPool();
  t.teardown(() => pool.close());
  const before = await pool.run({ say: 'x' });
  await t.throwsAsync(pool.run('die'), { message: 'echo exited (3)' });
  const after = await pool.run({ say: 'y' });
  t.is(after.said, 'y');
  t.not(after.threadId, before.threadId);
});

test('requests beyond maxInflight are refused, not queued', async (t) => {
  const pool = echoPool({ maxInflight: 2 });
  t.teardown(() => pool.close());
  const first = [pool.run({ say: '1' }), pool.run({ say: '2' })];
  await t.throwsAsync(pool.run({ say: '3' }), { message: /echo is busy/ });
  t.deepEqual((await Promise.all(first)).map((a) => a.said), ['1', '2']);
  t.is((await pool.run({ say: '4' })).said, '4');
});

test('close() fails what is unanswered and refuses what comes after', async (t) => {
  const pool = echoPool();
  const unanswered = pool.run({ say: 'late' });
  await pool.close();
  await t.throwsAsync(unanswered, { message: 'echo is closed' });
  await t.throwsAsync(pool.run({ say: 'after' }), { message: 'echo is closed' });
});

test('an awaited answer keeps the process alive until it comes, and the idle pool then lets it end', async (t) => {
  const script = [
    `import { WorkerPool } from ${JSON.stringify(new URL('../src/util/worker-pool.js', import.meta.url).href)};`,
    `const pool = new WorkerPool({ url: new URL(${JSON.stringify(new URL('./support/echo-worker.js', import.meta.url).href)}), workerData: { tag: 't' }, name: 'echo' });`,
    `console.log((await pool.run({ say: 'answered' })).said);`,
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'relaystore-pool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'await-one.mjs'), script);
  const child = spawnSync(process.execPath, [join(dir, 'await-one.mjs')], { encoding: 'utf8', timeout: 60_000 });
  t.is(child.stdout.trim(), 'answered', child.stderr);
  t.is(child.status, 0);
});
