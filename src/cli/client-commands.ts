// `relaystore info | submit | status | cancel`: the client library on the command line, with
// progress on stderr, human or --json output on stdout, and exit codes a script can act on.
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { RelayStoreClient, type Submission } from '../client/client.js';
import type { RecordStatus, ServerInfo } from '../wire/answers.js';
import { FINAL_STATUSES } from '../wire/vocabulary.js';
import { RelayStoreError } from '../client/errors/relaystore-error.js';
import { UnreachableError } from '../client/errors/unreachable-error.js';
import { ServerError } from '../client/errors/server-error.js';
import { BadTransactionError } from '../client/errors/bad-transaction-error.js';
import { stampReporter } from './stamp-progress.js';
import { appendReceipt, findReceipt } from './receipts-file.js';
import { DEFAULT_SOCKS } from '../net/route.js';
import { COMMON_OPTIONS, maxStampBitsOf, receiptsFileOf, serverUrl, socksOf, timeoutMsOf, UsageError } from './options.js';
import { readRung, RungUsageError } from './rung-args.js';
import type { RungItem } from '../client/bundle-builder.js';
import { newGroupId } from '../client/group.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, unreachable: 3, refused: 4, untrusted: 5 } as const;

export const CLIENT_USAGE = `client commands (they seal on this machine and talk to the server through Tor):
  relaystore info   --server URL
  relaystore submit [TX_HEX | @FILE | -] --server URL [--window SECONDS] [--expect-key KEY] [--receipts FILE]
  relaystore submit --rung ITEM[,ITEM...] [--rung ...] --server URL [...]
  relaystore status ID --server URL [--watch [--interval SECONDS]]
  relaystore cancel ID [--token-file FILE | -] --server URL [--receipts FILE]

common options:
  --server URL       the RelayStore, e.g. http://<onion>.onion            [env RELAYSTORE_SERVER]
  --socks URL        Tor's SOCKS port (default ${DEFAULT_SOCKS};  [env RELAYSTORE_SOCKS]
                     a server on 127.0.0.1 is reached directly unless --socks is given)
  --timeout SECONDS  per request (default 120: onion circuits take time)
  --max-stamp-bits N the most proof of work submit computes (default 32, what the SPEC's
                     defaults can ask at most); a server asking more is refused (exit 5)
  --json             machine-readable output on stdout
  --quiet            no progress on stderr

submit reads the transaction from its argument, from @FILE (hex or raw bytes), or from stdin
(no argument or "-"), and appends id, txid, token and receipt to the receipts file
(default ~/.relaystore/receipts.jsonl, mode 0600) before printing them: the token is the only
way to cancel. cancel takes it from the receipts file, or from --token-file (a file holding it, or
"-" for stdin). Do not give the token as an argument: other users see it in ps, and the shell keeps
it in its history (a TOKEN after ID still works, with a warning). When the server is busy it asks
for a proof-of-work stamp (SPEC §8): submit computes it here, with an estimate on stderr.

a fee ladder (SPEC §7): instead of one transaction, give one --rung per alternative, cheapest
first, each at a strictly higher fee rate and each spending some coin that the others spend
too (so only one can confirm). At maturity the server sends the cheapest rung the fee market
takes and climbs while it stays unconfirmed. An ITEM is a signed PSBT, whose fee comes from
the input values it carries, or a raw transaction followed by :FEE (satoshis); either as
@FILE, a path, or inline hex (a PSBT also in base64). Several ITEMs in one rung make a package
(a child paying for its parents), parents first:
  --rung a.psbt --rung b.psbt --rung c.psbt              three versions of one spend
  --rung @parent.hex:0,child-5.psbt --rung @parent.hex:0,child-50.psbt
                                                         a zero-fee parent, children at two fees
The ladder is checked on this machine by the server's own rules before anything is sealed
(exit 2 with the server's code, e.g. bad_bundle or rungs_not_conflicting).

exit codes: 0 done, 1 unexpected failure, 2 usage error or bad transaction, 3 server unreachable,
4 refused by the server (its error code is printed), 5 the server's answer failed verification
(or it asked for more work than --max-stamp-bits).
`;

interface Common {
  client: RelayStoreClient;
  json: boolean;
  quiet: boolean;
  server: string;
  socks: string | null;
}

export async function runClientCommand(command: 'info' | 'submit' | 'status' | 'cancel', argv: string[], io: ClientIo = processIo()): Promise<number> {
  try {
    switch (command) {
      case 'info':
        return await info(argv, io);
      case 'submit':
        return await submit(argv, io);
      case 'status':
        return await status(argv, io);
      case 'cancel':
        return await cancel(argv, io);
    }
  } catch (err) {
    return report(command, err, io);
  }
}

