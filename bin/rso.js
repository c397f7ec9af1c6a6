#!/usr/bin/env node
// Thin shim: everything lives in src/cli (compiled to dist/cli).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err); process.exitCode = 70; },
);
