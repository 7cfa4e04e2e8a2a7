// The benchmark script itself runs: `npm run bench -- --quick` exits 0 and prints every section of
// its table. No figure is judged here (timings belong in the benchmark, not in tests).
import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LAUNCHER = fileURLToPath(new URL('../../scripts/bench.js', import.meta.url));

test('scripts/bench --quick runs and prints the table with every section, each figure with its target', async (t) => {
  const child = spawn(process.execPath, [LAUNCHER, '--quick'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.is(code, 0, stderr);
  const rows = stdout.split('\n').filter((l) => / \| (PASS|FAIL)$/.test(l));
  for (const section of ['Ingest', 'Wipe', 'Due-scan', 'Maturity burst', 'Opening', 'Store growth']) {
    t.true(rows.some((l) => l.startsWith(section)), `a judged row for ${section}`);
  }
  // Every judged row names its target, and the durability check found each 201 on disk.
  for (const l of rows) t.regex(l.split(' | ')[3] ?? '', /\S/, l);
  t.regex(stdout, /201 answers whose record is on disk\s+\| (\d+) of \1 /);
});
