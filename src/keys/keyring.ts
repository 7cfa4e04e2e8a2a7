// The server's secrets: sealing key pairs kept by keyId (rotation keeps old ones), the Ed25519
// receipt key and the token secret; one 0600 file in the data directory, replaced atomically.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { renameDurably } from '../util/durable-rename.js';

export interface SealingKey {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

interface KeyFile {
  version: 1;
  current: string;
  sealing: Array<{ keyId: string; publicKey: string; secretKey: string }>;
  receipts: { seed: string; publicKey: string };
  tokenSecret: string;
}

export const KEY_FILE = 'keys.json';

export function keyIdOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest().subarray(0, 8).toString('hex');
}

export class KeyRing {
  /** Decoded once: every submission asks for its key, and decoding the hex each time cost ~1 µs of the event loop. */
  private readonly sealing: ReadonlyMap<string, SealingKey>;

  private constructor(
    private readonly file: KeyFile,
    readonly receiptPrivateKey: KeyObject,
    readonly receiptPublicKey: Uint8Array,
    readonly tokenSecret: Buffer,
  ) {
    this.sealing = new Map(file.sealing.map((k) => [k.keyId, { keyId: k.keyId, publicKey: Buffer.from(k.publicKey, 'hex'), secretKey: Buffer.from(k.secretKey, 'hex') }]));
  }

  get current(): SealingKey {
    const key = this.find(this.file.current);
    if (!key) throw new Error('key file names a current key it does not hold');
    return key;
  }

  find(keyId: string): SealingKey | undefined {
    return this.sealing.get(keyId);
  }

  all(): SealingKey[] {
    return this.file.sealing.map((k) => this.find(k.keyId)!);
  }

  /** Loads the data directory's keys, creating the directory (0700) and keys (0600) on first start. */
  static async loadOrCreate(dataDir: string): Promise<KeyRing> {
    await ensurePrivateDir(dataDir);
    const path = join(dataDir, KEY_FILE);
    let file: KeyFile;
    try {
      file = JSON.parse(await readFile(path, 'utf8')) as KeyFile;
      const mode = (await stat(path)).mode & 0o777;
      if (mode & 0o077) await chmod(path, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      file = freshKeyFile();
      await writeKeyFile(path, file);
    }
    return KeyRing.fromFile(file);
  }

  /** Makes a new sealing key current; every older key stays to open what was sealed to it. */
  static async rotate(dataDir: string): Promise<KeyRing> {
    const ring = await KeyRing.loadOrCreate(dataDir);
    const pair = nacl.box.keyPair();
    const keyId = keyIdOf(pair.publicKey);
    const file: KeyFile = {
      ...ring.file,
      current: keyId,
      sealing: [...ring.file.sealing, { keyId, publicKey: hex(pair.publicKey), secretKey: hex(pair.secretKey) }],
    };
    await writeKeyFile(join(dataDir, KEY_FILE), file);
    return KeyRing.fromFile(file);
  }

  private static fromFile(file: KeyFile): KeyRing {
    if (file.version !== 1 || !file.sealing?.length || !file.receipts || !file.tokenSecret) {
      throw new Error('key file is not a RelayStore v1 key file');
    }
    const seed = Buffer.from(file.receipts.seed, 'hex');
    const publicKey = Buffer.from(file.receipts.publicKey, 'hex');
    const privateKey = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: publicKey.toString('base64url') },
      format: 'jwk',
    });
    return new KeyRing(file, privateKey, publicKey, Buffer.from(file.tokenSecret, 'hex'));
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function freshKeyFile(): KeyFile {
  const pair = nacl.box.keyPair();
  const keyId = keyIdOf(pair.publicKey);
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url');
  return {
    version: 1,
    current: keyId,
    sealing: [{ keyId, publicKey: hex(pair.publicKey), secretKey: hex(pair.secretKey) }],
    receipts: { seed: seed.toString('hex'), publicKey: pub.toString('hex') },
    tokenSecret: randomBytes(32).toString('hex'),
  };
}

export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/** Write-then-rename with fsync, so a crash leaves either the old or the new key file, never half. */
async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(file, null, 2) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await renameDurably(tmp, path);
}
