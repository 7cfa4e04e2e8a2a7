// SPEC §2 keys: created on first start (dir 0700, file 0600), keyId = SHA-256(pk)[0..8], and
// rotation keeps every older key able to open what was sealed to it.
import test from 'ava';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import { KeyRing } from '../src/keys/keyring.js';
import { seal, openSealed } from '../src/crypto/sealed-box.js';
import { runCli } from './support/service.js';

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
