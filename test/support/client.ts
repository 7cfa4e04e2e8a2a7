// A minimal test client: seals a transaction to the server's key exactly as SPEC §2 says and talks
// to the API over plain loopback HTTP (the integration world has no Tor in front of the service).
import { seal } from '../../src/crypto/sealed-box.js';
import { pad } from '../../src/crypto/padding.js';
import type { RecordStatus, ServerInfo, SubmitAnswer } from '../../src/wire/answers.js';

export type Submitted = SubmitAnswer;

export class TestClient {
  private info: ServerInfo | null = null;

  constructor(readonly base: string) {}

  async json(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
    const res = await fetch(this.base + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  async publicKey(): Promise<Buffer> {
    this.info ??= (await this.json('GET', '/v1/info')).json;
    return Buffer.from(this.info!.sealing.publicKey, 'hex');
  }

  /** The blob SPEC §2 makes of `plaintext` for this server. */
  async seal(plaintext: Uint8Array): Promise<Buffer> {
    return Buffer.from(seal(await this.publicKey(), plaintext));
  }

  /** Seals `plaintext` as given (tests use it to hand in broken envelopes). */
  async submitPlaintext(locktime: number, plaintext: Uint8Array, extra: Record<string, unknown> = {}): Promise<{ status: number; json: any }> {
    const sealed = (await this.seal(plaintext)).toString('hex');
    return this.json('POST', '/v1/transactions', { locktime, sealed, ...extra });
  }

  async submit(txHex: string, locktime: number, extra: Record<string, unknown> = {}): Promise<Submitted> {
    const res = await this.submitPlaintext(locktime, pad(Buffer.from(txHex, 'hex')), extra);
    if (res.status !== 201) throw new Error(`submit answered ${res.status}: ${JSON.stringify(res.json)}`);
    return res.json as Submitted;
  }

  async status(id: string): Promise<RecordStatus> {
    return (await this.json('GET', `/v1/transactions/${id}`)).json;
  }

  /** Polls the record until `done` holds (bounded: a stuck state machine fails the test). */
  async waitForStatus(id: string, done: (r: RecordStatus) => boolean, timeoutMs = 30_000): Promise<RecordStatus> {
    const deadline = Date.now() + timeoutMs;
    let last: RecordStatus | undefined;
    while (Date.now() < deadline) {
      last = await this.status(id);
      if (done(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`record ${id} stayed ${JSON.stringify(last)}`);
  }
}
