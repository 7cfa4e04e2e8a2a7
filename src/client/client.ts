// RelayStoreClient: the wallet side of SPEC §3. Seals on the client, reaches the server through
// Tor (socks5h, fresh SOCKS credentials per request), and trusts nothing it cannot verify.
import { SocksTransport, DirectTransport, freshCredentials, type Transport } from '../net/transport.js';
import { isLoopbackHost } from '../net/route.js';
import { verifyReceipt } from '../keys/receipts.js';
import { keyIdOf } from '../keys/keyring.js';
import type { LocktimeType } from '../domain/locktime.js';
import Value from 'typebox/value';
import type { Static, TSchema } from 'typebox';
import { CancelAnswer, ErrorBody, RecordStatus, ServerInfo, SubmitAnswer } from '../wire/answers.js';
import type { SubmitRequest } from '../wire/submit-request.js';
import { parseTransaction, sealTransaction, submitRequestOf, type Plaintext, type SealedTransaction } from './envelope.js';
import { bitsAsked, DEFAULT_MAX_STAMP_BITS, isStampCap, requiredBits, solveInSlices, STAMP_ROUNDS, type StampProgress } from '../domain/stamp.js';
import { buildBundle, rungSummaries, type RungItem, type RungSummary } from './bundle-builder.js';
import { BadResponseError } from './errors/bad-response-error.js';
import { BadReceiptError } from './errors/bad-receipt-error.js';
import { BadTransactionError } from './errors/bad-transaction-error.js';
import { KeyMismatchError } from './errors/key-mismatch-error.js';
import { ServerError } from './errors/server-error.js';
import { StampTooHardError } from './errors/stamp-too-hard-error.js';
import { UnreachableError } from './errors/unreachable-error.js';

export interface RelayStoreClientOptions {
  /** The server's base URL, e.g. `http://<56 base32>.onion`. */
  readonly server: string;
  /** Tor's SOCKS port as `socks5h://host:port`. `null` (direct) is allowed only for a loopback server. */
  readonly socks: string | null;
  /** Pin the server's sealing key: its 64-hex public key or 16-hex keyId. */
  readonly expectKey?: string;
  /** Per request; Tor circuits to an onion can take tens of seconds (default 120 s). */
  readonly timeoutMs?: number;
  /** How many times a submission is re-sent (the same sealed blob, so the server answers 200) when the network fails. Default 2. */
  readonly retries?: number;
  /** Told how a stamp search goes while a busy server asks for one (SPEC §8): after every slice of about 50 ms. */
  readonly onStampProgress?: (progress: StampProgress) => void;
  /** The most stamp bits computed (default DEFAULT_MAX_STAMP_BITS, 32); a server asking more gets a StampTooHardError before any search. */
  readonly maxStampBits?: number;
}

export interface Submission {
  readonly id: string;
  readonly token: string;
  /** Computed locally: the server does not learn it before maturity. */
  readonly txid: string;
  readonly locktime: number;
  readonly locktimeType: LocktimeType;
  /** Ed25519 signature by `receiptKey`, verified before this was returned. */
  readonly receipt: string;
  readonly receiptKey: string;
  /** The sealing key the blob was sealed to. */
  readonly keyId: string;
  /** Hex SHA-256 of the sealed blob, which the receipt signs: keep it to show the receipt to anyone later. */
  readonly sealedSha256: string;
  /** True when the server already had this exact blob (a retry that had reached it). */
  readonly alreadyKnown: boolean;
  /** For a bundle (SPEC §7): its rungs, cheapest first, as sealed. */
  readonly rungs?: readonly RungSummary[];
}

const MAX_ANSWER_BYTES = 1 << 20;

/** The answer as the wire contract shapes it; anything else is a BadResponseError naming the first fault. */
function expectShape<T extends TSchema>(schema: T, json: unknown, what: string): Static<T> {
  if (Value.Check(schema, json)) return json as Static<T>;
  const fault = Value.Errors(schema, json)[0];
  throw new BadResponseError(`${what} is not as SPEC §3 describes (${fault?.instancePath || '/'} ${fault?.message ?? ''})`);
}

export class RelayStoreClient {
  readonly server: URL;
  private readonly transport: Transport;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxStampBits: number;

