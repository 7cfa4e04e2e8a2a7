// Issue 12.6: `relaystore backup` while the service runs and takes submissions, restored exactly as
// the README says into a new data directory whose service broadcasts what it held, with the same keys.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTx } from './support/txs.js';
import { runCli } from './support/service.js';
import { mine, restartService, startServiceWorld } from './support/service-world.js';

function tar(...args: string[]): Promise<number | null> {
  return new Promise((resolve) => spawn('tar', args, { stdio: 'ignore' }).on('exit', resolve));
}

test.serial('an online backup restores into a new data directory that broadcasts what it held', async (t) => {
  const w = await startServiceWorld(t);
  const height = w.explorer.tip().height;
  const txs = [makeTx({ locktime: height + 1 }), makeTx({ locktime: height + 2 })];
  const held = await Promise.all(txs.map((tx, i) => w.client.submit(tx.hex, height + 1 + i)));
  const cancelled = await w.client.submit(makeTx({ locktime: height + 1 }).hex, height + 1);
  await w.client.json('DELETE', `/v1/transactions/${cancelled.id}`, undefined, { authorization: `Bearer ${cancelled.token}` });
  const keyId = (await w.client.json('GET', '/v1/info')).json.sealing.keyId;

  // Online: submissions keep coming while the backup is taken.
  let writing = true;
  const during = (async () => {
    for (let n = 0; writing && n < 200; n++) await w.client.submit(makeTx({ locktime: height + 50 }).hex, height + 50);
  })();
  const file = join(w.dir, 'backup.tar');
  const made = await runCli(['backup', '--data-dir', join(w.dir, 'data'), '--to', file]);
  writing = false;
  await during;
  t.is(made.code, 0, made.stderr);
  t.is((await stat(file)).mode & 0o777, 0o600);
  await w.service.kill('SIGTERM');

  const restored = join(w.dir, 'restored');
  await mkdir(restored, { mode: 0o700 });
  t.is(await tar('-xf', file, '-C', restored), 0);
  w.args = w.args.map((a) => (a === join(w.dir, 'data') ? restored : a));
  await restartService(w);
  t.is((await w.client.json('GET', '/v1/info')).json.sealing.keyId, keyId, 'the keys came along');
  t.is((await w.client.status(cancelled.id)).status, 'cancelled');
  await mine(w, 2);
  for (const [i, h] of held.entries()) {
    await w.client.waitForStatus(h.id, (r) => r.status === 'broadcast' || r.status === 'confirmed');
    t.true(w.explorer.accepted(txs[i]!.txid));
  }
});
