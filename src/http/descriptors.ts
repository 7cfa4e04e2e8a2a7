// How many client connections the open-files limit allows once the service's own outgoing work has its
// descriptors (SPEC §8): a flood of clients must never leave chain polling with EMFILE.
import { readFile, readdir } from 'node:fs/promises';

/** Below this many client connections the service is not worth running: it refuses to start. */
export const MIN_CONNECTIONS = 16;
/** SQLite's files, worker threads, tor's pipes and control connection, the log: with room to spare. */
const MARGIN = 64;

export interface Outgoing {
  readonly explorers: number;
  /** Most requests in flight to one explorer: sends, checks and tracking all wait in its pacer lane (src/net/pacer.ts). */
  readonly perExplorer: number;
}

/** Descriptors outgoing work may hold at once: polling (tip and fee estimates), each explorer's lane full; SQLite, workers and tor in the margin. */
export function outgoingDescriptors(o: Outgoing): number {
  return 2 * o.explorers + o.explorers * o.perExplorer + MARGIN;
}

export type Budget =
  | { readonly kind: 'ok'; readonly maxConnections: number; readonly reserved: number | null; readonly openFilesLimit: number | null; readonly clamped: boolean }
  | { readonly kind: 'too_few'; readonly message: string };

/**
 * `limit`: RLIMIT_NOFILE (null where it cannot be read: the request stands); `open`: descriptors
 * open now; `outgoing`: what outgoing work needs on top of them.
 */
export function connectionBudget(requested: number, limit: number | null, open: number, outgoing: number): Budget {
  if (limit === null) return { kind: 'ok', maxConnections: requested, reserved: null, openFilesLimit: null, clamped: false };
  const reserved = open + outgoing;
  const available = limit - reserved;
  if (available < Math.min(requested, MIN_CONNECTIONS)) {
    return {
      kind: 'too_few',
      message: `the open-files limit (${limit}) leaves ${Math.max(0, available)} descriptors for clients once ${reserved} are kept for the service's own work; raise it (ulimit -n, systemd LimitNOFILE) to at least ${reserved + Math.min(requested, MIN_CONNECTIONS)}`,
    };
  }
  const maxConnections = Math.min(requested, available);
  return { kind: 'ok', maxConnections, reserved, openFilesLimit: limit, clamped: maxConnections < requested };
}

/** The soft RLIMIT_NOFILE of this process (Node raises it to the hard limit at start), or null. */
export async function openFilesLimit(): Promise<number | null> {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(await readFile('/proc/self/limits', 'utf8'));
    if (!m) return null;
    return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    return null;
  }
}

/** Descriptors this process has open now (0 where /proc is missing). */
export async function openDescriptors(): Promise<number> {
  try {
    return (await readdir('/proc/self/fd')).length;
  } catch {
    return 0;
  }
}