  constructor(private readonly options: RelayStoreClientOptions) {
    this.server = new URL(options.server);
    if (this.server.protocol !== 'http:' && this.server.protocol !== 'https:') throw new TypeError(`the server URL must be http:// or https:// (got ${options.server})`);
    if (options.socks === null) {
      // Never fall back to a direct connection silently: only a server on this machine may be reached without Tor.
      if (!isLoopbackHost(this.server.hostname)) throw new TypeError(`${this.server.host} can only be reached through Tor: give a socks5h:// URL`);
      this.transport = new DirectTransport();
    } else {
      this.transport = new SocksTransport(options.socks);
    }
    if (options.expectKey !== undefined && !/^([0-9a-f]{16}|[0-9a-f]{64})$/.test(options.expectKey)) {
      throw new TypeError('expectKey must be the sealing public key (64 hex) or its keyId (16 hex)');
    }
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.retries = options.retries ?? 2;
    this.maxStampBits = options.maxStampBits ?? DEFAULT_MAX_STAMP_BITS;
    if (!isStampCap(this.maxStampBits)) throw new TypeError('maxStampBits must be a whole number of bits from 0 to 256');
  }

  get viaTor(): boolean {
    return this.transport.viaTor;
  }

  async info(): Promise<ServerInfo> {
    const { json } = await this.call('GET', '/v1/info');
    const info = expectShape(ServerInfo, json, 'the answer to /v1/info');
    if (keyIdOf(Buffer.from(info.sealing.publicKey, 'hex')) !== info.sealing.keyId) throw new BadResponseError('the keyId in /v1/info does not belong to its public key');
    return info;
  }

  /** Parses, pads and seals `tx` locally, submits it, and verifies the receipt. */
  async submit(tx: string | Uint8Array, options: { window?: number } = {}): Promise<Submission> {
    return this.submitPlaintext(parseTransaction(tx), options);
  }

  /**
   * Builds a SPEC §7 bundle (rungs cheapest first; a rung of several transactions is a package,
   * parents first), checks it with the server's own rules, pads, seals, submits and verifies the receipt.
   */
  async submitBundle(rungs: readonly (readonly RungItem[])[], options: { window?: number } = {}): Promise<Submission> {
    const bundle = buildBundle(rungs);
    return { ...(await this.submitPlaintext(bundle, options)), rungs: rungSummaries(bundle.ladder) };
  }

  /** Pads and seals what a builder made (a parsed transaction, or a bundle), submits it, and verifies the receipt. */
  async submitPlaintext(parsed: Plaintext, options: { window?: number } = {}): Promise<Submission> {
    let info = await this.info();
    const expect = this.options.expectKey;
    if (expect !== undefined && expect !== info.sealing.publicKey && expect !== info.sealing.keyId) {
      throw new KeyMismatchError(expect, info.sealing.publicKey);
    }
    const sealed = sealTransaction(Buffer.from(info.sealing.publicKey, 'hex'), parsed);
    if (sealed.sealed.length > info.limits.maxSealedBytes) {
      throw new BadTransactionError(`the sealed transaction (${sealed.sealed.length} bytes) is larger than this server takes (${info.limits.maxSealedBytes})`);
    }
    const request = submitRequestOf(sealed, info.sealing.keyId, options.window);
    let answer: { status: number; json: unknown };
    ({ answer, info } = await this.postStamped(request, sealed, info));
    const a = verifiedAnswer(answer.json, sealed, parsed.locktime, info.receipts.publicKey);
    return {
      id: sealed.id,
      token: a.token,
      txid: parsed.txid,
      locktime: parsed.locktime,
      locktimeType: parsed.locktimeType,
      receipt: a.receipt,
      receiptKey: info.receipts.publicKey,
      keyId: info.sealing.keyId,
      sealedSha256: sealed.sealedSha256,
      alreadyKnown: answer.status === 200,
    };
  }

