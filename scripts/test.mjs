// Runs the whole tap suite and ends with one plain line, "N passed, N failed", that any CI
// can read. The exit status is tap's.
import { spawn } from 'node:child_process';

const child = spawn('npx', ['tap', ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4096);
});
child.on('close', (code, signal) => {
  // tap's closing summary looks like: # { total: 120, pass: 118, fail: 1, skip: 1 }
  const m = /#\s*\{\s*total:\s*(\d+)([^}]*)\}/.exec(tail);
  if (m) {
    const field = (name) => Number((new RegExp(`${name}:\\s*(\\d+)`).exec(m[2] ?? '') ?? [])[1] ?? 0);
    const skipped = field('skip') + field('todo');
    const failed = field('fail');
    const passed = field('pass');
    console.log(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
