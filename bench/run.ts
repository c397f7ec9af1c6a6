// `npm run bench`: runs every benchmark in bench/ one after the other, each in its own
// process so one cannot warm or starve another. Benchmarks print figures; none passes or fails.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n=== bench/${file}`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${file}`], { stdio: 'inherit' });
  if (res.status !== 0) {
    failed++;
    console.log(`(bench/${file} exited with ${res.status ?? res.signal}; its figures above are incomplete)`);
  }
}
process.exitCode = failed ? 1 : 0;