  /**
   * Posts with the stamp SPEC §8 asks for, if any. A stamp_required answer means the price rose since
   * /v1/info was read (the store filled): read it again and pay, a few times at most.
   */
  private async postStamped(request: SubmitRequest, sealed: SealedTransaction, info: ServerInfo): Promise<{ answer: { status: number; json: unknown }; info: ServerInfo }> {
    let asked = 0;
    for (let round = 1; ; round++) {
      const stamp = await this.stampFor(info, sealed, asked);
      try {
        return { answer: await this.postWithRetries(JSON.stringify(stamp === undefined ? request : { ...request, stamp })), info };
      } catch (err) {
        if (!(err instanceof ServerError && err.code === 'stamp_required') || round >= STAMP_ROUNDS) throw err;
        info = await this.info();
        asked = bitsAsked(err.message);
      }
    }
  }

  /** The stamp asked for now (at least `asked` bits, as a refusal said), or none while the server is calm. */
  private async stampFor(info: ServerInfo, sealed: SealedTransaction, asked: number): Promise<string | undefined> {
    const terms = { admissionBits: info.admission.bits, sealedBytes: sealed.sealed.length, locktime: sealed.locktime, tip: info.tip, now: Math.floor(Date.now() / 1000) };
    const bits = Math.max(requiredBits(terms), asked);
    if (bits === 0) return undefined;
    if (bits > this.maxStampBits) throw new StampTooHardError(bits, this.maxStampBits);
    const onProgress = this.options.onStampProgress;
    return solveInSlices(sealed.id, sealed.locktime, bits, onProgress ? { onProgress } : {});
  }

  /** The same blob again is a safe retry: the server answers 200 with the same id and token. */
  private async postWithRetries(body: string): Promise<{ status: number; json: unknown }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call('POST', '/v1/transactions', body);
      } catch (err) {
        if (!(err instanceof UnreachableError) || attempt >= this.retries) throw err;
      }
    }
  }

  async status(id: string): Promise<RecordStatus> {
    const { json } = await this.call('GET', `/v1/transactions/${encodeURIComponent(id)}`);
    const view = expectShape(RecordStatus, json, `the status of ${id}`);
    if (view.id !== id) throw new BadResponseError(`asked for the status of ${id}, the server answered that of ${view.id}`);
    return view;
  }

  async cancel(id: string, token: string): Promise<CancelAnswer> {
    const { json } = await this.call('DELETE', `/v1/transactions/${encodeURIComponent(id)}`, undefined, { Authorization: `Bearer ${token}` });
    const answer = expectShape(CancelAnswer, json, `the cancellation of ${id}`);
    if (answer.id !== id) throw new BadResponseError(`the server did not confirm the cancellation of ${id}`);
    return answer;
  }

  private async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
    const url = new URL(path, this.server).href;
    const outcome = await this.transport.request(url, {
      method,
      credentials: freshCredentials(),
      timeoutMs: this.timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
      headers: { Accept: 'application/json', ...headers },
      ...(body !== undefined ? { body, contentType: 'application/json' } : {}),
    });
    if (outcome.kind === 'unreachable') throw new UnreachableError(this.server.host, outcome.reason);
    let json: unknown;
    try {
      json = JSON.parse(outcome.body);
    } catch (err) {
      throw new BadResponseError(`${method} ${path} answered ${outcome.status} without JSON`, { cause: err });
    }
    if (outcome.status >= 400) {
      const { error } = expectShape(ErrorBody, json, `the ${outcome.status} answer to ${method} ${path}`);
      throw new ServerError(outcome.status, error.code, error.message);
    }
    if (outcome.status !== 200 && outcome.status !== 201) throw new BadResponseError(`${method} ${path} answered ${outcome.status}`);
    return { status: outcome.status, json };
  }
}

/** The submission answer, held to the blob that was sent: same id and locktime, a receipt that verifies. */
function verifiedAnswer(json: unknown, sealed: SealedTransaction, locktime: number, receiptKey: string): SubmitAnswer {
  const a = expectShape(SubmitAnswer, json, 'the answer to the submission');
  if (a.id !== sealed.id) throw new BadResponseError(`the server answered id ${a.id} for a blob whose id is ${sealed.id}`);
  if (a.locktime !== locktime) throw new BadResponseError(`the server recorded locktime ${a.locktime}, the transaction has ${locktime}`);
  if (!verifyReceipt(receiptKey, a.receipt, sealed.id, locktime, sealed.sealedSha256)) throw new BadReceiptError(sealed.id);
  return a;
}
