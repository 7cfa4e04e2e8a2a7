// Stamp progress for the CLI's stderr (SPEC §8): an estimate of the time the work will take once
// this machine's hash rate is measured, a line every few seconds while it runs, and one at the end.
import type { StampProgress } from '../domain/stamp.js';

/** The hash rate is read after this long: the first slices also pay for the JIT warming up. */
const MEASURE_MS = 300;
const EVERY_MS = 5000;

export function stampReporter(write: (line: string) => void): (progress: StampProgress) => void {
  let announcedAt: number | null = null;
  return (p) => {
    if (announcedAt === null && (p.found || p.elapsedMs >= MEASURE_MS)) {
      announcedAt = p.elapsedMs;
      write(`stamp: the server is busy and asks for ${p.bits} bits of work: about ${count(p.expected)} hashes, ` +
        `~${duration(p.expected / p.hashesPerSecond)} at the ${count(p.hashesPerSecond)} hashes/s measured here\n`);
    }
    if (announcedAt === null) return;
    if (p.found) {
      // The search is over: a next one (the price rose while this one ran) is announced afresh.
      announcedAt = null;
      return write(`stamp: found after ${count(p.tried)} hashes in ${duration(p.elapsedMs / 1000)}\n`);
    }
    if (p.elapsedMs - announcedAt < EVERY_MS) return;
    announcedAt = p.elapsedMs;
    const share = Math.round((100 * p.tried) / p.expected);
    // The search has no memory: going past the expected count is bad luck, not a fault.
    const luck = p.tried > p.expected ? '; unlucky so far, it goes on' : '';
    write(`stamp: ${count(p.tried)} hashes tried (${share}% of the expected count) in ${duration(p.elapsedMs / 1000)}${luck}\n`);
  };
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'an unknown time';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}
