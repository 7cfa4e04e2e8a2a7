// The README's Python client, exactly as printed there (taken from README.md by its marker), run by
// Debian's python3 (python3-nacl, python3-socks) against a running service through the recording
// SOCKS5 server: it seals, submits and verifies the receipt, and what it sealed is what gets broadcast.
import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RelayStoreClient, verifyReceipt } from '../src/index.js';
import { makeClientWorld, SERVER_NAME, TAMPERING_NAME, type ClientWorld } from './support/client-world.js';
import { storedBlob } from './support/data-dir.js';
import { makeTx } from './support/txs.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const MARKER = '<!-- python-client:';
// Debian's interpreter, where apt installs python3-nacl and python3-socks (scripts/test does), whatever else is on PATH.
const PYTHON = '/usr/bin/python3';

async function snippet(): Promise<string> {
  const text = await readFile(README, 'utf8');
  const after = text.slice(text.indexOf(MARKER));
  const block = /```python\n([\s\S]*?)\n```/.exec(after);
  if (text.indexOf(MARKER) < 0 || !block) throw new Error('README.md has no marked Python client');
  return block[1]!;
}


function runPython(w: ClientWorld, server: string, txHex: string, file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? '', RELAYSTORE_SERVER: server, RELAYSTORE_SOCKS: w.socks.url, RELAYSTORE_TX: txHex };
    const proc = spawn(PYTHON, [file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the README\'s Python client seals, submits through SOCKS by name with fresh credentials and verifies the receipt; the server broadcasts what it sealed', async (t) => {
  const w = await makeClientWorld(t);
  const file = join(w.dir, 'client.py');
  await writeFile(file, await snippet());
  const tx = makeTx({ locktime: w.explorer.tip().height + 1, segwit: true });
  const before = w.socks.connections.length;

  const run = await runPython(w, `http://${SERVER_NAME}`, tx.hex, file);
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { id: string; token: string; receipt: string };
  t.regex(out.token, /^[0-9a-f]{64}$/);

  const mine = w.socks.connections.slice(before).filter((c) => c.host === SERVER_NAME);
  t.deepEqual(mine.map((c) => c.firstLine), ['GET /v1/info HTTP/1.1', 'POST /v1/transactions HTTP/1.1']);
  t.true(mine.every((c) => c.atyp === 'domain' && c.port === 80), 'by name (socks5h): Tor resolves it');
  t.is(new Set(mine.map((c) => c.username)).size, 2, 'fresh credentials per request');

  const client = new RelayStoreClient({ server: `http://${SERVER_NAME}`, socks: w.socks.url });
  const info = await client.info();
  const status = await client.status(out.id);
  t.is(status.status, 'pending');
  t.is(status.locktime, tx.tx.locktime);
  const blob = (await storedBlob(join(w.dir, 'data'), out.id))!;
  t.is(blob.length, 512 + 48, 'padded to 512 bytes, then sealed (48 bytes of overhead)');
  const sealedSha256 = createHash('sha256').update(blob).digest('hex');
  t.is(out.id, sealedSha256.slice(0, 32));
  t.true(verifyReceipt(info.receipts.publicKey, out.receipt, out.id, tx.tx.locktime, sealedSha256), 'the receipt Python checked is the server\'s');

  await w.mine(1);
  await w.explorer.waitForReceived(tx.txid, 20_000);
  t.true(w.explorer.accepted(tx.txid), 'the server opened what Python sealed: padded and sealed as SPEC §2 says');
});

test('the README\'s Python client refuses a receipt that does not verify', async (t) => {
  const w = await makeClientWorld(t);
  const file = join(w.dir, 'client.py');
  await writeFile(file, await snippet());
  const run = await runPython(w, `http://${TAMPERING_NAME}`, makeTx({ locktime: 10 }).hex, file);
  t.not(run.code, 0);
  t.regex(run.stderr, /BadSignatureError/);
  t.is(run.stdout, '', 'no token is printed for a forged receipt');
});
