// `relaystore submit|status|cancel` on several servers, `renew` and `audit`: the group client on the
// command line. Every acceptance and outcome is written to the receipts file before it is printed.
import { parseArgs } from 'node:util';
import { RelayStoreClient } from '../client/client.js';
import { FINAL_STATUSES } from '../wire/vocabulary.js';
import { parseTransaction, type Plaintext } from '../client/envelope.js';
import { buildBundle } from '../client/bundle-builder.js';
import { RelayStoreGroup, newGroupId, GROUP_ID, type GroupMember, type GroupServer, type GroupSubmission, type CancelReport, type GroupStatus } from '../client/group.js';
import { NotEnoughAcceptancesError } from '../client/errors/not-enough-acceptances-error.js';
import { EXIT, exitCodeOf, processIo, progress, readRungs, readTransaction, report, type ClientIo } from './client-commands.js';
import { appendLines, readLines, receiptLine, type Line } from './receipts-file.js';
import { COMMON_OPTIONS, maxStampBitsOf, receiptsFileOf, serverUrl, socksOf, timeoutMsOf, UsageError } from './options.js';
import { doneKey, groupView, unfinished, type GroupView } from './group-file.js';
import * as out from './group-output.js';
import { stampReporter } from './stamp-progress.js';
import type { StampProgress } from '../domain/stamp.js';

export const GROUP_USAGE = `several servers (a group; the receipts file keeps it under a local group id such as g1a2b3c4d5e6f):
  relaystore submit [TX_HEX | @FILE | - | --rung ITEM ...] --server [KEY@]URL --server [KEY@]URL ... [--need N] [--stagger SECONDS] [--window SECONDS]
  relaystore status GROUP [--watch [--interval SECONDS]]
  relaystore cancel GROUP [--stagger SECONDS]
  relaystore renew GROUP [NEW_TX | --rung ITEM ...] [--stagger SECONDS] [--window SECONDS]
  relaystore audit [GROUP]

  --server [KEY@]URL  repeatable; KEY (a sealing keyId or public key) pins that server's key
                      [env RELAYSTORE_SERVERS, comma-separated]
  --need N            how many servers must accept (default: all); fewer exits non-zero, and the
                      accepted ones stay armed and recorded (cancel GROUP withdraws them)
  --stagger SECONDS   send each server its submission (or cancellation) at its own random moment
                      within SECONDS, so that operators who compare notes cannot pair them by time

status shows each server and the overall state (confirmed once any server saw it confirmed).
cancel reaches every server; exit 3 names those it could not reach, and running it again finishes.
renew arms NEW_TX on every server of the group first, then cancels the old transaction everywhere;
if any server refuses it, the old one stays armed and the new one is withdrawn. Running the same
renew again finishes an interrupted one. audit asks every server about every unfinished receipt and
prints the signed receipt of any record a server dropped or changed (exit 5).
`;

type GroupCommand = 'submit' | 'status' | 'cancel' | 'renew' | 'audit';

const OPTIONS = { ...COMMON_OPTIONS, server: { type: 'string', multiple: true }, receipts: { type: 'string' } } as const;

const EXTRA = {
  submit: { need: { type: 'string' }, stagger: { type: 'string' }, window: { type: 'string' }, rung: { type: 'string', multiple: true } },
  status: { watch: { type: 'boolean' }, interval: { type: 'string' } },
  cancel: { stagger: { type: 'string' } },
  renew: { stagger: { type: 'string' }, window: { type: 'string' }, rung: { type: 'string', multiple: true } },
  audit: {},
} as const;

type Values = { [K in keyof typeof OPTIONS | 'rung']?: K extends 'server' | 'rung' ? string[] : K extends 'json' | 'quiet' | 'help' ? boolean : string } & Record<string, string | boolean | string[] | undefined>;

interface Context {
  readonly io: ClientIo;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly socks: string | null;
  readonly file: string;
  readonly relays: RelayStoreGroup;
}

/** Several servers, a pinned key in `--server`, or a group id: the group side answers. */
export function isGroupInvocation(command: 'submit' | 'status' | 'cancel', argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (command !== 'submit') return argv.some((a) => GROUP_ID.test(a));
  const servers = argv.flatMap((a, i) => (a === '--server' ? [argv[i + 1] ?? ''] : a.startsWith('--server=') ? [a.slice(9)] : []));
  if (servers.length === 0) return env.RELAYSTORE_SERVERS !== undefined && env.RELAYSTORE_SERVER === undefined;
  return servers.length > 1 || servers.some((s) => PINNED.test(s));
}

