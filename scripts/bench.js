#!/usr/bin/env node
// `npm run bench [-- --quick]`: runs the compiled benchmark (built by `npm install` / `npm run build`).
import '../dist/scripts/bench.js';
