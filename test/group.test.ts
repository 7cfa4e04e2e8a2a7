// The client library's groups (issue 13) against three `relaystore serve` instances and the one
// test explorer, reached only through the recording SOCKS5 server by name: one transaction on three
// operators, status, cancel, renew (the dead man's switch's reset) and audit.
import test from 'ava';
import { RelayStoreClient, RelayStoreGroup, buildBundle, NotEnoughAcceptancesError, KeyMismatchError, UnreachableError, verifyReceipt, type Group, type GroupStatus } from '../src/index.js';
import { makeGroupWorld, LETTERS, type GroupWorld, type Letter } from './support/group-world.js';
import { makeTx, randomTxid } from './support/txs.js';
import { until } from './support/wait.js';

function relays(w: GroupWorld, extra: Partial<ConstructorParameters<typeof RelayStoreGroup>[0]> = {}): RelayStoreGroup {
  return new RelayStoreGroup({ socks: w.socks.url, timeoutMs: 5000, ...extra });
}

function waitForGroup(g: RelayStoreGroup, group: Group, done: (s: GroupStatus) => boolean, timeoutMs = 30_000): Promise<GroupStatus> {
  return until(async () => {
    const s = await g.status(group);
    return done(s) ? s : null;
  }, 'the group reaching the expected state', timeoutMs);
}

const letterOf = (w: GroupWorld, server: string): Letter => LETTERS.find((l) => w.instances[l].server === server)!;

test.serial('one transaction on three servers: each sealed to its own key over its own circuits, staggered, broadcast by each, confirmed once', async (t) => {
  const w = await makeGroupWorld(t);
  const delays: number[] = [];
  const g = relays(w, { staggerMs: 60_000, sleep: async (ms) => void delays.push(ms) });
  const tx = makeTx({ locktime: w.explorer.tip().height + 2 });
  const recorded: string[] = [];
  const group = await g.submit(w.servers, tx.hex, { onAccepted: (m) => void recorded.push(m.server) });

  t.regex(group.id, /^g[0-9a-f]{12}$/);
  t.is(group.txid, tx.txid);
  t.is(group.members.length, 3);
  t.deepEqual([...recorded].sort(), [...w.servers].sort(), 'each acceptance was handed over as it arrived');
  t.is(delays.length, 3, 'each server waits its own random delay');
  t.true(delays.every((d) => d >= 0 && d < 60_000));
  t.is(new Set(group.members.map((m) => m.id)).size, 3, 'three sealings, three ids: nothing links them by id');
  for (const m of group.members) {
    const info = await new RelayStoreClient({ server: m.server, socks: w.socks.url }).info();
    t.is(m.keyId, info.sealing.keyId, 'sealed to that server\'s own key');
    t.is(m.receiptKey, info.receipts.publicKey);
    t.true(verifyReceipt(m.receiptKey, m.receipt, m.id, m.locktime, m.sealedSha256));
  }
  const toServers = w.socks.connections.filter((c) => c.host.startsWith('relay-'));
  t.is(new Set(toServers.map((c) => c.username)).size, toServers.length, 'every request on its own circuit');

  await w.mine(2);
  const confirmedSoon = waitForGroup(g, group, (s) => s.members.every((m) => m.kind === 'answered' && m.status.status === 'confirmed'));
  await w.explorer.waitForReceived(tx.txid, 20_000);
  await w.mine(2);
  const status = await confirmedSoon;
  t.is(status.overall, 'confirmed');
  t.true(status.complete);
  for (const l of LETTERS) t.is(w.posts(l), 1, `instance ${l} broadcast it`);
  t.true(w.explorer.received.filter((r) => r.txid === tx.txid).length >= 3);
  t.true(w.explorer.confirmations(tx.txid) >= 2, 'in the chain once');
});

