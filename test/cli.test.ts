// `relaystore info | submit | status | cancel` as a person runs them, against a running service
// reached through a real SOCKS5 server by name; exit codes, receipts file, and libsodium interop.
import test from 'ava';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sodium from 'libsodium-wrappers';
import { makeClientWorld, SERVER_NAME, type ClientWorld } from './support/client-world.js';
import { runCli } from './support/service.js';
import { storedBlob } from './support/data-dir.js';
import { makeTx } from './support/txs.js';
import { SOCKS_REPLY } from './support/socks5-server.js';
import { until } from './support/wait.js';
import { pad } from '../src/crypto/padding.js';

function args(w: ClientWorld, ...rest: string[]): string[] {
  return [...rest, '--server', w.server, '--socks', w.socks.url];
}


test('info shows the network, tip and keys, in words or as JSON', async (t) => {
  const w = await makeClientWorld(t);
  const human = await runCli(args(w, 'info'));
  t.is(human.code, 0, human.stderr);
  t.regex(human.stdout, /relaystore 1\.0\.0 on regtest/);
  t.regex(human.stdout, new RegExp(`tip +${w.explorer.tip().height} `));
  t.regex(human.stderr, /connecting to relaystore\.test through Tor/);
  const json = await runCli(args(w, 'info', '--json', '--quiet'));
  t.is(json.code, 0);
  t.is(json.stderr, '');
  const info = JSON.parse(json.stdout);
  t.is(info.network, 'regtest');
  t.regex(info.sealing.publicKey, /^[0-9a-f]{64}$/);
});

