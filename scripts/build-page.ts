// `npm run build`, last step: bundles the page's script (web/page.ts and the shared modules it
// imports) into dist/web/page.js, the one script the page loads (src/http/page.ts). Prints its size.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outfile = 'dist/web/page.js';

await build({
  absWorkingDir: root,
  entryPoints: ['web/page.ts'],
  outfile,
  bundle: true,
  // Node built-ins do not resolve for the browser: a shared module that imports one fails the build
  // (and tsconfig.page.json refuses Buffer and process), so nothing is polyfilled behind our back.
  platform: 'browser',
  format: 'esm',
  // Tor Browser follows Firefox ESR (128 and later), which runs all of ES2022.
  target: 'es2022',
  minify: true,
  charset: 'utf8',
  logLevel: 'warning',
});
const bytes = await readFile(new URL(outfile, `file://${root}`));
const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
console.log(`page: ${outfile} ${kB(bytes.length)} (${kB(gzipSync(bytes).length)} gzipped)`);
