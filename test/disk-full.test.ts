// Issue 12.6: when SQLite finds the disk full (here: its max_page_count), submissions get 503
// `unavailable`, nothing accepted is lost, and submissions are taken again once space returns.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { makeTx } from './support/txs.js';
import { pad } from '../src/crypto/padding.js';
import { mine, restartService, startServiceWorld, type ServiceWorld } from './support/service-world.js';

/** 256 KiB of database (RELAYSTORE_TEST_MAX_DB_PAGES): a dozen 16 KiB blobs fill it; cancelled ones free their pages. */
const MAX_PAGES = 64;
const FILLER_BYTES = 16 * 1024;

const post = (w: ServiceWorld, locktime: number, sealed: Buffer) => w.client.json('POST', '/v1/transactions', { locktime, sealed: sealed.toString('hex') });

test.serial('disk full: 503 unavailable, nothing accepted lost, submissions taken again once space returns', async (t) => {
  const w = await startServiceWorld(t, { env: { RELAYSTORE_TEST_MAX_DB_PAGES: String(MAX_PAGES) } });
  const height = w.explorer.tip().height;
  const tx = makeTx({ locktime: height + 1 });
  const mature = await w.client.submit(tx.hex, height + 1);

  // Far-off fillers (random blobs: they would never open, but they never mature here either).
  const far = height + 1000;
  const accepted: Array<{ id: string; token: string; sealed: Buffer }> = [];
  let refused: { sealed: Buffer; answer: { status: number; json: any } } | null = null;
  for (let i = 0; i < 200 && refused === null; i++) {
    const sealed = randomBytes(FILLER_BYTES);
    const answer = await post(w, far, sealed);
    if (answer.status === 201) accepted.push({ id: answer.json.id, token: answer.json.token, sealed });
    else refused = { sealed, answer };
  }
  t.truthy(refused, 'the disk filled');
  t.true(accepted.length >= 3, `${accepted.length} accepted before it did`);
  t.is(refused!.answer.status, 503);
  t.is(refused!.answer.json.error.code, 'unavailable');
  t.is((await post(w, far, randomBytes(FILLER_BYTES))).status, 503, 'still refused while full');
  t.is((await post(w, far, accepted[0]!.sealed)).status, 200, 'a retry of a stored blob is answered from the store');
  for (const a of [mature, ...accepted]) t.is((await w.client.status(a.id)).status, 'pending');

  // Space returns: three fillers are cancelled (a wipe frees their pages, and needs none).
  for (const a of accepted.splice(0, 3)) {
    const res = await w.client.json('DELETE', `/v1/transactions/${a.id}`, undefined, { authorization: `Bearer ${a.token}` });
    t.is(res.status, 200);
  }
  const again = await post(w, far, refused!.sealed);
  t.is(again.status, 201, 'the blob refused while full is taken now');
  await mine(w, 1);
  await w.client.waitForStatus(mature.id, (r) => r.status === 'broadcast' || r.status === 'confirmed');
  t.true(w.explorer.accepted(tx.txid), 'what was accepted before the disk filled goes out');

  await w.service.kill('SIGKILL');
  await restartService(w);
  for (const a of [...accepted, { id: again.json.id }]) t.is((await w.client.status(a.id)).status, 'pending', 'and survives a SIGKILL');
});