test.serial('a SPEC §7 bundle on three servers: what is sealed per server is the built plaintext; each broadcasts a rung of it', async (t) => {
  const w = await makeGroupWorld(t);
  const g = relays(w);
  const locktime = w.explorer.tip().height + 1;
  const spent = { txid: randomTxid(), vout: 0 };
  const rungs = [1_000, 5_000].map((fee) => [{ tx: makeTx({ locktime, inputs: [spent] }).hex, fee }]);
  const bundle = buildBundle(rungs);
  const group = await g.submit(w.servers, bundle);
  t.is(group.txid, bundle.txid);
  const txids = bundle.ladder.rungs.map((r) => r.txs[0]!.txid);
  for (const m of group.members) t.deepEqual(m.rungs?.map((r) => r.txids[0]), txids, 'each member knows the rungs it holds');
  await w.mine(1);
  await until(() => LETTERS.every((l) => w.posts(l) >= 1), 'every instance broadcasts a rung', 20_000);
  await w.mine(2);
  const status = await waitForGroup(g, group, (s) => s.members.every((m) => m.kind === 'answered' && m.status.status === 'confirmed'));
  t.is(status.overall, 'confirmed');
  for (const m of status.members) t.true(m.kind === 'answered' && txids.includes(m.status.txid!));
});

test.serial('with one instance killed before maturity the group still confirms; its status says which server did not answer', async (t) => {
  const w = await makeGroupWorld(t);
  const g = relays(w);
  const tx = makeTx({ locktime: w.explorer.tip().height + 2 });
  const group = await g.submit(w.servers, tx.hex);
  await w.kill('b');
  await w.mine(2);
  await w.explorer.waitForReceived(tx.txid, 20_000);
  await w.mine(2);
  const status = await waitForGroup(g, group, (s) => s.overall === 'confirmed');
  t.false(status.complete);
  const b = status.members.find((m) => letterOf(w, m.member.server) === 'b')!;
  t.is(b.kind, 'failed');
  t.true(b.kind === 'failed' && b.error instanceof UnreachableError);
  t.is(w.posts('b'), 0);
});

test.serial('fewer acceptances than required is an error that carries the accepted ones, which can be cancelled', async (t) => {
  const w = await makeGroupWorld(t);
  const g = relays(w);
  const servers = [w.servers[0]!, w.servers[1]!, { server: w.servers[2]!, expectKey: '00'.repeat(8) }];
  const err = await t.throwsAsync(g.submit(servers, makeTx({ locktime: 900 }).hex), { instanceOf: NotEnoughAcceptancesError });
  t.is(err!.required, 3);
  t.is(err!.group.members.length, 2);
  const failed = err!.group.outcomes.find((o) => o.kind === 'failed');
  t.true(failed?.kind === 'failed' && failed.error instanceof KeyMismatchError && failed.server === w.servers[2]);
  const cancelled = await g.cancel(err!.group);
  t.true(cancelled.complete);
  t.deepEqual(cancelled.members.map((m) => m.kind === 'done' && m.result), ['cancelled', 'cancelled']);

  const enough = await g.submit(servers, makeTx({ locktime: 901 }).hex, { required: 2 });
  t.is(enough.members.length, 2);
  t.is(enough.outcomes.length, 3);
  t.deepEqual(await w.armed('c'), [], 'nothing was sealed to an unexpected key');
});

test.serial('renew arms the new transaction everywhere, then cancels the old one: one armed submission per server, and the old one is never broadcast', async (t) => {
  const w = await makeGroupWorld(t);
  const g = relays(w);
  const tip = w.explorer.tip().height;
  const old = makeTx({ locktime: tip + 3 });
  const group = await g.submit(w.servers, old.hex);
  // A canary with the old locktime on every server: once each has broadcast it, each would have broadcast the old one too.
  const canary = makeTx({ locktime: tip + 3 });
  const canaries = await g.submit(w.servers, canary.hex);
  const next = makeTx({ locktime: tip + 1000 });
  const committed: Group[] = [];
  const result = await g.renew(group, next.hex, { onRenewed: (r) => void committed.push(r) });

  t.is(result.kind, 'renewed');
  if (result.kind !== 'renewed') return;
  t.is(result.group.id, group.id, 'the switch keeps its group id');
  t.is(result.group.txid, next.txid);
  t.deepEqual(committed, [result.group]);
  t.true(result.retired.complete);
  for (const l of LETTERS) {
    const mine = result.group.members.filter((m) => m.server === w.instances[l].server).map((m) => m.id);
    const canaryId = canaries.members.find((m) => m.server === w.instances[l].server)!.id;
    t.deepEqual((await w.armed(l)).sort(), [...mine, canaryId].sort(), `instance ${l}: the new one (and the canary) armed, the old one wiped`);
  }
  await w.mine(3);
  for (const l of LETTERS) await until(() => w.posts(l) >= 1, `instance ${l} broadcasts the canary`);
  await w.explorer.waitForReceived(canary.txid, 20_000);
  t.false(w.explorer.received.some((r) => r.txid === old.txid), 'the old transaction never left any server');
  t.deepEqual((await g.status(group)).members.map((m) => m.kind === 'answered' && m.status.status), ['cancelled', 'cancelled', 'cancelled']);
  t.is((await g.status(result.group)).overall, 'pending');
});