export async function runGroupCommand(command: GroupCommand, argv: string[], io: ClientIo = processIo()): Promise<number> {
  try {
    const { values, positionals } = parse(argv, EXTRA[command]);
    if (values.help) {
      io.out(GROUP_USAGE);
      return EXIT.ok;
    }
    return await COMMANDS[command](values, positionals, io);
  } catch (err) {
    return report(command, err, io);
  }
}

const COMMANDS: Record<GroupCommand, (values: Values, positionals: string[], io: ClientIo) => Promise<number>> = {
  submit: submitGroup,
  status: statusGroup,
  cancel: cancelGroup,
  renew: renewGroup,
  audit: auditReceipts,
};

function parse(argv: string[], extra: Record<string, { type: 'string' | 'boolean' }>): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options: { ...OPTIONS, ...extra }, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const PINNED = /^([0-9a-fA-F]{16}|[0-9a-fA-F]{64})@(.+)$/;

/** `--server [KEY@]URL`, repeatable, else RELAYSTORE_SERVERS (comma-separated). */
function serversOf(values: Values, env: NodeJS.ProcessEnv): GroupServer[] {
  const given = values.server ?? (env.RELAYSTORE_SERVERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (given.length === 0) throw new UsageError('--server URL is required, once per server (or RELAYSTORE_SERVERS)');
  return given.map((s) => {
    const pinned = PINNED.exec(s);
    const server = pinned ? pinned[2]! : s;
    serverUrl(server);
    return { server, ...(pinned ? { expectKey: pinned[1]!.toLowerCase() } : {}) };
  });
}

function seconds(value: unknown, name: string, positive = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (positive && n === 0)) throw new UsageError(`--${name} must be a ${positive ? 'positive' : 'non-negative'} number of seconds`);
  return n;
}