export interface ClientIo {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<Buffer>;
  env: NodeJS.ProcessEnv;
  stderrIsTty: boolean;
}

export function processIo(): ClientIo {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    env: process.env,
    stderrIsTty: Boolean(process.stderr.isTTY),
  };
}

/** The one mapping from an error to an exit code (see CLIENT_USAGE). */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof TypeError || err instanceof BadTransactionError) return EXIT.usage;
  if (err instanceof UnreachableError) return EXIT.unreachable;
  if (err instanceof ServerError) return EXIT.refused;
  if (err instanceof RelayStoreError) return EXIT.untrusted;
  return EXIT.failure;
}

export function report(command: string, err: unknown, io: ClientIo): number {
  const message = err instanceof Error ? err.message : String(err);
  const code = exitCodeOf(err);
  if (err instanceof UsageError || err instanceof TypeError) {
    io.err(`relaystore ${command}: ${message}\n(see "relaystore ${command} --help")\n`);
  } else if (err instanceof UnreachableError) {
    io.err(`relaystore ${command}: ${message}\nIs Tor running, and is the address right? A fresh onion address can take a minute to be reachable.\n`);
  } else if (code === EXIT.failure) {
    io.err(`relaystore ${command}: unexpected failure: ${err instanceof Error ? (err.stack ?? message) : message}\n`);
  } else {
    io.err(`relaystore ${command}: ${message}\n`);
  }
  return code;
}

