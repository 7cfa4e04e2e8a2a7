// SPEC §2 keys: created on first start (dir 0700, file 0600), keyId = SHA-256(pk)[0..8], and
// rotation keeps every older key able to open what was sealed to it; a receipt that cannot be signed
// keeps its submission out of the store.
import test from 'ava';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { testProp, fc } from '@fast-check/ava';
import { KeyRing } from '../src/keys/keyring.js';
import { seal, openSealed } from '../src/crypto/sealed-box.js';
import { runCli } from './support/service.js';
import { InlineSigner, PoolSigner, WorkerSigner } from '../src/keys/receipt-signer.js';
import { terminateWorkers } from './support/workers.js';
import { receiptMessage, signReceipt, verifyReceipt } from '../src/keys/receipts.js';
import { signDetached, sodiumSecretKey, textSigner } from '../src/keys/sodium-signing.js';
import { fixture, type Ed25519Fixtures } from './support/fixtures.js';
import { Store } from '../src/store/store.js';
import { Intake } from '../src/engine/intake.js';

const ed25519 = fixture<Ed25519Fixtures>('ed25519.json');

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-keys-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'data');
}

test('first start creates the data directory 0700 and keys.json 0600', async (t) => {
  const dataDir = await tempDir(t);
  const ring = await KeyRing.loadOrCreate(dataDir);
  t.is((await stat(dataDir)).mode & 0o777, 0o700);
  t.is((await stat(join(dataDir, 'keys.json'))).mode & 0o777, 0o600);
  const expected = createHash('sha256').update(ring.current.publicKey).digest().subarray(0, 8).toString('hex');
  t.is(ring.current.keyId, expected);
  t.is(ring.receiptPublicKey.length, 32);
});

test('a second start loads the same keys', async (t) => {
  const dataDir = await tempDir(t);
  const a = await KeyRing.loadOrCreate(dataDir);
  const b = await KeyRing.loadOrCreate(dataDir);
  t.is(a.current.keyId, b.current.keyId);
  t.deepEqual(Buffer.from(a.receiptPublicKey), Buffer.from(b.receiptPublicKey));
  t.deepEqual(a.tokenSecret, b.tokenSecret);
});

test('rotation makes a new key current and the old one still opens its blobs', async (t) => {
  const dataDir = await tempDir(t);
  const before = await KeyRing.loadOrCreate(dataDir);
  const plaintext = nacl.randomBytes(64);
  const sealedToOld = seal(before.current.publicKey, plaintext);
  const after = await KeyRing.rotate(dataDir);
  t.not(after.current.keyId, before.current.keyId);
  const old = after.find(before.current.keyId)!;
  t.deepEqual(Buffer.from(openSealed(sealedToOld, old.publicKey, old.secretKey)!), Buffer.from(plaintext));
  t.is(openSealed(sealedToOld, after.current.publicKey, after.current.secretKey), null);
  t.is((await KeyRing.loadOrCreate(dataDir)).current.keyId, after.current.keyId);
});

test('`relaystore rotate-key --data-dir` rotates on disk', async (t) => {
  const dataDir = await tempDir(t);
  const before = await KeyRing.loadOrCreate(dataDir);
  const { code, stdout } = await runCli(['rotate-key', '--data-dir', dataDir]);
  t.is(code, 0);
  const after = await KeyRing.loadOrCreate(dataDir);
  t.not(after.current.keyId, before.current.keyId);
  t.true(stdout.includes(after.current.keyId));
  t.is(after.all().length, 2);
});

test('receipts signed in the worker thread, on the pool and on the event loop verify with the published key, in order', async (t) => {
  const ring = await KeyRing.loadOrCreate(await tempDir(t));
  const publicKey = Buffer.from(ring.receiptPublicKey).toString('hex');
  const worker = new WorkerSigner(ring.receiptPrivateKey);
  t.teardown(() => worker.close());
  const pool = new PoolSigner(ring.receiptPrivateKey);
  const asks = Array.from({ length: 50 }, (_, i) => ({ id: i.toString(16).padStart(32, '0'), locktime: 800_000 + i, sha: createHash('sha256').update(String(i)).digest('hex') }));
  for (const signer of [worker, pool, new InlineSigner(ring.receiptPrivateKey)]) {
    const signatures = await Promise.all(asks.map((a) => signer.sign(a.id, a.locktime, a.sha)));
    asks.forEach((a, i) => t.true(verifyReceipt(publicKey, signatures[i]!, a.id, a.locktime, a.sha), `receipt ${i}`));
    t.false(verifyReceipt(publicKey, signatures[0]!, asks[1]!.id, asks[0]!.locktime, asks[0]!.sha));
  }
});

