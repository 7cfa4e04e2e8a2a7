// SPEC §8: the onion defends itself. Debian's tor accepts torrc.example as written, with
// proof-of-work defences on and a cap on streams per circuit that closes the circuits over it.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_STREAMS_PER_CIRCUIT } from '../src/tor/managed-tor.js';
import { findTorBinary } from '../src/tor/processes.js';

const EXAMPLE = fileURLToPath(new URL('../../torrc.example', import.meta.url));

test('torrc.example sets the onion defences, and tor --verify-config accepts it', async (t) => {
  const text = await readFile(EXAMPLE, 'utf8');
  for (const line of ['HiddenServicePoWDefensesEnabled 1', `HiddenServiceMaxStreams ${MAX_STREAMS_PER_CIRCUIT}`, 'HiddenServiceMaxStreamsCloseCircuit 1']) {
    t.regex(text, new RegExp(`^${line}$`, 'm'));
  }
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-torrc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'onion'), { mode: 0o700 });
  // The example's system paths, moved into a scratch directory that tor may inspect.
  const torrc = `DataDirectory ${join(dir, 'data')}\n${text.replace('/var/lib/tor/relaystore/', join(dir, 'onion'))}`;
  await writeFile(join(dir, 'torrc'), torrc);
  await writeFile(join(dir, 'defaults'), '');
  const tor = await findTorBinary();
  const out = await new Promise<string>((resolve, reject) =>
    execFile(tor, ['--verify-config', '-f', join(dir, 'torrc'), '--defaults-torrc', join(dir, 'defaults')], (err, stdout) => (err ? reject(new Error(`${err.message}\n${stdout}`)) : resolve(stdout))),
  );
  t.regex(out, /Configuration was valid/);
});
