// Intake: validates a submission, derives id/token/receipt and hands it to the store. Knows no HTTP.
import { hash } from 'node:crypto';
import { Compile } from 'typebox/compile';
import { locktimeType, LOCKTIME_THRESHOLD, type Tip } from '../domain/locktime.js';
import { refuse, type Refusal, type CancelOutcome, type StatusOutcome, type SubmitOutcome } from '../domain/outcomes.js';
import { BLOCKS_PER_YEAR, SECONDS_PER_YEAR, checkStamp, requiredBits } from '../domain/stamp.js';
import type { AdmissionLevel } from '../domain/admission.js';
import { State, statusOf, viewOf, type StoredRecord } from '../domain/record.js';
import { purgeAt } from '../domain/retention.js';
import { deriveToken, tokenHash, tokenMatches } from '../keys/receipts.js';
import type { KeyRing, SealingKey } from '../keys/keyring.js';
import { PoolSigner, type ReceiptSigner } from '../keys/receipt-signer.js';
import { isDiskFull, type Store } from '../store/store.js';
import { nowSeconds, type Clock } from '../util/clock.js';
import { RecordId, type SubmitAnswer } from '../wire/answers.js';
import { submitRequestChecker, type SubmitCheck, type SubmitRequest } from '../wire/submit-request.js';

const STORE_FULL = 'the store holds as much as it may; try later';

export interface IntakeLimits {
  readonly maxSealedBytes: number;
  readonly maxWindowSeconds: number;
  readonly horizonYears: number;
}

export interface IntakeDeps {
  readonly store: Store;
  readonly keys: KeyRing;
  readonly clock: Clock;
  /** The tip locktimes are judged against: the current one, else the last one known (SPEC §8). */
  readonly tip: () => Tip | null;
  /** What a submission costs now (SPEC §8); no stamp is asked while its bits are 0. */
  readonly admission: () => AdmissionLevel;
  readonly limits: IntakeLimits;
  /** How long a finished record stays answerable before it is purged. */
  readonly retentionSeconds: number;
  /** Computes receipt signatures; by default on libuv's thread pool. */
  readonly signer?: ReceiptSigner;
}

/** What the wire contract calls an id; anything else cannot name a record. */
const ID = Compile(RecordId);

/** Nothing is lost meanwhile: what was accepted stays, and submissions are taken again once there is space. */
const DISK_FULL = "the server's disk is full; try again later";
const TOKEN_RE = /^[0-9a-fA-F]{64}$/;

export class Intake {
  private readonly signer: ReceiptSigner;
  private readonly checkRequest: (body: unknown) => SubmitCheck;

  constructor(private readonly deps: IntakeDeps) {
    this.signer = deps.signer ?? new PoolSigner(deps.keys.receiptPrivateKey);
    this.checkRequest = submitRequestChecker(deps.limits);
  }

  /** Judges the body by the wire schema, then by what only the server knows (its keys, the tip, its fill). */
  async submit(body: unknown): Promise<SubmitOutcome> {
    const checked = this.checkRequest(body);
    if (!checked.ok) return refuse(checked.code, checked.message);
    const { keyId, locktime } = checked.request;
    const key = keyId === undefined ? this.deps.keys.current : this.deps.keys.find(keyId);
    if (!key) return refuse('unknown_key', `no sealing key has keyId ${keyId}`);
    if (this.cannotJudge(locktime)) {
      return refuse('unavailable', 'this server has not learnt the chain tip yet, so it cannot judge a height locktime; try again in a minute');
    }
    const tooFar = this.tooFar(locktime);
    if (tooFar) return refuse('locktime_too_far', tooFar);
    return this.accept(checked.request, key);
  }

  private async accept({ locktime, sealed, window = 0, stamp }: SubmitRequest, key: SealingKey): Promise<SubmitOutcome> {
    const { keys } = this.deps;
    // The schema has checked that `sealed` is hex of an allowed length.
    const sealedBytes = Buffer.from(sealed, 'hex');
    // One-shot hashes: a createHash object costs more than hashing the blob.
    const digest = hash('sha256', sealedBytes, 'buffer');
    const sealedSha256 = digest.toString('hex');
    const id = digest.subarray(0, 16);
    const idHex = id.toString('hex');
    // No await between a pass and the enqueue below: concurrent submissions must see each other's bytes.
    const refusal = this.quotaOrStamp(idHex, locktime, sealedBytes.length, stamp);
    if (refusal !== null && !(await this.deps.store.has(idHex))) return refusal;
    const token = deriveToken(keys.tokenSecret, id);
    // The receipt signs id, locktime and blob hash only, so it is made before the commit: the store
    // waits for it, and a signer that fails keeps nothing (the 503 says so). Enqueued now, with no
    // await before it, so that the bytes count against admission at once.
    const receipt = this.signer.sign(idHex, locktime, sealedSha256);
    const record = { id, keyId: Buffer.from(key.keyId, 'hex'), locktime, window, sealed: sealedBytes, tokenHash: tokenHash(token) };
    const outcome = await this.deps.store.submit(record, receipt);
    if (outcome.kind === 'full') return refuse('store_full', STORE_FULL);
    if (outcome.kind === 'disk_full') return refuse('unavailable', DISK_FULL);
    // A retry that declared another locktime gets the receipt of what was stored.
    const stored = outcome.record;
    const signed = stored.locktime === locktime ? await receipt : await this.signer.sign(stored.id, stored.locktime, sealedSha256);
    const answer = this.body(stored, token, signed);
    return outcome.kind === 'inserted' ? { kind: 'accepted', body: answer } : { kind: 'already_known', body: answer };
  }

