// Issue 12.6: `relaystore backup` while the service runs and takes submissions, restored exactly as
// the README says into a new data directory whose service broadcasts what it held, with the same keys.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRing } from '../src/keys/keyring.js';
import { Store } from '../src/store/store.js';
import { makeTx } from './support/txs.js';
import { BIN, runCli } from './support/service.js';
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

// Under strace: the order of the system calls is the observable fact (a power loss cannot be staged here).
const traced = spawnSync('strace', ['-V']).status === 0 ? test : test.skip;

traced('the backup is renamed into place and then its directory is fsync\'d, so the backup reported made survives a power loss', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-backup-sync-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const data = join(dir, 'data');
  await KeyRing.loadOrCreate(data);
  await (await Store.open(data, { maxPending: 10 })).close();
  const out = join(dir, 'out');
  await mkdir(out);
  const to = join(out, 'backup.tar');
  const trace = join(dir, 'trace');
  const run = spawnSync('strace', ['-f', '-y', '-o', trace, '-e', 'trace=rename,renameat,renameat2,fsync,fdatasync', process.execPath, BIN, 'backup', '--data-dir', data, '--to', to]);
  t.is(run.status, 0, run.stderr.toString());
  const calls = (await readFile(trace, 'utf8')).split('\n');
  const renamed = calls.findIndex((l) => /rename/.test(l) && l.includes(`"${to}"`) && /= 0$/.test(l));
  t.true(renamed >= 0, 'the backup was renamed into place');
  const synced = calls.findIndex((l, i) => i > renamed && /f(data)?sync\(\d+<([^>]+)>\) = 0$/.exec(l)?.[2] === out);
  t.true(synced > renamed, `no fsync of ${out} after the rename:\n${calls.slice(renamed).join('\n')}`);
});
