// One transaction kept by several RelayStores, so no single operator has to stay alive and honest:
// each sealed to its own key over its own circuit; status, cancel, renew and audit on the whole group.
import { randomBytes, randomInt } from 'node:crypto';
import { RelayStoreClient, type Submission } from './client.js';
import type { RecordStatus } from '../wire/answers.js';
import { parseTransaction, type Plaintext } from './envelope.js';
import { rungSummaries, type BundlePlaintext } from './bundle-builder.js';
import type { LocktimeType } from '../domain/locktime.js';
import type { StampProgress } from '../domain/stamp.js';
import { NotEnoughAcceptancesError } from './errors/not-enough-acceptances-error.js';
import { ServerError } from './errors/server-error.js';
import { auditMember, lowestTip, type AuditFinding } from './group-audit.js';

export interface GroupServer {
  /** The server's base URL, e.g. `http://<56 base32>.onion`. */
  readonly server: string;
  /** Pin this server's sealing key: its 64-hex public key or 16-hex keyId. */
  readonly expectKey?: string;
}

/** What a caller keeps for each server that accepted: enough to show, cancel, renew and audit later. */
export interface GroupMember extends Omit<Submission, 'alreadyKnown'> {
  readonly server: string;
  readonly expectKey?: string;
}

export interface Group {
  /** Local only (never sent to any server): names the group in the caller's records. */
  readonly id: string;
  readonly txid: string;
  readonly locktime: number;
  readonly locktimeType: LocktimeType;
  readonly members: readonly GroupMember[];
}

export type ServerOutcome =
  | { readonly kind: 'accepted'; readonly server: string; readonly member: GroupMember }
  | { readonly kind: 'failed'; readonly server: string; readonly error: Error };

export interface GroupSubmission extends Group {
  /** Every server's outcome, in the order the servers were given. */
  readonly outcomes: readonly ServerOutcome[];
}

export interface GroupSubmitOptions {
  readonly window?: number;
  /** How many servers must accept (default: all). Fewer throws NotEnoughAcceptancesError, which carries the accepted ones. */
  readonly required?: number;
  /** The group's local id (default: a new random one). */
  readonly groupId?: string;
  /** Awaited for each acceptance as it arrives, one at a time: store the token durably here. An error it throws is rethrown once every server has answered. */
  readonly onAccepted?: (member: GroupMember) => void | Promise<void>;
}

export type MemberStatus =
  | { readonly kind: 'answered'; readonly member: GroupMember; readonly status: RecordStatus }
  | { readonly kind: 'failed'; readonly member: GroupMember; readonly error: Error };

export interface GroupStatus {
  /** The furthest state any server reports (so `confirmed` once any server saw it confirmed); null when none answered. */
  readonly overall: RecordStatus['status'] | null;
  /** Every server answered. */
  readonly complete: boolean;
  readonly members: readonly MemberStatus[];
}

/** `done`: nothing is left to cancel on that server (cancelled, or it has left / never will leave it). */
export type CancelOutcome =
  | { readonly kind: 'done'; readonly member: GroupMember; readonly result: 'cancelled' | 'already_broadcast' | 'already_final' | 'not_found' }
  | { readonly kind: 'failed'; readonly member: GroupMember; readonly error: Error };

export interface CancelReport {
  readonly members: readonly CancelOutcome[];
  /** Every server was reached and answered for good: a later cancel has nothing left to do. */
  readonly complete: boolean;
}

export interface RenewOptions extends Omit<GroupSubmitOptions, 'required' | 'groupId'> {
  /** Members that already hold the new transaction (an interrupted renewal): their servers are not asked again. */
  readonly reuse?: readonly GroupMember[];
  /** What to cancel once the new transaction is armed everywhere (default: the group's members). */
  readonly retire?: readonly GroupMember[];
  /** Awaited once every server holds the new transaction, before anything old is cancelled. */
  readonly onRenewed?: (group: Group) => void | Promise<void>;
}

export type RenewResult =
  /** The new transaction is armed on every server of the group; `retired` says where the old one was cancelled. */
  | { readonly kind: 'renewed'; readonly group: Group; readonly outcomes: readonly ServerOutcome[]; readonly retired: CancelReport }
  /** Some server did not accept it: the old one stays armed everywhere, and the new one was withdrawn where it had been accepted. */
  | { readonly kind: 'refused'; readonly outcomes: readonly ServerOutcome[]; readonly rolledBack: CancelReport };

export interface AuditReport {
  readonly findings: readonly AuditFinding[];
}

