// Which programs the demo needs, checked before anything starts so that a missing one is one
// plain sentence and nothing is left half-started.
import { spawnSync } from 'node:child_process';
import { RsoError } from '../errors.js';

export function hasProgram(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1" >/dev/null`, 'sh', name]).status === 0;
}

export function missingPrograms(names: readonly string[]): string[] {
  return names.filter((n) => !hasProgram(n));
}

export function requirePrograms(names: readonly string[], why: string): void {
  const missing = missingPrograms(names);
  if (missing.length > 0) {
    throw new RsoError('RSO_ERR_USAGE', `rso demo needs ${missing.join(', ')} ${why}: run \`bash scripts/setup.sh\` as root (it installs them) or install them yourself.`, `missing: ${missing.join(',')}`);
  }
}
