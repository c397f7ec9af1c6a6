// Which windows belong to the applications the customer chose to share. A choice is written
// `app:NAME` (several separated by commas, e.g. `app:firefox,app:xterm`) and matches a window
// whose WM_CLASS instance or class, or whose process name (/proc/PID/comm), equals NAME,
// ignoring case. Names are compared whole: `app:term` does not share xterm.

import { readFileSync } from 'node:fs';
import { RsoError } from '../../errors.js';

export interface AppSpec {
  kind: 'app';
  name: string;
}

/** Parses `app:firefox,app:xterm`. Throws RSO_ERR_USAGE on anything else. */
export function parseAppSpecs(text: string): AppSpec[] {
  const out: AppSpec[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^app:(.+)$/i.exec(part);
    const name = m?.[1]?.trim();
    if (!name) {
      throw new RsoError('RSO_ERR_USAGE', `"${part}" is not an application choice; write app:NAME, for example app:firefox.`, `bad app spec ${JSON.stringify(part)}`);
    }
    out.push({ kind: 'app', name: name.toLowerCase() });
  }
  if (out.length === 0) throw new RsoError('RSO_ERR_USAGE', 'No application was named; write app:NAME, for example app:firefox.', 'empty app spec');
  return out;
}

export interface MatchableWindow {
  pid: number | null;
  instance: string;
  class: string;
}

/** The process name of a PID (Linux /proc), or null when unknown or gone. */
export function processName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || null;
  } catch {
    // The process may have exited, or this is not Linux: the WM_CLASS match still applies.
    return null;
  }
}

export function matchesApp(specs: readonly AppSpec[], w: MatchableWindow, comm: (pid: number) => string | null = processName): boolean {
  const names = new Set<string>();
  if (w.instance) names.add(w.instance.toLowerCase());
  if (w.class) names.add(w.class.toLowerCase());
  if (specs.some((s) => names.has(s.name))) return true;
  if (w.pid === null) return false;
  const c = comm(w.pid);
  return c !== null && specs.some((s) => s.name === c.toLowerCase());
}