test('a receipt signer whose worker died is replaced on the next signature', async (t) => {
  t.timeout(20_000, 'a dead worker that is not replaced leaves the signature waiting forever');
  const ring = await KeyRing.loadOrCreate(await tempDir(t));
  const signer = new WorkerSigner(ring.receiptPrivateKey);
  t.teardown(() => signer.close());
  const sha = '00'.repeat(32);
  t.truthy(await signer.sign('11'.repeat(16), 1, sha));
  t.is(await terminateWorkers(signer), 1);
  const signature = await signer.sign('11'.repeat(16), 1, sha);
  t.true(verifyReceipt(Buffer.from(ring.receiptPublicKey).toString('hex'), signature, '11'.repeat(16), 1, sha));
});

/** An Ed25519 KeyObject from its 32-byte seed (PKCS#8: a fixed prefix, then the seed). */
function keyOfSeed(seedHex: string): KeyObject {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

const publicKeyHexOf = (key: KeyObject) => Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url').toString('hex');

for (const v of ed25519.vectors) {
  test(`Ed25519 ${v.name}: node:crypto and libsodium give its public key and signature, byte for byte`, (t) => {
    const key = keyOfSeed(v.seed);
    const message = Buffer.from(v.message, 'hex');
    const secretKey = sodiumSecretKey(key);
    t.is(publicKeyHexOf(key), v.publicKey);
    t.is(secretKey.subarray(32).toString('hex'), v.publicKey, "libsodium's secret key ends with the public key");
    t.is(sign(null, message, key).toString('hex'), v.signature, 'node:crypto');
    t.is(signDetached(secretKey, message).toString('hex'), v.signature, 'libsodium');
  });
}

for (const r of ed25519.receipts) {
  test(`receipt, ${r.name}: the worker, inline and pool signers and signReceipt all give the table's signature`, async (t) => {
    const key = keyOfSeed(r.seed);
    const worker = new WorkerSigner(key);
    t.teardown(() => worker.close());
    t.is(publicKeyHexOf(key), r.publicKey);
    t.is(signReceipt(key, r.id, r.locktime, r.sealedSha256), r.signature, 'node:crypto');
    for (const signer of [worker, new InlineSigner(key), new PoolSigner(key)]) {
      t.is(await signer.sign(r.id, r.locktime, r.sealedSha256), r.signature, signer.constructor.name);
    }
    t.true(verifyReceipt(r.publicKey, r.signature, r.id, r.locktime, r.sealedSha256));
  });
}

const hexArb = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));

testProp('libsodium signs any receipt with any key to the same bytes as node:crypto', [hexArb(32), hexArb(16), fc.nat({ max: 0xffffffff }), hexArb(32)], (t, seed, id, locktime, sha) => {
  const key = keyOfSeed(seed);
  t.is(textSigner(key)(receiptMessage(id, locktime, sha)), signReceipt(key, id, locktime, sha));
});

test('a receipt signer that fails keeps nothing: the submission fails, no record and no byte is stored, and the same blob goes in once the signer works', async (t) => {
  const dataDir = await tempDir(t);
  const keys = await KeyRing.loadOrCreate(dataDir);
  const store = await Store.open(dataDir, { maxPending: 10 });
  t.teardown(() => store.close());
  let fail = true;
  const inline = new InlineSigner(keys.receiptPrivateKey);
  const signer = { sign: (id: string, locktime: number, sha: string) => (fail ? Promise.reject(new Error('signer down')) : inline.sign(id, locktime, sha)), close: async () => {} };
  const limits = { maxSealedBytes: 102_400, maxWindowSeconds: 86_400, horizonYears: 10 };
  const tip = { height: 850_000, hash: '00'.repeat(32), medianTime: 1_718_000_000 };
  const intake = new Intake({ store, keys, signer, clock: { now: () => Date.now() }, tip: () => tip, admission: () => ({ bits: 0, storeFull: 0 }), limits, retentionSeconds: 3600 });
  const sealed = randomBytes(500);
  const id = createHash('sha256').update(sealed).digest('hex').slice(0, 32);
  const body = { locktime: 850_010, sealed: sealed.toString('hex') };

  await t.throwsAsync(intake.submit(body), { message: 'signer down' });
  t.false(await store.has(id), 'the record was committed although its receipt could not be made');
  t.is(store.admittedBytes, 0);
  fail = false;
  const outcome = await intake.submit(body);
  t.is(outcome.kind, 'accepted');
  t.true(await store.has(id));
});
