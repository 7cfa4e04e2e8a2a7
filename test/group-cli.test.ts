// The group commands as a person runs them (child processes, a receipts file on disk) against three
// `relaystore serve` instances: a dead man's switch on three operators, renewed and audited; a
// refused renewal; cancel with one operator down; fewer acceptances than needed.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeGroupWorld, LETTERS, type GroupWorld } from './support/group-world.js';
import { runCli } from './support/service.js';
import { makeTx, randomTxid } from './support/txs.js';
import { verifyReceipt } from '../src/keys/receipts.js';

function cli(w: GroupWorld, file: string, ...args: string[]) {
  return runCli([...args, '--socks', w.socks.url, '--receipts', file]);
}

function serverArgs(w: GroupWorld): string[] {
  return w.servers.flatMap((s) => ['--server', s]);
}

async function lines(file: string): Promise<Array<Record<string, any>>> {
  return (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
}

async function keyIdOf(w: GroupWorld, server: string): Promise<string> {
  const run = await runCli(['info', '--server', server, '--socks', w.socks.url, '--json', '--quiet']);
  return JSON.parse(run.stdout).sealing.keyId;
}

test.serial('a dead man\'s switch on three operators: submit (one key pinned), status, renew, audit; audit flags the operator whose data directory was replaced (exit 5, with the signed receipt)', async (t) => {
  const w = await makeGroupWorld(t);
  const file = join(w.dir, 'wallet', 'receipts.jsonl');
  const tip = w.explorer.tip().height;
  const first = makeTx({ locktime: tip + 100 });
  const pinA = await keyIdOf(w, w.servers[0]!);
  let linesWhenPrinted = -1;
  const sub = await runCli(
    ['submit', first.hex, '--server', `${pinA}@${w.servers[0]}`, '--server', w.servers[1]!, '--server', w.servers[2]!, '--stagger', '0.5', '--socks', w.socks.url, '--receipts', file, '--json'],
    {},
    undefined,
    () => {
      if (linesWhenPrinted < 0) linesWhenPrinted = readFileSync(file, 'utf8').trim().split('\n').length;
    },
  );
  t.is(sub.code, 0, sub.stderr);
  t.is(linesWhenPrinted, 3, 'the group was on disk before anything was printed');
  const out = JSON.parse(sub.stdout);
  t.regex(out.group, /^g[0-9a-f]{12}$/);
  t.is(out.txid, first.txid);
  t.is(out.accepted, 3);
  t.is((await stat(file)).mode & 0o777, 0o600);
  const saved = await lines(file);
  t.deepEqual(saved.map((l) => l.server).sort(), [...w.servers].sort());
  for (const l of saved) {
    t.like(l, { group: out.group, round: 0, txid: first.txid });
    t.regex(l.keyId, /^[0-9a-f]{16}$/);
    t.true(verifyReceipt(l.receiptKey, l.receipt, l.id, l.locktime, l.sealedSha256));
  }
  t.is(saved.find((l) => l.server === w.servers[0])!.pin, pinA);

  const status = await cli(w, file, 'status', out.group);
  t.is(status.code, 0, status.stderr);
  for (const s of w.servers) t.regex(status.stdout, new RegExp(`${s}  [0-9a-f]{32}  pending`));
  t.regex(status.stdout, /overall: pending \(3 of 3 servers answered\)/);

  const next = makeTx({ locktime: tip + 200 });
  const renew = await cli(w, file, 'renew', out.group, next.hex);
  t.is(renew.code, 0, renew.stderr);
  t.regex(renew.stdout, /renewed\. txid [0-9a-f]{64} \(locktime \d+\) is armed on all 3 servers/);
  const after = await lines(file);
  t.true(after.some((l) => l.event === 'renewed' && l.group === out.group && l.round === 1));
  for (const l of LETTERS) {
    const current = after.filter((x) => x.round === 1 && x.server === w.instances[l].server).map((x) => x.id);
    t.deepEqual(await w.armed(l), current, `instance ${l}: exactly the renewed one is armed`);
  }
  const renewedStatus = await cli(w, file, 'status', out.group, '--json');
  t.is(JSON.parse(renewedStatus.stdout).txid, next.txid);

  const clean = await cli(w, file, 'audit');
  t.is(clean.code, 0, clean.stderr);
  t.is(clean.stdout.match(/ ok \(pending\)/g)?.length, 3);

  await w.replaceDataDir('c');
  const flagged = await cli(w, file, 'audit', out.group);
  t.is(flagged.code, 5, flagged.stderr);
  const c = after.find((x) => x.round === 1 && x.server === w.instances.c.server)!;
  t.regex(flagged.stdout, new RegExp(`${w.instances.c.server}  ${c.id}  MISBEHAVING: answers not_found`));
  t.true(flagged.stdout.includes(`signature    ${c.receipt}`), 'the signed receipt is printed as evidence');
  t.true(flagged.stdout.includes(`receipt key  ${c.receiptKey}`));
  t.regex(flagged.stdout, /now signs with ANOTHER key/);
});

test.serial('a renewal refused by one operator: exit 4, the old transaction stays armed everywhere, the new one is withdrawn', async (t) => {
  const w = await makeGroupWorld(t, { c: ['--max-window', '10'] });
  const file = join(w.dir, 'receipts.jsonl');
  const old = makeTx({ locktime: w.explorer.tip().height + 100 });
  const sub = await cli(w, file, 'submit', old.hex, ...serverArgs(w), '--json');
  t.is(sub.code, 0, sub.stderr);
  const { group } = JSON.parse(sub.stdout);
  const renew = await cli(w, file, 'renew', group, makeTx({ locktime: w.explorer.tip().height + 200 }).hex, '--window', '60');
  t.is(renew.code, 4, renew.stderr);
  t.regex(renew.stdout, /NOT renewed/);
  t.regex(renew.stdout, new RegExp(`REFUSED  ${w.instances.c.server}  server refused \\(400 invalid_window\\)`));
  t.regex(renew.stdout, /The old transaction stays armed on every server; the new one was withdrawn where it had been accepted\./);
  const saved = await lines(file);
  for (const l of LETTERS) {
    const oldId = saved.find((x) => x.round === 0 && x.server === w.instances[l].server)!.id;
    t.deepEqual(await w.armed(l), [oldId], `instance ${l}: only the old one is armed`);
  }
  const status = await cli(w, file, 'status', group, '--json');
  const shown = JSON.parse(status.stdout);
  t.is(shown.txid, old.txid);
  t.is(shown.overall, 'pending');
});

test.serial('cancel with one operator down exits 3 and names it; a second cancel after it is back finishes; status says confirmed once any server saw it', async (t) => {
  const w = await makeGroupWorld(t);
  const file = join(w.dir, 'receipts.jsonl');
  const env = { RELAYSTORE_SERVERS: w.servers.join(',') };
  const sub = await runCli(['submit', makeTx({ locktime: w.explorer.tip().height + 100 }).hex, '--socks', w.socks.url, '--receipts', file, '--json'], env);
  t.is(sub.code, 0, sub.stderr);
  const { group } = JSON.parse(sub.stdout);
  await w.kill('b');
  const first = await cli(w, file, 'cancel', group, '--timeout', '5');
  t.is(first.code, 3, first.stderr);
  t.regex(first.stdout, new RegExp(`${w.instances.b.server}  [0-9a-f]{32}  NOT REACHED: cannot reach relay-b\\.test`));
  t.regex(first.stdout, /1 server\(s\) could not be cancelled yet; run "relaystore cancel g[0-9a-f]{12}" again/);
  await w.start('b');
  t.is((await w.armed('b')).length, 1);
  const second = await cli(w, file, 'cancel', group);
  t.is(second.code, 0, second.stderr);
  t.is(second.stdout.match(/cancelled: wiped/g)?.length, 1, 'only the one left is asked again');
  for (const l of LETTERS) t.deepEqual(await w.armed(l), []);
  const third = await cli(w, file, 'cancel', group);
  t.regex(third.stdout, /nothing left to cancel/);

  const tx = makeTx({ locktime: w.explorer.tip().height + 1 });
  const again = await cli(w, file, 'submit', tx.hex, ...serverArgs(w), '--json');
  const g2 = JSON.parse(again.stdout).group;
  await w.kill('b');
  await w.mine(1);
  await w.explorer.waitForReceived(tx.txid, 20_000);
  await w.mine(2);
  const watch = await cli(w, file, 'status', g2, '--watch', '--interval', '0.2', '--timeout', '5', '--json');
  t.is(watch.code, 3, 'one server did not answer');
  const last = JSON.parse(watch.stdout.trim().split('\n').at(-1)!);
  t.is(last.overall, 'confirmed');
  t.is(last.servers.find((s: { server: string }) => s.server === w.instances.b.server).status, 'unanswered');
});

test.serial('fewer acceptances than --need: the accepted ones are recorded and cancellable; usage errors exit 2', async (t) => {
  const w = await makeGroupWorld(t);
  const file = join(w.dir, 'receipts.jsonl');
  const wrongPin = ['--server', w.servers[0]!, '--server', w.servers[1]!, '--server', `${'00'.repeat(8)}@${w.servers[2]}`];
  const short = await cli(w, file, 'submit', makeTx({ locktime: 900 }).hex, ...wrongPin);
  t.is(short.code, 5, short.stderr);
  t.regex(short.stdout, /FAILED    http:\/\/relay-c\.test  the server's sealing key is [0-9a-f]{64}, not the expected 0{16}/);
  const group = /group (g[0-9a-f]{12})/.exec(short.stdout)![1]!;
  t.regex(short.stdout, new RegExp(`only 2 of 3 servers accepted it, 3 needed\\. The 2 accepted stay armed; "relaystore cancel ${group}" withdraws them\\.`));
  t.is((await lines(file)).length, 2);
  const cancel = await cli(w, file, 'cancel', group);
  t.is(cancel.code, 0, cancel.stderr);
  t.deepEqual([...(await w.armed('a')), ...(await w.armed('b')), ...(await w.armed('c'))], []);

  const enough = await cli(w, file, 'submit', makeTx({ locktime: 901 }).hex, ...wrongPin, '--need', '2');
  t.is(enough.code, 0, enough.stderr);
  t.regex(enough.stdout, /2 of 3 servers accepted it\./);

  const spent = { txid: randomTxid(), vout: 0 };
  const ladder = await cli(w, file, 'submit', ...serverArgs(w), '--json', ...[700, 2100].flatMap((fee) => ['--rung', `${makeTx({ locktime: 902, inputs: [spent] }).hex}:${fee}`]));
  t.is(ladder.code, 0, ladder.stderr);
  const bundle = JSON.parse(ladder.stdout);
  t.is(bundle.rungs.length, 2, 'a fee ladder goes to every server of the group');
  t.true((await lines(file)).filter((l) => l.group === bundle.group).every((l) => l.rungs?.length === 2));

  const usage: string[][] = [
    ['renew'],
    ['renew', 'g000000000000', makeTx({ locktime: 1 }).hex],
    ['status', 'g000000000000'],
    ['submit', makeTx({ locktime: 1 }).hex, ...serverArgs(w), '--need', '4'],
    ['submit', makeTx({ locktime: 1 }).hex, '--server', w.servers[0]!, '--server', w.servers[0]!],
    ['submit', 'zz', ...serverArgs(w)],
  ];
  for (const args of usage) {
    const run = await cli(w, file, ...args);
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
  }
});
