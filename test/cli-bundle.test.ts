// `relaystore submit --rung …` (SPEC §7): a fee ladder and a ladder of packages handed in from
// PSBT and raw-transaction files, checked locally by the server's rules, sealed, stored, receipted.
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeClientWorld, type ClientWorld } from './support/client-world.js';
import { runCli } from './support/service.js';
import { storedBlob } from './support/data-dir.js';
import { makeTx, randomTxid } from './support/txs.js';
import { makePsbt, txOf } from './support/psbts.js';
import { openTransaction } from '../src/engine/open-transaction.js';

const L = 320;
const coin = { txid: randomTxid(), vout: 0, value: 100_000n };
const spend = (fee: bigint) => makePsbt({ locktime: L, inputs: [coin], outs: [{ value: coin.value - fee }] });

function args(w: ClientWorld, ...rest: string[]): string[] {
  return [...rest, '--server', w.server, '--socks', w.socks.url];
}


test('a three-rung ladder from PSBT files (base64, binary, hex) and a ladder of packages are sealed, stored and listed in the receipts file', async (t) => {
  const w = await makeClientWorld(t);
  const receipts = join(w.dir, 'receipts.jsonl');
  const psbts = [spend(550n), spend(2_200n), spend(8_800n)];
  await writeFile(join(w.dir, 'low.psbt'), psbts[0]!.toBase64() + '\n');
  await writeFile(join(w.dir, 'mid.psbt'), psbts[1]!.toBuffer());
  const ladder = await runCli(args(w, 'submit', '--rung', join(w.dir, 'low.psbt'), '--rung', `@${join(w.dir, 'mid.psbt')}`, '--rung', psbts[2]!.toHex(), '--receipts', receipts));
  t.is(ladder.code, 0, ladder.stderr);
  t.regex(ladder.stdout, /rungs +3, sent cheapest first at maturity/);
  t.regex(ladder.stdout, new RegExp(` 1 +5 sat/vB  fee 550 sat  ${txOf(psbts[0]!).getId()}`));
  t.regex(ladder.stdout, / 3 +80 sat\/vB  fee 8800 sat/);

  const parent = makeTx({ version: 3, locktime: L, outs: [{ script: '0014' + '33'.repeat(20), value: 100_000n }, { script: '51024e73', value: 0n }] });
  const wallet = { txid: randomTxid(), vout: 0, value: 50_000n };
  const child = (fee: bigint) => makePsbt({ version: 3, locktime: 0, inputs: [{ txid: parent.txid, vout: 1, value: 0n, script: Uint8Array.from([0x51, 0x02, 0x4e, 0x73]) }, wallet], outs: [{ value: wallet.value - fee }] });
  const children = [child(3_000n), child(20_000n)];
  await writeFile(join(w.dir, 'parent.hex'), parent.hex);
  const pkg = await runCli(args(w, 'submit', '--rung', `@${join(w.dir, 'parent.hex')}:0,${children[0]!.toBase64()}`, '--rung', `${parent.hex}:0,${children[1]!.toBase64()}`, '--receipts', receipts, '--json'));
  t.is(pkg.code, 0, pkg.stderr);
  const out = JSON.parse(pkg.stdout);
  t.is(out.txid, parent.txid);
  t.deepEqual(out.rungs.map((r: { fee: string; txids: string[] }) => [r.fee, r.txids]), [['3000', [parent.txid, txOf(children[0]!).getId()]], ['20000', [parent.txid, txOf(children[1]!).getId()]]]);

  const lines = (await readFile(receipts, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  t.deepEqual(lines.map((l) => l.rungs.map((r: { fee: string }) => r.fee)), [['550', '2200', '8800'], ['3000', '20000']]);
  // What the CLI sealed, the server's opener reads as the same ladder.
  const keys = JSON.parse(await readFile(join(w.dir, 'data', 'keys.json'), 'utf8'));
  const key = keys.sealing.find((k: { keyId: string }) => k.keyId === keys.current);
  const pair = { publicKey: Buffer.from(key.publicKey, 'hex'), secretKey: Buffer.from(key.secretKey, 'hex') };
  for (const line of lines) {
    const opened = openTransaction((await storedBlob(join(w.dir, 'data'), line.id))!, pair, L);
    if (opened.kind !== 'opened') return t.fail(opened.code);
    t.deepEqual(opened.ladder.rungs.map((r) => r.txs.map((x) => x.txid)), line.rungs.map((r: { txids: string[] }) => r.txids));
  }
});

test('usage and rule errors exit 2 before anything is sealed or sent', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-rungs-'));
  const raw = makeTx({ locktime: L, inputs: [{ txid: coin.txid, vout: 0 }] });
  const elsewhere = makePsbt({ locktime: L, inputs: [{ txid: randomTxid(), vout: 0, value: 100_000n }], outs: [{ value: 90_000n }] });
  // Nothing listens there: a case that reached the network would exit 3, not 2.
  const server = ['--server', 'http://127.0.0.1:9', '--receipts', join(dir, 'r')];
  const cases: Array<{ argv: string[]; stderr: RegExp }> = [
    { argv: ['submit', raw.hex, '--rung', raw.hex + ':1'], stderr: /one transaction or --rung alternatives, not both/ },
    { argv: ['submit', '--rung', raw.hex], stderr: /is a raw transaction: give its fee in satoshis after a colon/ },
    { argv: ['submit', '--rung', spend(550n).toBase64() + ':550'], stderr: /is a PSBT: its fee comes from its inputs/ },
    { argv: ['submit', '--rung', join(dir, 'missing.psbt')], stderr: /--rung 1, item 1: cannot read .*missing\.psbt: ENOENT/ },
    { argv: ['submit', '--rung', ','], stderr: /--rung 1 names no transaction/ },
    { argv: ['submit', '--rung', spend(2_200n).toBase64(), '--rung', spend(550n).toBase64()], stderr: /bad_bundle: rung 1 does not pay a higher fee rate than rung 0/ },
    { argv: ['submit', '--rung', spend(550n).toBase64(), '--rung', elsewhere.toBase64()], stderr: /rungs_not_conflicting/ },
    { argv: ['submit', '--rung', spend(550n).toBase64().slice(0, 40)], stderr: /is not a PSBT/ },
  ];
  for (const c of cases) {
    const run = await runCli([...c.argv, ...server, '--quiet']);
    t.is(run.code, 2, `${c.argv.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, c.stderr);
  }
  const help = await runCli(['submit', '--help']);
  t.regex(help.stdout, /--rung @parent\.hex:0,child-5\.psbt/);
});

test('status shows which rung went out, its fee rate and, for a package, its transactions', async (t) => {
  const txids = [randomTxid(), randomTxid()];
  const answers: Record<string, unknown> = {
    ['aa'.repeat(16)]: { id: 'aa'.repeat(16), status: 'broadcast', locktime: L, locktimeType: 'height', txid: txids[0], rungs: 3, rung: 1, feeRate: 25.5, txids },
    ['bb'.repeat(16)]: { id: 'bb'.repeat(16), status: 'pending', locktime: L, locktimeType: 'height', rungs: 3 },
  };
  // A stand-in server answering SPEC §3 status bodies, so the display is checked whatever the scheduler does.
  const server = http.createServer((req, res) => {
    const body = answers[req.url!.split('/').pop()!];
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body ?? { error: { code: 'not_found', message: '' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sent = await runCli(['status', 'aa'.repeat(16), '--server', url, '--quiet']);
  t.is(sent.code, 0, sent.stderr);
  t.regex(sent.stdout, new RegExp(`rung 2 of 3 at 25\\.5 sat/vB \\(package ${txids[0]}, ${txids[1]}\\)`));
  const waiting = await runCli(['status', 'bb'.repeat(16), '--server', url, '--quiet']);
  t.regex(waiting.stdout, /3 rungs, none sent yet/);
});