test('submit (argument, @file, stdin) saves id, txid and token to a 0600 receipts file before printing them; libsodium opens what the CLI sealed', async (t) => {
  const w = await makeClientWorld(t);
  await sodium.ready;
  const receipts = join(w.dir, 'wallet', 'receipts.jsonl');
  const keys = JSON.parse(await readFile(join(w.dir, 'data', 'keys.json'), 'utf8'));
  const key = keys.sealing.find((k: { keyId: string }) => k.keyId === keys.current);

  const txs = [makeTx({ locktime: 400 }), makeTx({ locktime: 401, segwit: true }), makeTx({ locktime: 402 })];
  await writeFile(join(w.dir, 'tx.hex'), txs[1]!.hex + '\n');
  const runs = [
    await runCli(args(w, 'submit', txs[0]!.hex, '--receipts', receipts, '--json')),
    await runCli(args(w, 'submit', `@${join(w.dir, 'tx.hex')}`, '--receipts', receipts, '--json')),
    await runCli(args(w, 'submit', '--receipts', receipts, '--json'), {}, txs[2]!.bytes),
  ];
  const lines = (await readFile(receipts, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  t.is(lines.length, 3);
  t.is((await stat(receipts)).mode & 0o777, 0o600);
  t.is((await stat(join(w.dir, 'wallet'))).mode & 0o777, 0o700);
  for (const [i, run] of runs.entries()) {
    t.is(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    t.is(out.txid, txs[i]!.txid);
    t.is(out.locktime, 401 + i - 1);
    t.is(out.receiptsFile, receipts);
    t.like(lines[i], { server: w.server, id: out.id, token: out.token, txid: txs[i]!.txid, receipt: out.receipt });
    const blob = await storedBlob(join(w.dir, 'data'), out.id);
    t.truthy(blob);
    const opened = sodium.crypto_box_seal_open(blob!, Buffer.from(key.publicKey, 'hex'), Buffer.from(key.secretKey, 'hex'));
    t.deepEqual(Buffer.from(opened), Buffer.from(pad(txs[i]!.bytes)), 'padded to SPEC §2 and sealed as libsodium does');
  }
  t.true(w.socks.connections.filter((c) => c.host === SERVER_NAME).every((c) => c.atyp === 'domain' && c.username !== null));
});

test('what libsodium seals, the server opens: status --watch follows it to confirmed with the right txid, through a Tor outage', async (t) => {
  const w = await makeClientWorld(t);
  await sodium.ready;
  const info = JSON.parse((await runCli(args(w, 'info', '--json', '--quiet'))).stdout);
  const tx = makeTx({ locktime: w.explorer.tip().height + 1 });
  const sealed = sodium.crypto_box_seal(pad(tx.bytes), Buffer.from(info.sealing.publicKey, 'hex'));
  const res = await fetch(`${w.service.url}/v1/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ locktime: tx.tx.locktime, sealed: Buffer.from(sealed).toString('hex') }),
  });
  t.is(res.status, 201);
  const { id } = (await res.json()) as { id: string };

  let sawPending: () => void = () => {};
  const pendingSeen = new Promise<void>((resolve) => (sawPending = resolve));
  const watching = runCli(args(w, 'status', id, '--watch', '--interval', '0.2', '--json'), {}, undefined, (out) => {
    if (out.includes('"pending"')) sawPending();
  });
  await pendingSeen;
  // Tor loses its circuits for a while: the watch says so and carries on (it is refused twice).
  const mark = w.socks.connections.length;
  const refusedWatches = () => w.socks.connections.slice(mark).filter((c) => c.host === SERVER_NAME && c.reply === SOCKS_REPLY.generalFailure).length;
  w.socks.setRefuse(true);
  await until(() => refusedWatches() >= 2, 'the watch tries again through the outage');
  w.socks.setRefuse(false);
  await w.mine(1);
  await w.explorer.waitForReceived(tx.txid, 20_000);
  await w.mine(2);
  const run = await watching;
  t.is(run.code, 0, run.stderr);
  const seen = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.is(seen[0].status, 'pending');
  t.is(seen.at(-1).status, 'confirmed');
  t.is(seen.at(-1).txid, tx.txid);
  t.regex(run.stderr, /cannot reach relaystore\.test: .*; trying again in 0\.2 s/);
  const human = await runCli(args(w, 'status', id));
  t.regex(human.stdout, new RegExp(`^${id}  confirmed  locktime ${tx.tx.locktime} \\(height\\)  txid ${tx.txid}`));
});

test('cancel takes the token from the receipts file; a wrong token is a refusal (exit 4)', async (t) => {
  const w = await makeClientWorld(t);
  const receipts = join(w.dir, 'receipts.jsonl');
  const sub = await runCli(args(w, 'submit', makeTx({ locktime: 900 }).hex, '--receipts', receipts, '--json'));
  const { id } = JSON.parse(sub.stdout);
  const wrong = await runCli(args(w, 'cancel', id, '--token-file', '-'), {}, 'ab'.repeat(32) + '\n');
  t.is(wrong.code, 4);
  t.regex(wrong.stderr, /403 forbidden/);
  const ok = await runCli(args(w, 'cancel', id, '--receipts', receipts));
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /cancelled/);
  const status = await runCli(args(w, 'status', id, '--json'));
  t.is(JSON.parse(status.stdout).status, 'cancelled');
  const unknown = await runCli(args(w, 'cancel', '00'.repeat(16), '--receipts', receipts));
  t.is(unknown.code, 2, 'no token anywhere is a usage error');
  t.regex(unknown.stderr, /no token given/);
});

test('cancel --token-file FILE keeps the token out of ps and shell history; a token as an argument still works, with a warning', async (t) => {
  const w = await makeClientWorld(t);
  const receipts = join(w.dir, 'receipts.jsonl');
  const submit = async (locktime: number) => JSON.parse((await runCli(args(w, 'submit', makeTx({ locktime }).hex, '--receipts', receipts, '--json'))).stdout) as { id: string; token: string };
  const [fromFile, fromArg] = [await submit(901), await submit(902)];
  const tokenFile = join(w.dir, 'token');
  await writeFile(tokenFile, `${fromFile.token}\n`, { mode: 0o600 });
  const viaFile = await runCli(args(w, 'cancel', fromFile.id, '--token-file', tokenFile));
  t.is(viaFile.code, 0, viaFile.stderr);
  t.notRegex(viaFile.stderr, /visible to other users/);
  const both = await runCli(args(w, 'cancel', fromArg.id, fromArg.token, '--token-file', tokenFile));
  t.is(both.code, 2);
  const missing = await runCli(args(w, 'cancel', fromArg.id, '--token-file', join(w.dir, 'nothing')));
  t.is(missing.code, 2);
  t.regex(missing.stderr, /cannot read .*nothing: ENOENT/);
  const viaArg = await runCli(args(w, 'cancel', fromArg.id, fromArg.token));
  t.is(viaArg.code, 0, viaArg.stderr);
  t.regex(viaArg.stderr, /visible to other users \(ps\) and kept in shell history; use --token-file/);
  const help = await runCli(['cancel', '--help']);
  t.regex(help.stdout, /Do not give the token as an argument/);
});

test('submit whose receipts file cannot be written still prints the token, says so and exits 1', async (t) => {
  const w = await makeClientWorld(t);
  // A directory where the file should be: the append fails after the server accepted.
  const run = await runCli(args(w, 'submit', makeTx({ locktime: 903 }).hex, '--receipts', w.dir));
  t.is(run.code, 1);
  t.regex(run.stdout, /token +[0-9a-f]{64}/);
  t.notRegex(run.stdout, /saved to/);
  t.regex(run.stderr, /the server accepted the transaction, but the receipts file .* could not be written .*copy the token above now/);
});

test('exit codes tell usage errors, network failures and refusals apart', async (t) => {
  const w = await makeClientWorld(t);
  const cases: Array<{ argv: string[]; code: number; stderr: RegExp }> = [
    { argv: ['submit', 'deadbeef'], code: 2, stderr: /--server URL is required/ },
    { argv: args(w, 'submit', 'not-hex'), code: 2, stderr: /not hex/ },
    { argv: args(w, 'submit', '0200'), code: 2, stderr: /not a Bitcoin transaction/ },
    { argv: args(w, 'status'), code: 2, stderr: /status takes one id/ },
    { argv: args(w, 'info', '--bogus'), code: 2, stderr: /Unknown option/ },
    { argv: ['info', '--server', 'http://x.onion', '--socks', 'socks5://127.0.0.1:9050'], code: 2, stderr: /socks5h/ },
    { argv: ['info', '--server', 'http://nowhere.test', '--socks', w.socks.url, '--timeout', '5'], code: 3, stderr: /cannot reach nowhere\.test/ },
    { argv: args(w, 'status', 'zz'), code: 4, stderr: /server refused \(4\d\d [a-z_]+\)/ },
    { argv: args(w, 'status', '00'.repeat(16)), code: 4, stderr: /404 not_found/ },
    { argv: args(w, 'submit', makeTx({ locktime: 1 }).hex, '--expect-key', '00'.repeat(8), '--receipts', join(w.dir, 'r')), code: 5, stderr: /not the expected/ },
  ];
  for (const c of cases) {
    const run = await runCli(c.argv);
    t.is(run.code, c.code, `${c.argv.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, c.stderr);
  }
});