  /** A height locktime needs a tip to be judged against; locktime 0 is mature whatever the tip. */
  private cannotJudge(locktime: number): boolean {
    return locktime !== 0 && locktime < LOCKTIME_THRESHOLD && this.deps.tip() === null;
  }

  /** The quota and the stamp price of SPEC §8 (a retry of a blob already stored pays neither: see accept). */
  private quotaOrStamp(id: string, locktime: number, size: number, stamp: string | undefined): Refusal | null {
    // Before the stamp: nobody should do work only to hear that there is no room.
    if (!this.deps.store.hasRoom(size)) return refuse('store_full', STORE_FULL);
    const { deps } = this;
    const bits = requiredBits({ admissionBits: deps.admission().bits, sealedBytes: size, locktime, tip: deps.tip(), now: nowSeconds(deps.clock) });
    if (bits === 0 || (stamp !== undefined && checkStamp({ bits, id, locktime, nonce: stamp }) === 'valid')) return null;
    const given = stamp === undefined ? 'none was given' : 'the one given has fewer';
    return refuse('stamp_required', `the store is filling up: this submission needs a stamp of ${bits} bits (SPEC §8); ${given}`);
  }

  private tooFar(locktime: number): string | null {
    const { horizonYears } = this.deps.limits;
    if (locktime >= LOCKTIME_THRESHOLD) {
      const limit = nowSeconds(this.deps.clock) + Math.round(horizonYears * SECONDS_PER_YEAR);
      return locktime > limit ? `locktime is more than ${horizonYears} years in the future` : null;
    }
    const tip = this.deps.tip();
    // Only locktime 0 gets here without a tip (cannotJudge).
    if (tip === null) return null;
    const limit = tip.height + Math.round(horizonYears * BLOCKS_PER_YEAR);
    return locktime > limit ? `locktime is more than ${horizonYears} years of blocks beyond the tip (${tip.height})` : null;
  }

  private body(record: StoredRecord, token: Buffer, receipt: string): SubmitAnswer {
    return {
      id: record.id,
      token: token.toString('hex'),
      status: statusOf(record.state),
      locktime: record.locktime,
      locktimeType: locktimeType(record.locktime),
      receipt,
    };
  }

  async status(id: string): Promise<StatusOutcome> {
    if (!ID.Check(id)) return refuse('not_found', 'no transaction has this id');
    const record = await this.deps.store.get(id);
    if (!record) return refuse('not_found', 'no transaction has this id');
    return { kind: 'found', view: viewOf(record) };
  }

  async cancel(id: string, authorization: string | undefined): Promise<CancelOutcome> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return refuse('unauthorized', 'cancelling needs "Authorization: Bearer <token>"');
    if (!ID.Check(id)) return refuse('not_found', 'no transaction has this id');
    const record = await this.deps.store.get(id);
    if (!record) return refuse('not_found', 'no transaction has this id');
    const presented = match[1]!;
    if (!TOKEN_RE.test(presented) || !tokenMatches(Buffer.from(presented, 'hex'), record.tokenHash)) {
      return refuse('forbidden', 'the token does not match this transaction');
    }
    return this.cancelRecord(record);
  }

  private async cancelRecord(record: StoredRecord): Promise<CancelOutcome> {
    switch (record.state) {
      case State.Cancelled:
        return { kind: 'cancelled', id: record.id };
      case State.Pending:
      case State.Windowed: {
        const changed = await this.wipe(record);
        if (changed === null) return refuse('unavailable', DISK_FULL);
        if (changed.has(record.id)) return { kind: 'cancelled', id: record.id };
        // It moved on while we looked (matured, or cancelled twice at once): answer from its new state.
        const now = await this.deps.store.get(record.id);
        return now ? this.cancelRecord(now) : refuse('not_found', 'no transaction has this id');
      }
      case State.Invalid:
        return refuse('already_final', 'the transaction was found invalid and will never be broadcast');
      default:
        return refuse('already_broadcast', 'the transaction has already left the server');
    }
  }

  /** Cancels and wipes a pending record; null when the disk is too full to write even that. */
  private async wipe(record: StoredRecord): Promise<Set<string> | null> {
    const cancel = { id: record.id, from: [record.state], to: State.Cancelled, wake: purgeAt(nowSeconds(this.deps.clock), this.deps.retentionSeconds), wipe: true };
    try {
      return await this.deps.store.transition([cancel]);
    } catch (err) {
      if (isDiskFull(err)) return null;
      throw err;
    }
  }
}