function context(values: Values, io: ClientIo, servers: readonly string[], staggerSeconds?: number): Context {
  const socks = socksOf(values, io.env, servers.map((s) => new URL(s)));
  const timeoutMs = timeoutMsOf(values);
  const maxStampBits = maxStampBitsOf(values);
  const onStampProgress = values.quiet === true ? null : stampProgress(io);
  let relays: RelayStoreGroup;
  try {
    relays = new RelayStoreGroup({
      socks,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(staggerSeconds ? { staggerMs: staggerSeconds * 1000 } : {}),
      ...(onStampProgress ? { onStampProgress } : {}),
      ...(maxStampBits !== undefined ? { maxStampBits } : {}),
    });
    // Each server and the SOCKS URL are checked here, before anything is sent anywhere.
    for (const server of servers) new RelayStoreClient({ server, socks });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const file = receiptsFileOf(values, io.env);
  return { io, json: values.json === true, quiet: values.quiet === true, socks, file, relays };
}

/** Stamp progress on stderr as one server's submit shows it, each line led by its server (several may compute at once). */
function stampProgress(io: ClientIo): (server: string, progress: StampProgress) => void {
  const reporters = new Map<string, (progress: StampProgress) => void>();
  return (server, p) => {
    let report = reporters.get(server);
    if (!report) reporters.set(server, (report = stampReporter((line) => io.err(`${new URL(server).host}: ${line}`))));
    report(p);
  };
}

function hostsOf(servers: readonly string[]): string[] {
  return servers.map((s) => new URL(s).host);
}

/** Appends to the receipts file; a failure is kept (to be reported with the tokens printed) rather than thrown mid-submission. */
function recorder(file: string) {
  let failure: Error | null = null;
  return {
    async append(lines: readonly Line[]): Promise<void> {
      try {
        await appendLines(file, lines);
      } catch (err) {
        failure ??= err as Error;
      }
    },
    get failure(): Error | null {
      return failure;
    },
  };
}

async function submitGroup(values: Values, positionals: string[], io: ClientIo): Promise<number> {
  const servers = serversOf(values, io.env);
  const need = values.need === undefined ? servers.length : Number(values.need);
  if (!Number.isInteger(need) || need < 1 || need > servers.length) throw new UsageError(`--need must be a whole number from 1 to ${servers.length}`);
  const window = seconds(values.window, 'window');
  if (window !== undefined && !Number.isInteger(window)) throw new UsageError('--window must be a whole number of seconds');
  const tx = await readPlaintext(values, positionals, io);
  const c = context(values, io, servers.map((s) => s.server), seconds(values.stagger, 'stagger'));
  const group = newGroupId();
  const saved = recorder(c.file);
  const pins = new Map(servers.map((s) => [s.server, s.expectKey]));
  const onAccepted = (m: GroupMember) => saved.append([receiptLine(m.server, m, { group, round: 0, ...(pins.get(m.server) ? { pin: pins.get(m.server)! } : {}) })]);
  let result: GroupSubmission;
  try {
    result = await progress({ ...c, hosts: hostsOf(servers.map((s) => s.server)) }, io, 'submit', c.relays.submit(servers, tx, { required: need, groupId: group, onAccepted, ...(window !== undefined ? { window } : {}) }));
  } catch (err) {
    if (!(err instanceof NotEnoughAcceptancesError)) throw err;
    result = err.group;
  }
  io.out(c.json ? out.submissionJson(result, need, saved.failure ? null : c.file) : out.submissionText(result, need, c.file, saved.failure));
  if (saved.failure) return EXIT.failure;
  return result.members.length >= need ? EXIT.ok : worst(result.outcomes.flatMap((o) => (o.kind === 'failed' ? [o.error] : [])));
}

/** One transaction (argument, @FILE or stdin), or a SPEC §7 bundle from --rung alternatives. */
async function readPlaintext(values: Values, positionals: readonly string[], io: ClientIo): Promise<Plaintext> {
  const rungs = await readRungs(values.rung ?? []);
  if (rungs && positionals.length > 0) throw new UsageError('give one transaction or --rung alternatives, not both');
  if (positionals.length > 1) throw new UsageError('give one transaction');
  return rungs ? buildBundle(rungs) : parseTransaction(await readTransaction(positionals[0], io));
}

function worst(errors: readonly unknown[]): number {
  return Math.max(EXIT.ok, ...errors.map(exitCodeOf));
}

async function loadGroup(c: Pick<Context, 'file'>, id: string | undefined): Promise<{ view: GroupView; lines: Line[] }> {
  if (id === undefined || !GROUP_ID.test(id)) throw new UsageError('a group id (g followed by 12 hex digits) is required');
  const lines = await readLines(c.file);
  const view = groupView(lines, id);
  if (!view) throw new UsageError(`no group ${id} in ${c.file}`);
  return { view, lines };
}

function live(view: GroupView): GroupMember[] {
  return [...view.current, ...view.leftovers].filter((m) => !view.done.has(doneKey(m)));
}

async function statusGroup(values: Values, positionals: string[], io: ClientIo): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('status takes one group id');
  const file = receiptsFileOf(values, io.env);
  const interval = seconds(values.interval, 'interval', true) ?? 10;
  let last = '';
  for (;;) {
    const { view } = await loadGroup({ file }, positionals[0]);
    const c = context(values, io, live(view).map((m) => m.server));
    const st = await progress({ ...c, quiet: c.quiet || last !== '', hosts: hostsOf(live(view).map((m) => m.server)) }, io, 'status', c.relays.status({ members: live(view) }));
    await recordFinished(c, st);
    const shown = out.statusView(view, st);
    const text = c.json ? out.statusJson(shown) : out.statusText(shown);
    if (text !== last) io.out(text);
    last = text;
    const settled = shown.overall !== null && FINAL_STATUSES.has(shown.overall);
    if (!values.watch || settled) return st.complete ? EXIT.ok : worst(st.members.flatMap((m) => (m.kind === 'failed' ? [m.error] : [])));
    await new Promise((resolve) => setTimeout(resolve, interval * 1000));
  }
}

async function recordFinished(c: Context, st: GroupStatus): Promise<void> {
  const final = st.members.flatMap((m) => (m.kind === 'answered' && FINAL_STATUSES.has(m.status.status) ? [{ m: m.member, status: m.status.status }] : []));
  await appendLines(c.file, final.map(({ m, status }) => ({ event: 'finished', server: m.server, id: m.id, status })));
}

async function recordCancels(file: string, report: CancelReport): Promise<void> {
  const done = report.members.flatMap((m) => (m.kind === 'done' ? [m] : []));
  await appendLines(file, done.map((m) => ({ event: 'cancelled', server: m.member.server, id: m.member.id, result: m.result })));
}