export interface RelayStoreGroupOptions {
  /** Tor's SOCKS port as `socks5h://host:port`; `null` only for servers on this machine. */
  readonly socks: string | null;
  readonly timeoutMs?: number;
  readonly retries?: number;
  /** Each server is sent its submission or cancellation at its own uniformly random moment within this many ms (default 0: all at once). */
  readonly staggerMs?: number;
  /** A number in [0, 1) (default: from the OS's CSPRNG). */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told, per server, how a stamp search goes while a busy server asks for one (SPEC §8), as RelayStoreClient's onStampProgress. */
  readonly onStampProgress?: (server: string, progress: StampProgress) => void;
  /** As RelayStoreClient's maxStampBits, for every server. */
  readonly maxStampBits?: number;
}

interface Target extends GroupServer {
  readonly client: RelayStoreClient;
}

export function newGroupId(): string {
  return `g${randomBytes(6).toString('hex')}`;
}

export const GROUP_ID = /^g[0-9a-f]{12}$/;

const PROGRESS: ReadonlyArray<RecordStatus['status']> = ['cancelled', 'invalid', 'rejected', 'pending', 'broadcasting', 'broadcast', 'confirmed'];

export function overallStatus(statuses: ReadonlyArray<RecordStatus['status']>): RecordStatus['status'] | null {
  let best = -1;
  for (const s of statuses) best = Math.max(best, PROGRESS.indexOf(s));
  return best < 0 ? null : PROGRESS[best]!;
}

