// SPEC §8: the onion defends itself. Debian's tor accepts torrc.example as written and the managed
// torrc, both with proof-of-work defences on and a cap on streams per circuit that closes the
// circuits over it.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_CIRCUIT_DIRTINESS_S, MAX_STREAMS_PER_CIRCUIT, readControlPortFile, socksPortOf, torrcText } from '../src/tor/managed-tor.js';
import { findTorBinary } from '../src/tor/processes.js';

const EXAMPLE = fileURLToPath(new URL('../../torrc.example', import.meta.url));

const DEFENCES = ['HiddenServicePoWDefensesEnabled 1', `HiddenServiceMaxStreams ${MAX_STREAMS_PER_CIRCUIT}`, 'HiddenServiceMaxStreamsCloseCircuit 1'];

/** `tor --verify-config` on `torrc` (given a scratch directory that tor may inspect); resolves with tor's output. */
async function verify(dir: string, torrc: string): Promise<string> {
  await writeFile(join(dir, 'torrc'), torrc);
  await writeFile(join(dir, 'defaults'), '');
  const tor = await findTorBinary();
  return new Promise<string>((resolve, reject) =>
    execFile(tor, ['--verify-config', '-f', join(dir, 'torrc'), '--defaults-torrc', join(dir, 'defaults')], (err, stdout) => (err ? reject(new Error(`${err.message}\n${stdout}`)) : resolve(stdout))),
  );
}

async function scratch(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-torrc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'onion'), { mode: 0o700 });
  return dir;
}

test('torrc.example sets the onion defences, and tor --verify-config accepts it', async (t) => {
  const text = await readFile(EXAMPLE, 'utf8');
  for (const line of DEFENCES) t.regex(text, new RegExp(`^${line}$`, 'm'));
  const dir = await scratch(t);
  // The example's system paths, moved into the scratch directory.
  const torrc = `DataDirectory ${join(dir, 'data')}\n${text.replace('/var/lib/tor/relaystore/', join(dir, 'onion'))}`;
  t.regex(await verify(dir, torrc), /Configuration was valid/);
});

test('the managed torrc sets the same defences, and tor --verify-config accepts it', async (t) => {
  const dir = await scratch(t);
  const opts = { dataDir: dir, apiHost: '127.0.0.1', apiPort: 8080, log: () => {} };
  const text = torrcText({ dataDirectory: join(dir, 'data'), onionDir: join(dir, 'onion'), controlPortFile: join(dir, 'control-port'), opts });
  for (const line of DEFENCES) t.regex(text, new RegExp(`^${line}$`, 'm'));
  t.regex(await verify(dir, text), /Configuration was valid/);
});

test('the managed torrc lets tor choose both ports as it binds them, on loopback, and write the control port down', async (t) => {
  const dir = await scratch(t);
  const opts = { dataDir: dir, apiHost: '127.0.0.1', apiPort: 8080, log: () => {} };
  const text = torrcText({ dataDirectory: join(dir, 'data'), onionDir: join(dir, 'onion'), controlPortFile: join(dir, 'control-port'), opts });
  t.deepEqual(text.split('\n').filter((l) => /^(Socks|Control)Port/.test(l)), [
    'SocksPort 127.0.0.1:auto IsolateSOCKSAuth',
    'ControlPort 127.0.0.1:auto',
    `ControlPortWriteToFile ${join(dir, 'control-port')}`,
  ]);
});

test('the managed torrc closes used circuits soon: each request has fresh credentials, so none is ever reused', async (t) => {
  const dir = await scratch(t);
  const opts = { dataDir: dir, apiHost: '127.0.0.1', apiPort: 8080, log: () => {} };
  const text = torrcText({ dataDirectory: join(dir, 'data'), onionDir: join(dir, 'onion'), controlPortFile: join(dir, 'control-port'), opts });
  t.regex(text, new RegExp(`^MaxCircuitDirtiness ${MAX_CIRCUIT_DIRTINESS_S}$`, 'm'));
  t.true(MAX_CIRCUIT_DIRTINESS_S >= 10 && MAX_CIRCUIT_DIRTINESS_S < 600, 'shorter than tor\'s 10 minutes, not below its 10 s minimum');
  t.regex(await verify(dir, text), /Configuration was valid/);
});

test('the ports are read back as tor writes them: the control port file, GETINFO net/listeners/socks', async (t) => {
  const dir = await scratch(t);
  const file = join(dir, 'control-port');
  await t.throwsAsync(readControlPortFile(file, { deadline: Date.now() }), { message: /did not write its control port/ });
  await t.throwsAsync(readControlPortFile(file, { deadline: Date.now() + 60_000, isAlive: () => false }), { message: /exited/ });
  await writeFile(file, 'PORT=127.0.0.1:40123\n');
  t.is(await readControlPortFile(file, { deadline: Date.now() }), 40123);
  t.is(socksPortOf('"127.0.0.1:39011"'), 39011);
  t.is(socksPortOf('"[::1]:9050" "127.0.0.1:39012"'), 39012);
  t.throws(() => socksPortOf(''), { message: /no SOCKS listener/ });
  t.throws(() => socksPortOf('"0.0.0.0:9050"'), { message: /no SOCKS listener/ });
});