test.serial('a renewal refused by one server leaves the old transaction armed everywhere and withdraws the new one where it was accepted', async (t) => {
  const w = await makeGroupWorld(t, { c: ['--max-window', '10'] });
  const g = relays(w);
  const old = makeTx({ locktime: w.explorer.tip().height + 50 });
  const group = await g.submit(w.servers, old.hex);
  const result = await g.renew(group, makeTx({ locktime: w.explorer.tip().height + 60 }).hex, { window: 60 });

  t.is(result.kind, 'refused');
  if (result.kind !== 'refused') return;
  const refusal = result.outcomes.find((o) => o.kind === 'failed');
  t.is(refusal?.server, w.instances.c.server);
  t.true(result.rolledBack.complete);
  t.is(result.rolledBack.members.length, 2);
  for (const l of LETTERS) {
    const oldId = group.members.find((m) => m.server === w.instances[l].server)!.id;
    t.deepEqual(await w.armed(l), [oldId], `instance ${l}: only the old one is armed`);
  }
  t.is((await g.status(group)).overall, 'pending');
});

test.serial('cancel with one instance down says which it could not reach; a second cancel after it is back finishes', async (t) => {
  const w = await makeGroupWorld(t);
  const g = relays(w, { retries: 0 });
  const group = await g.submit(w.servers, makeTx({ locktime: w.explorer.tip().height + 50 }).hex);
  await w.kill('b');
  const first = await g.cancel(group);
  t.false(first.complete);
  const notReached = first.members.filter((m) => m.kind === 'failed');
  t.deepEqual(notReached.map((m) => m.member.server), [w.instances.b.server]);
  t.true(notReached[0]?.kind === 'failed' && notReached[0].error instanceof UnreachableError);
  await w.start('b');
  t.is((await w.armed('b')).length, 1, 'still armed on the instance that was down');
  const second = await g.cancel(group);
  t.true(second.complete);
  for (const l of LETTERS) t.deepEqual(await w.armed(l), []);
});

test.serial('audit flags an instance whose data directory was replaced, with the signed receipt as evidence', async (t) => {
  const w = await makeGroupWorld(t);
  const g = relays(w);
  const group = await g.submit(w.servers, makeTx({ locktime: w.explorer.tip().height + 50 }).hex);
  t.deepEqual((await g.audit(group)).findings.map((f) => f.kind), ['kept', 'kept', 'kept']);
  await w.replaceDataDir('c');
  const { findings } = await g.audit(group);
  t.deepEqual(findings.map((f) => f.kind), ['kept', 'kept', 'dropped']);
  const dropped = findings[2]!;
  if (dropped.kind !== 'dropped') return;
  const e = dropped.evidence;
  t.is(e.server, w.instances.c.server);
  t.true(verifyReceipt(e.receiptKey, e.signature, e.id, e.locktime, e.sealedSha256), 'anyone can check the receipt');
  t.is(e.message, `relaystore receipt v1\n${e.id}\n${e.locktime}\n${e.sealedSha256}`);
  t.not(e.receiptKeyNow, null);
  t.not(e.receiptKeyNow, e.receiptKey, 'the server now signs with another key');
});

