// Process utilities for running tor children: finding the binary, whether a PID lives,
// stopping a child for sure, and reaping tors a crashed owner left behind. Used by the managed tor and the test network.
import type { ChildProcess } from 'node:child_process';
import { access, readdir, readFile } from 'node:fs/promises';
import { constants as fsConstants, readFileSync } from 'node:fs';
import path from 'node:path';

export type TorLog = (event: string, fields?: Record<string, unknown>) => void;

const NOT_INSTALLED = 'tor is not installed: run "apt-get install tor"';

/** Finds the tor binary: an explicit path, else PATH, else the places Debian puts it. */
export async function findTorBinary(explicit?: string): Promise<string> {
  const candidates = explicit
    ? [explicit]
    : [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin'].map((d) => path.join(d, 'tor'));
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(explicit ? `${NOT_INSTALLED} (no executable at ${explicit})` : NOT_INSTALLED);
}

/** True while the PID exists (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stops a child by PID: SIGTERM (tor exits at once on it, unlike SIGINT for relays), then SIGKILL
 * after `graceMs`. Resolves once Node has reaped it, so the PID is really gone.
 */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  if ((await Promise.race([exited, killed])) === 'timeout') {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  }
  clearTimeout(timer);
}

/**
 * Kills tor processes left behind by a crashed owner (Linux /proc only; elsewhere a no-op).
 * Seen with tor 0.4.9.11: on "Owning controller connection has closed -- exiting now" a tor can
 * deadlock in cpuworker_free_all and live on for ever, holding its ports and its DataDirectory
 * lock, so the next start of the same directory would fail. Only tors started with
 * `-f <torrc>` where `isOurs(torrc)` holds are considered, and only when the owner named in that
 * torrc (`__OwningControllerProcess`) is gone, or the torrc itself was deleted with its run.
 */
export async function reapOrphanTors(isOurs: (torrcPath: string) => boolean, log?: TorLog): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const reaped: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let argv: string[];
    try {
      argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    } catch {
      continue;
    }
    if (path.basename(argv[0] ?? '') !== 'tor') continue;
    const f = argv.indexOf('-f');
    const torrc = f >= 0 ? argv[f + 1] : undefined;
    if (!torrc || !isOurs(torrc)) continue;
    let orphan: boolean;
    try {
      const owner = /^__OwningControllerProcess (\d+)$/m.exec(await readFile(torrc, 'utf8'));
      orphan = owner ? !isRunning(Number(owner[1])) : false;
    } catch {
      orphan = true;
    }
    if (!orphan) continue;
    try {
      process.kill(pid, 'SIGKILL');
      reaped.push(pid);
      log?.('tor_orphan_killed', { pid });
    } catch {
      // gone meanwhile, or not ours to signal
    }
  }
  const deadline = Date.now() + 3_000;
  while (reaped.some((pid) => isRunning(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return reaped;
}

/** Like isAlive, but a zombie (dead, not yet reaped) counts as gone: it holds no ports or locks. */
function isRunning(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    // The state follows the parenthesised command name, which may itself contain spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}