function parse<T extends Record<string, { type: 'string' | 'boolean'; short?: string }>>(argv: string[], extra: T) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...extra }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function common(values: Record<string, string | boolean | string[] | undefined>, io: ClientIo): Common {
  const server = (values.server as string | undefined) ?? io.env.RELAYSTORE_SERVER;
  if (!server) throw new UsageError('--server URL is required (or RELAYSTORE_SERVER)');
  const socks = socksOf(values, io.env, [serverUrl(server)]);
  const timeoutMs = timeoutMsOf(values);
  const maxStampBits = maxStampBitsOf(values);
  const quiet = values.quiet === true;
  let client: RelayStoreClient;
  try {
    client = new RelayStoreClient({ server, socks, ...(quiet ? {} : { onStampProgress: stampReporter(io.err) }), ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(maxStampBits !== undefined ? { maxStampBits } : {}), ...(values['expect-key'] !== undefined ? { expectKey: String(values['expect-key']).toLowerCase() } : {}) });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return { client, json: values.json === true, quiet, server, socks };
}

/** Progress on stderr while Tor builds circuits: it can take many seconds, and silence looks like a hang. */
function withProgress<T>(c: Common, io: ClientIo, what: string, work: Promise<T>): Promise<T> {
  return progress({ quiet: c.quiet, socks: c.socks, hosts: [c.client.server.host] }, io, what, work);
}

export async function progress<T>(c: { quiet: boolean; socks: string | null; hosts: readonly string[] }, io: ClientIo, what: string, work: Promise<T>): Promise<T> {
  if (c.quiet) return work;
  const route = c.socks === null ? 'directly (loopback)' : `through Tor (${c.socks})`;
  io.err(`${what}: connecting to ${c.hosts.join(', ')} ${route}…\n`);
  const started = Date.now();
  const timer = setInterval(() => io.err(`${what}: still waiting (${Math.round((Date.now() - started) / 1000)} s)…\n`), 5000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

function help(values: { help?: boolean | string | undefined }, io: ClientIo): boolean {
  if (values.help) io.out(CLIENT_USAGE);
  return Boolean(values.help);
}

async function info(argv: string[], io: ClientIo): Promise<number> {
  const { values, positionals } = parse(argv, {});
  if (help(values, io)) return EXIT.ok;
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const c = common(values, io);
  const i = await withProgress(c, io, 'info', c.client.info());
  if (c.json) {
    io.out(JSON.stringify(i) + '\n');
  } else {
    io.out(
      [
        `${i.name} ${i.version} on ${i.network}`,
        `  tip           ${i.tip ? `${i.tip.height} ${i.tip.hash} (median time ${new Date(i.tip.medianTime * 1000).toISOString()})` : 'not known yet'}`,
        `  onion         ${i.onion ?? '(none configured)'}`,
        `  sealing key   ${i.sealing.publicKey} (keyId ${i.sealing.keyId})`,
        `  receipt key   ${i.receipts.publicKey}`,
        `  limits        sealed ≤ ${i.limits.maxSealedBytes} bytes, window ≤ ${i.limits.maxWindowSeconds} s`,
        `  admission     ${describeAdmission(i.admission)}`,
      ].join('\n') + '\n',
    );
  }
  return EXIT.ok;
}

function describeAdmission(a: ServerInfo['admission']): string {
  const full = `store ${Math.round(a.storeFull * 100)}% full`;
  return a.bits === 0 ? `${full}; no stamp asked` : `${full}; stamps of ${a.bits} bits and more asked (more for big blobs and far locktimes)`;
}

export async function readTransaction(arg: string | undefined, io: ClientIo): Promise<string | Uint8Array> {
  if (arg === undefined || arg === '-') {
    const bytes = await io.readStdin();
    return hexOrBytes(bytes);
  }
  if (arg.startsWith('@')) {
    let bytes: Buffer;
    try {
      bytes = await readFile(arg.slice(1));
    } catch (err) {
      throw new UsageError(`cannot read ${arg.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return hexOrBytes(bytes);
  }
  return arg;
}

/** Files and pipes may hold hex text (as wallets export it) or the raw serialization. */
function hexOrBytes(bytes: Buffer): string | Uint8Array {
  const text = bytes.toString('latin1').trim();
  return /^[0-9a-fA-F]*$/.test(text) ? text : bytes;
}

async function submit(argv: string[], io: ClientIo): Promise<number> {
  const { values, positionals } = parse(argv, { window: { type: 'string' }, 'expect-key': { type: 'string' }, receipts: { type: 'string' }, rung: { type: 'string', multiple: true } });
  if (help(values, io)) return EXIT.ok;
  if (positionals.length > 1) throw new UsageError('submit takes one transaction');
  const rungArgs = (values.rung ?? []) as string[];
  if (rungArgs.length > 0 && positionals.length > 0) throw new UsageError('give one transaction or --rung alternatives, not both');
  const c = common(values, io);
  const window = windowOf(values.window);
  const receiptsFile = receiptsFileOf(values, io.env);
  const options = window !== undefined ? { window } : {};
  const rungs = await readRungs(rungArgs);
  const work = rungs ? c.client.submitBundle(rungs, options) : c.client.submit(await readTransaction(positionals[0], io), options);
  const s = await withProgress(c, io, 'submit', work);
  // A group of one: `renew`, `audit` and group `status` work for it as for several servers.
  const group = newGroupId();
  const saveError = await appendReceipt(receiptsFile, c.server, s, { group, round: 0 }).then(() => null, (err: Error) => err);
  io.out(c.json ? JSON.stringify({ ...s, group, receiptsFile: saveError ? null : receiptsFile }) + '\n' : describeSubmission(s, group, saveError ? null : receiptsFile));
  if (saveError) {
    io.err(`relaystore submit: the server accepted the transaction, but the receipts file ${receiptsFile} could not be written (${saveError.message}); copy the token above now.\n`);
    return EXIT.failure;
  }
  return EXIT.ok;
}

function windowOf(value: string | boolean | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const window = Number(value);
  if (!Number.isInteger(window) || window < 0) throw new UsageError('--window must be a whole number of seconds ≥ 0');
  return window;
}

/** What submit prints for people; `savedTo` null when the receipts file could not be written. */
function describeSubmission(s: Submission, group: string, savedTo: string | null): string {
  const lines = [
    s.alreadyKnown ? 'already stored (this exact sealed blob was accepted before):' : 'accepted and stored on the server:',
    `  group       ${group}`,
    `  id          ${s.id}`,
    `  txid        ${s.txid}`,
    `  locktime    ${s.locktime} (${s.locktimeType})`,
    ...describeRungs(s.rungs),
    `  token       ${s.token}`,
    `  receipt     ${s.receipt} (verified)`,
    savedTo === null ? '' : `saved to ${savedTo}; the token is the only way to cancel, keep it secret.`,
  ];
  return lines.filter(Boolean).join('\n') + '\n';
}

/** The rungs as sealed: numbered from 1 as people count (status shows the same numbers). */
function describeRungs(rungs: Submission['rungs']): string[] {
  if (!rungs) return [];
  return [`  rungs       ${rungs.length}, sent cheapest first at maturity`, ...rungs.map((r, i) => `    ${String(i + 1).padStart(2)}  ${String(r.feeRate).padStart(9)} sat/vB  fee ${r.fee} sat  ${r.txids.join(', ')}`)];
}

export async function readRungs(args: readonly string[]): Promise<RungItem[][] | null> {
  if (args.length === 0) return null;
  try {
    return await Promise.all(args.map((arg, r) => readRung(arg, r)));
  } catch (err) {
    if (err instanceof RungUsageError) throw new UsageError(err.message);
    throw err;
  }
}

function describeStatus(r: RecordStatus): string {
  const parts = [`${r.id}  ${r.status}`, `locktime ${r.locktime} (${r.locktimeType})`];
  if (r.txid) parts.push(`txid ${r.txid}`);
  if (r.rungs !== undefined) parts.push(r.rung === undefined ? `${r.rungs} rungs, none sent yet` : `rung ${r.rung + 1} of ${r.rungs}${r.feeRate === undefined ? '' : ` at ${r.feeRate} sat/vB`}${r.txids && r.txids.length > 1 ? ` (package ${r.txids.join(', ')})` : ''}`);
  if (r.confirmations !== undefined) parts.push(`${r.confirmations} confirmation(s)`);
  if (r.error) parts.push(`${r.error.code}: ${r.error.message}`);
  return parts.join('  ') + '\n';
}

async function status(argv: string[], io: ClientIo): Promise<number> {
  const { values, positionals } = parse(argv, { watch: { type: 'boolean' }, interval: { type: 'string' } });
  if (help(values, io)) return EXIT.ok;
  const [id, ...rest] = positionals;
  if (!id || rest.length > 0) throw new UsageError('status takes one id');
  const c = common(values, io);
  const intervalS = values.interval === undefined ? 10 : Number(values.interval);
  if (!Number.isFinite(intervalS) || intervalS <= 0) throw new UsageError('--interval must be a positive number of seconds');
  let last = '';
  for (let first = true; ; first = false) {
    let r: RecordStatus;
    try {
      r = first ? await withProgress(c, io, 'status', c.client.status(id)) : await c.client.status(id);
    } catch (err) {
      // Watching outlives a flaky circuit: say so and ask again at the next interval.
      if (first || !(err instanceof UnreachableError)) throw err;
      if (!c.quiet) io.err(`status: ${err.message}; trying again in ${intervalS} s\n`);
      await new Promise((resolve) => setTimeout(resolve, intervalS * 1000));
      continue;
    }
    const key = `${r.status}/${r.confirmations ?? ''}/${r.rung ?? ''}`;
    if (key !== last) {
      io.out(c.json ? JSON.stringify(r) + '\n' : describeStatus(r));
      last = key;
    }
    if (!values.watch || FINAL_STATUSES.has(r.status)) return EXIT.ok;
    await new Promise((resolve) => setTimeout(resolve, intervalS * 1000));
  }
}

async function cancel(argv: string[], io: ClientIo): Promise<number> {
  const { values, positionals } = parse(argv, { receipts: { type: 'string' }, 'token-file': { type: 'string' } });
  if (help(values, io)) return EXIT.ok;
  const [id, tokenArg, ...rest] = positionals;
  if (!id || rest.length > 0) throw new UsageError('cancel takes one id (the token comes from the receipts file or --token-file)');
  const c = common(values, io);
  const token = await tokenOf(id, tokenArg, values, io);
  const r = await withProgress(c, io, 'cancel', c.client.cancel(id, token));
  io.out(c.json ? JSON.stringify(r) + '\n' : `${r.id}  cancelled: the sealed transaction was wiped on the server and will never be broadcast\n`);
  return EXIT.ok;
}

/** The cancel token: from --token-file (a file, or - for stdin), an argument (with a warning), or the receipts file. */
async function tokenOf(id: string, tokenArg: string | undefined, values: { 'token-file'?: string; receipts?: string }, io: ClientIo): Promise<string> {
  const tokenFile = values['token-file'];
  if (tokenFile !== undefined && tokenArg !== undefined) throw new UsageError('give the token once: --token-file or an argument, not both');
  if (tokenFile !== undefined) return readToken(tokenFile, io);
  if (tokenArg !== undefined) {
    io.err('relaystore cancel: a token given as an argument is visible to other users (ps) and kept in shell history; use --token-file or the receipts file\n');
    return tokenArg;
  }
  const file = receiptsFileOf(values, io.env);
  const token = (await findReceipt(file, id))?.token;
  if (token === undefined) throw new UsageError(`no token given and none for ${id} in ${file}`);
  return token;
}

async function readToken(file: string, io: ClientIo): Promise<string> {
  let text: string;
  try {
    text = file === '-' ? (await io.readStdin()).toString('utf8') : await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const token = text.trim();
  if (token === '') throw new UsageError(`no token in ${file === '-' ? 'stdin' : file}`);
  return token;
}
