// Runs `relaystore serve` as a child process, as an operator would, and reads its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const BIN = fileURLToPath(new URL('../../../bin/relaystore.js', import.meta.url));

export interface Service {
  readonly url: string;
  readonly proc: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  readonly stderr: string[];
  /** Resolves with the first log line (present or future) that matches. */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the `count`-th matching log line written after this call. */
  waitForNext(match: (line: Record<string, unknown>) => boolean, count?: number, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves once the scheduler has finished a tick that judged a tip at `height` or above. */
  judged(height: number, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

type LogLine = Record<string, unknown>;
type Waiter = { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void };

interface LogFollower {
  readonly lines: LogLine[];
  readonly stderr: string[];
  readonly exited: Promise<number | null>;
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** Reads the child's JSON log lines and stderr as they come, and answers waits on them (each with a deadline). */
function followLog(proc: ChildProcess): LogFollower {
  const lines: LogLine[] = [];
  const stderr: string[] = [];
  const waiters: Waiter[] = [];
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    const line = parseLine(text);
    lines.push(line);
    for (const w of waiters.filter((w) => w.match(line))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  });
  createInterface({ input: proc.stderr! }).on('line', (text) => stderr.push(text));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const waitFor = (match: (line: LogLine) => boolean, timeoutMs = 30_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const found = lines.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.join('\n')}`)), timeoutMs);
      waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`service exited (${code}) before the expected log line; stderr: ${stderr.join('\n')}`));
      });
    });
  return { lines, stderr, exited, waitFor };
}

function parseLine(text: string): LogLine {
  try {
    return JSON.parse(text) as LogLine;
  } catch {
    return { event: 'non_json', text };
  }
}

/** `openFiles`: the service runs under `ulimit -n openFiles`, as an operator's unit file may set it. */
export async function startService(args: string[], env: NodeJS.ProcessEnv = {}, readyTimeoutMs = 60_000, openFiles?: number): Promise<Service> {
  const proc = spawnServe(args, env, openFiles);
  const { lines, stderr, exited, waitFor } = followLog(proc);
  const waitForNext = (match: (line: Record<string, unknown>) => boolean, count = 1, timeoutMs?: number) => {
    const mark = lines.length;
    let seen = 0;
    return waitFor((l) => lines.lastIndexOf(l) >= mark && match(l) && ++seen >= count, timeoutMs);
  };
  // The scheduler's debug line: needs --log-level debug (serveArgs sets it).
  const judged = (height: number, timeoutMs?: number) => waitFor((l) => isTick(l) && Number(l.height) >= height, timeoutMs);

  const listening = await waitFor((l) => l.event === 'listening', readyTimeoutMs);
  await waitFor((l) => l.event === 'ready', readyTimeoutMs);
  return {
    url: String(listening.url),
    proc,
    lines,
    stderr,
    waitFor,
    waitForNext,
    judged,
    kill: async (signal) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

function spawnServe(args: string[], env: NodeJS.ProcessEnv, openFiles?: number): ChildProcess {
  const command = [process.execPath, BIN, 'serve', ...args];
  const argv = openFiles === undefined ? command : ['/bin/sh', '-c', `ulimit -n ${openFiles} && exec "$@"`, 'sh', ...command];
  return spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The scheduler's log line at the end of each tick: the tip height it judged, and what it did. */
export function isTick(line: Record<string, unknown>): boolean {
  return line.event === 'tick';
}

/** Runs the CLI to completion (for configuration errors and one-shot commands); `input` goes to its stdin, `onStdout` sees the output so far. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string | Buffer, onStdout?: (text: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d) => {
      stdout += d;
      onStdout?.(stdout);
    });
    proc.stderr!.on('data', (d) => (stderr += d));
    // 'close', not 'exit': the child may exit before its last output has been read from the pipes
    // (a CI run saw exit code 0 and an empty stdout).
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) proc.stdin!.end(input);
  });
}
