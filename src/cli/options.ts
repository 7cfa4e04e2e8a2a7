// What every client command reads the same way: --server, --socks (a loopback server means direct),
// --timeout, --max-stamp-bits and --receipts, with their RELAYSTORE_* variables; and the UsageError they throw (exit 2).
import { socksFor } from '../net/route.js';
import { defaultReceiptsFile } from './receipts-file.js';
import { isStampCap } from '../domain/stamp.js';

export class UsageError extends Error {}

export const COMMON_OPTIONS = {
  server: { type: 'string' },
  socks: { type: 'string' },
  timeout: { type: 'string' },
  'max-stamp-bits': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = Readonly<Record<string, string | boolean | string[] | undefined>>;

export function serverUrl(server: string): URL {
  try {
    return new URL(server);
  } catch {
    throw new UsageError(`--server is not a URL: ${server}`);
  }
}

/** --socks, else RELAYSTORE_SOCKS, else direct for servers all on this machine and Tor's usual port for the rest. */
export function socksOf(values: Values, env: NodeJS.ProcessEnv, servers: readonly URL[]): string | null {
  return socksFor((values.socks as string | undefined) ?? env.RELAYSTORE_SOCKS, servers);
}

/** --timeout in milliseconds, or undefined for the client library's default. */
export function timeoutMsOf(values: Values): number | undefined {
  if (values.timeout === undefined) return undefined;
  const s = Number(values.timeout);
  if (!Number.isFinite(s) || s <= 0) throw new UsageError('--timeout must be a positive number of seconds');
  return s * 1000;
}

/** --max-stamp-bits, or undefined for the client library's default (DEFAULT_MAX_STAMP_BITS). */
export function maxStampBitsOf(values: Values): number | undefined {
  if (values['max-stamp-bits'] === undefined) return undefined;
  const bits = Number(values['max-stamp-bits']);
  if (!isStampCap(bits)) throw new UsageError('--max-stamp-bits must be a whole number of bits from 0 to 256');
  return bits;
}

export function receiptsFileOf(values: Values, env: NodeJS.ProcessEnv): string {
  return (values.receipts as string | undefined) ?? env.RELAYSTORE_RECEIPTS ?? defaultReceiptsFile();
}