export class RelayStoreGroup {
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: RelayStoreGroupOptions) {
    const stagger = options.staggerMs ?? 0;
    if (!Number.isFinite(stagger) || stagger < 0) throw new TypeError('staggerMs must be a number of milliseconds ≥ 0');
    this.random = options.random ?? (() => randomInt(0, 2 ** 32) / 2 ** 32);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Seals `tx` (hex, bytes, or a built plaintext such as `buildBundle`'s) to each server's own key and submits it to all of them. */
  async submit(servers: ReadonlyArray<string | GroupServer>, tx: string | Uint8Array | Plaintext, options: GroupSubmitOptions = {}): Promise<GroupSubmission> {
    const plain = toPlaintext(tx);
    const targets = this.targets(servers.map((s) => (typeof s === 'string' ? { server: s } : s)));
    const required = options.required ?? targets.length;
    if (!Number.isInteger(required) || required < 1 || required > targets.length) throw new TypeError(`required must be between 1 and ${targets.length}`);
    const outcomes = await this.submitEach(targets, plain, options);
    const members = outcomes.flatMap((o) => (o.kind === 'accepted' ? [o.member] : []));
    const group = { id: options.groupId ?? newGroupId(), txid: plain.txid, locktime: plain.locktime, locktimeType: plain.locktimeType, members, outcomes };
    if (members.length < required) throw new NotEnoughAcceptancesError(group, required);
    return group;
  }

  async status(group: { readonly members: readonly GroupMember[] }): Promise<GroupStatus> {
    const members = await Promise.all(
      group.members.map(async (member): Promise<MemberStatus> => {
        try {
          return { kind: 'answered', member, status: await this.client(member).status(member.id) };
        } catch (err) {
          return { kind: 'failed', member, error: asError(err) };
        }
      }),
    );
    const answered = members.flatMap((m) => (m.kind === 'answered' ? [m.status.status] : []));
    return { overall: overallStatus(answered), complete: answered.length === members.length, members };
  }

  /** Cancels every member, staggered like submissions; safe to repeat (a cancelled record answers `cancelled` again). */
  async cancel(group: { readonly members: readonly GroupMember[] }): Promise<CancelReport> {
    const members = await Promise.all(
      group.members.map(async (m) => {
        await this.stagger();
        return this.cancelOne(m);
      }),
    );
    return { members, complete: members.every((m) => m.kind === 'done') };
  }

  /**
   * The dead man's switch's reset: `tx` is armed on every server of the group first, and only then
   * is the group's old transaction cancelled. If any server does not take it, the old one stays
   * armed everywhere and the new one is withdrawn wherever it was accepted.
   */
  async renew(group: Group, tx: string | Uint8Array | Plaintext, options: RenewOptions = {}): Promise<RenewResult> {
    const plain = toPlaintext(tx);
    const servers = distinctServers(group.members);
    const reused = (options.reuse ?? []).filter((m) => m.txid === plain.txid && m.locktime === plain.locktime && servers.some((s) => s.server === m.server));
    const missing = servers.filter((s) => !reused.some((m) => m.server === s.server));
    const outcomes = await this.submitEach(this.targets(missing), plain, options);
    const holders = [...reused, ...outcomes.flatMap((o) => (o.kind === 'accepted' ? [o.member] : []))];
    if (holders.length < servers.length) return { kind: 'refused', outcomes, rolledBack: await this.cancel({ members: holders }) };
    const renewed: Group = { id: group.id, txid: plain.txid, locktime: plain.locktime, locktimeType: plain.locktimeType, members: holders };
    await options.onRenewed?.(renewed);
    return { kind: 'renewed', group: renewed, outcomes, retired: await this.cancel({ members: options.retire ?? group.members }) };
  }

  /**
   * Asks each server about each record it signed a receipt for. A server that no longer knows a
   * record that cannot have finished yet, or that reports another locktime, has broken its signed
   * promise: the finding carries the receipt as evidence anyone can verify.
   */
  async audit(group: { readonly members: readonly GroupMember[] }): Promise<AuditReport> {
    const servers = distinctServers(group.members);
    const infos = new Map(
      await Promise.all(servers.map(async (s) => [s.server, await this.client(s).info().catch(() => null)] as const)),
    );
    const tip = lowestTip([...infos.values()].map((i) => i?.tip ?? null));
    const findings = await Promise.all(
      group.members.map((m) => auditMember(m, () => this.client(m).status(m.id), tip, infos.get(m.server)?.receipts.publicKey ?? null)),
    );
    return { findings };
  }

  private targets(servers: readonly GroupServer[]): Target[] {
    const seen = new Set<string>();
    return servers.map((s) => {
      const key = new URL(s.server).href;
      if (seen.has(key)) throw new TypeError(`${s.server} is given twice: a group needs different servers`);
      seen.add(key);
      return { ...s, client: this.client(s) };
    });
  }

  private client(s: GroupServer): RelayStoreClient {
    const { socks, timeoutMs, retries, onStampProgress, maxStampBits } = this.options;
    return new RelayStoreClient({
      server: s.server,
      socks,
      ...(onStampProgress ? { onStampProgress: (p: StampProgress) => onStampProgress(s.server, p) } : {}),
      ...(s.expectKey !== undefined ? { expectKey: s.expectKey } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(retries !== undefined ? { retries } : {}),
      ...(maxStampBits !== undefined ? { maxStampBits } : {}),
    });
  }

  private async submitEach(targets: readonly Target[], plain: Plaintext, options: Omit<GroupSubmitOptions, 'required'>): Promise<ServerOutcome[]> {
    const record = inOrder(options.onAccepted);
    const submitOptions = options.window !== undefined ? { window: options.window } : {};
    const outcomes = await Promise.all(
      targets.map(async (target): Promise<ServerOutcome> => {
        await this.stagger();
        let submission: Submission;
        try {
          submission = await target.client.submitPlaintext(plain, submitOptions);
        } catch (err) {
          return { kind: 'failed', server: target.server, error: asError(err) };
        }
        const member = memberOf(target, 'ladder' in plain ? { ...submission, rungs: rungSummaries((plain as BundlePlaintext).ladder) } : submission);
        await record.push(member);
        return { kind: 'accepted', server: target.server, member };
      }),
    );
    record.rethrow();
    return outcomes;
  }

  /** Independent random delays also shuffle the order, so arrival times do not line up across operators. */
  private async stagger(): Promise<void> {
    const max = this.options.staggerMs ?? 0;
    if (max > 0) await this.sleep(Math.floor(this.random() * max));
  }

  private async cancelOne(member: GroupMember): Promise<CancelOutcome> {
    try {
      await this.client(member).cancel(member.id, member.token);
      return { kind: 'done', member, result: 'cancelled' };
    } catch (err) {
      if (err instanceof ServerError && (err.code === 'already_broadcast' || err.code === 'already_final' || err.code === 'not_found')) {
        return { kind: 'done', member, result: err.code };
      }
      return { kind: 'failed', member, error: asError(err) };
    }
  }
}

function toPlaintext(tx: string | Uint8Array | Plaintext): Plaintext {
  return typeof tx === 'string' || tx instanceof Uint8Array ? parseTransaction(tx) : tx;
}

function memberOf(target: GroupServer, s: Submission): GroupMember {
  const { alreadyKnown: _, ...kept } = s;
  return { server: target.server, ...(target.expectKey !== undefined ? { expectKey: target.expectKey } : {}), ...kept };
}

function distinctServers(members: readonly GroupMember[]): GroupServer[] {
  const byServer = new Map<string, GroupServer>();
  for (const m of members) {
    if (!byServer.has(m.server)) byServer.set(m.server, { server: m.server, ...(m.expectKey !== undefined ? { expectKey: m.expectKey } : {}) });
  }
  return [...byServer.values()];
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Runs a callback for each item one at a time, in arrival order; remembers the first failure for later. */
function inOrder<T>(callback: ((item: T) => void | Promise<void>) | undefined) {
  let tail: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | null = null;
  return {
    push(item: T): Promise<void> {
      tail = tail.then(() => callback?.(item)).catch((error: unknown) => void (failure ??= { error }));
      return tail;
    },
    rethrow(): void {
      if (failure) throw failure.error;
    },
  };
}
