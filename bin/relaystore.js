#!/usr/bin/env node
// Command-line entry: hands argv to the compiled CLI (built by `npm install` via `prepare`).
import { main } from '../dist/src/cli.js';

main(process.argv.slice(2)).then((code) => {
  if (typeof code === 'number') process.exitCode = code;
});