/** Exit code of a cancellation: unreachable servers (3), a transaction that already left (4), answers that fail verification (5). */
function cancelExit(report: CancelReport): number {
  const late = report.members.some((m) => m.kind === 'done' && m.result === 'already_broadcast');
  return Math.max(late ? EXIT.refused : EXIT.ok, worst(report.members.flatMap((m) => (m.kind === 'failed' ? [m.error] : []))));
}

async function cancelGroup(values: Values, positionals: string[], io: ClientIo): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('cancel takes one group id (the tokens come from the receipts file)');
  const file = receiptsFileOf(values, io.env);
  const { view } = await loadGroup({ file }, positionals[0]);
  const members = live(view);
  const c = context(values, io, members.map((m) => m.server), seconds(values.stagger, 'stagger'));
  if (members.length === 0) {
    io.out(c.json ? JSON.stringify({ group: view.id, servers: [] }) + '\n' : `${view.id}: nothing left to cancel\n`);
    return EXIT.ok;
  }
  const result = await progress({ ...c, hosts: hostsOf(members.map((m) => m.server)) }, io, 'cancel', c.relays.cancel({ members }));
  await recordCancels(c.file, result);
  io.out(c.json ? out.cancelJson(view.id, result) : out.cancelText(view.id, result));
  return cancelExit(result);
}

async function renewGroup(values: Values, positionals: string[], io: ClientIo): Promise<number> {
  const file = receiptsFileOf(values, io.env);
  const { view } = await loadGroup({ file }, positionals[0]);
  const tx = await readPlaintext(values, positionals.slice(1), io);
  const window = seconds(values.window, 'window');
  const reuse = view.leftovers.filter((m) => m.round > view.round && m.txid === tx.txid && m.locktime === tx.locktime);
  const round = reuse[0]?.round ?? view.lastRound + 1;
  const reused = new Set(reuse.map(doneKey));
  const retire = live(view).filter((m) => !reused.has(doneKey(m)));
  const c = context(values, io, view.current.map((m) => m.server), seconds(values.stagger, 'stagger'));
  const current = { id: view.id, txid: view.current[0]!.txid, locktime: view.current[0]!.locktime, locktimeType: view.current[0]!.locktimeType, members: view.current };
  const result = await progress({ ...c, hosts: hostsOf(view.current.map((m) => m.server)) }, io, 'renew', c.relays.renew(current, tx, {
    reuse,
    retire,
    ...(window !== undefined ? { window } : {}),
    onAccepted: (m) => appendLines(c.file, [receiptLine(m.server, m, { group: view.id, round, ...(m.expectKey ? { pin: m.expectKey } : {}) })]),
    onRenewed: () => appendLines(c.file, [{ event: 'renewed', group: view.id, round }]),
  }));
  await recordCancels(c.file, result.kind === 'renewed' ? result.retired : result.rolledBack);
  io.out(c.json ? out.renewJson(view.id, result) : out.renewText(view.id, result));
  if (result.kind === 'renewed') return cancelExit(result.retired);
  return worst(result.outcomes.flatMap((o) => (o.kind === 'failed' ? [o.error] : [])));
}

async function auditReceipts(values: Values, positionals: string[], io: ClientIo): Promise<number> {
  if (positionals.length > 1) throw new UsageError('audit takes at most one group id');
  const file = receiptsFileOf(values, io.env);
  if (positionals[0] !== undefined) await loadGroup({ file }, positionals[0]);
  const members = unfinished(await readLines(file), positionals[0]);
  const c = context(values, io, members.map((m) => m.server));
  const { findings } = await progress({ ...c, hosts: [...new Set(hostsOf(members.map((m) => m.server)))] }, io, 'audit', c.relays.audit({ members }));
  const ended = findings.flatMap((f) => (f.kind === 'kept' && FINAL_STATUSES.has(f.status.status) ? [{ m: f.member, status: f.status.status as string }] : f.kind === 'gone' ? [{ m: f.member, status: 'gone' }] : []));
  await appendLines(c.file, ended.map(({ m, status }) => ({ event: 'finished', server: m.server, id: m.id, status })));
  io.out(c.json ? out.auditJson(findings) : out.auditText(findings, file));
  if (findings.some((f) => f.kind === 'dropped' || f.kind === 'altered')) return EXIT.untrusted;
  return worst(findings.flatMap((f) => (f.kind === 'failed' ? [f.error] : [])));
}
