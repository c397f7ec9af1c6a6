// An impaired link between two network namespaces, for the benches that measure rso over a
// bad network (bench/impaired-network.ts, bench/e2e-latency.ts) and the fault test built on
// them. One namespace holds the relay, the other the clients (customer and engineer); a veth
// pair joins them (10.231.0.2 relay side, 10.231.0.1 clients side: addresses inside our own
// namespaces only, never reachable from the host's network).
//
// The impairment is on both ends of the veth, so both directions are impaired the same way:
//   - `netem` (delay, loss and rate in the kernel) where the kernel has sch_netem;
//   - else `tbf+proxy`: `tbf` limits the rate on the veth, and the delay and loss are added by
//     a TCP proxy in the clients' namespace (bench/lib/delay-proxy.ts; use `proxyOptions()`).
// `impairment` says which one is in place; every bench prints it.
//
// Everything is torn down by `destroy()`, and also on Ctrl-C, SIGTERM or a crash
// (bench/lib/cleanup.ts): processes still running inside our namespaces are killed by PID,
// then the namespaces are deleted (which deletes the veth pair with them).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { atCleanup } from './cleanup.js';
import type { DelayProxyOptions } from './delay-proxy.js';

const bin = fileURLToPath(new URL('../../bin/rso.js', import.meta.url));
const NS_PREFIX = 'rso-bench-';

export interface LinkSpec {
  /** One-way delay, added on each direction (RTT = 2x). */
  delayMs: number;
  /** Rate of each direction. */
  rateMbit: number;
  /** Loss on each direction (netem). */
  lossPercent?: number;
  /** Proxy only: the share of chunks held `holdMs` instead of lost (default `lossPercent`). */
  holdPercent?: number;
  /** Proxy only: how long a "lost" chunk is held (a retransmission's delay). */
  holdMs?: number;
}

export interface ImpairedLink {
  spec: LinkSpec;
  impairment: 'netem' | 'tbf+proxy';
  nsRelay: string;
  nsClients: string;
  relayIp: string;
  clientIp: string;
  /** What the delay proxy in the clients' namespace must add (all zero under netem). */
  proxyOptions(): DelayProxyOptions;
  /** Starts `argv` inside a namespace; it is killed at cleanup if still running. */
  spawnIn(ns: string, argv: string[], opts?: { stdout?: 'pipe' | 'inherit'; env?: NodeJS.ProcessEnv }): ChildProcess;
  /** A temp dir removed at teardown, after every process of the link is gone. */
  tempDir(prefix: string): string;
  /** Tears everything down (idempotent): children, processes left in the namespaces, namespaces, temp dirs. */
  destroy(): Promise<void>;
}

/** Why namespaces cannot be built here, or false. */
export function linkUnavailable(): string | false {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, tc)';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return '`ip netns` is not available';
  if (spawnSync('tc', ['-V']).status !== 0) return '`tc` is not available';
  return false;
}

function sh(args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}`, err: `${r.stderr}`.trim() };
}

function must(args: string[]): void {
  const r = sh(args);
  if (!r.ok) throw new Error(`${args.join(' ')}: ${r.err}`);
}

/** Kills (by PID) whatever still runs inside `ns`, then deletes it. Synchronous on purpose. */
function deleteNamespace(ns: string): void {
  for (let round = 0; round < 3; round++) {
    const pids = sh(['ip', 'netns', 'pids', ns]).out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    spawnSync('sleep', ['0.2']);
  }
  sh(['ip', 'netns', 'del', ns]);
}

/**
 * Namespaces of an earlier run of ours whose process is gone (killed with SIGKILL, so its
 * cleanup never ran): named `rso-bench-<pid>-...` with no such PID alive.
 */
function sweepOrphans(): void {
  for (const line of sh(['ip', 'netns', 'list']).out.split('\n')) {
    const m = new RegExp(`^(${NS_PREFIX}(\\d+)-[rc])\\b`).exec(line);
    if (m && !existsSync(`/proc/${m[2]}`)) deleteNamespace(m[1]!);
  }
}

/** Builds the two namespaces and the impaired veth between them. */
export function createImpairedLink(spec: LinkSpec): ImpairedLink {
  sweepOrphans();
  const tag = String(process.pid);
  const nsRelay = `${NS_PREFIX}${tag}-r`;
  const nsClients = `${NS_PREFIX}${tag}-c`;
  // Interface names are at most 15 characters; they live in the host namespace only until moved.
  const vR = `rsob${Number(tag) % 1e7}r`;
  const vC = `rsob${Number(tag) % 1e7}c`;
  const relayIp = '10.231.0.2';
  const clientIp = '10.231.0.1';
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  let destroyed = false;
  const teardown = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    // Children first, politely: a child that owns an X server, a tmux server and temp dirs
    // tidies them itself on SIGTERM; whatever is left after 8 s is killed with the namespaces.
    for (const c of children.reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const gone = once(c, 'exit');
      c.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 8000))]);
    }
    deleteNamespace(nsRelay);
    deleteNamespace(nsClients);
    // A veth whose namespace move failed would still sit in the host namespace.
    for (const v of [vR, vC]) if (sh(['ip', 'link', 'show', v]).ok) sh(['ip', 'link', 'del', v]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  const unregister = atCleanup(teardown);

  let impairment: ImpairedLink['impairment'] = 'netem';
  try {
    must(['ip', 'netns', 'add', nsRelay]);
    must(['ip', 'netns', 'add', nsClients]);
    must(['ip', 'link', 'add', vR, 'type', 'veth', 'peer', 'name', vC]);
    must(['ip', 'link', 'set', vR, 'netns', nsRelay]);
    must(['ip', 'link', 'set', vC, 'netns', nsClients]);
    must(['ip', '-n', nsRelay, 'addr', 'add', `${relayIp}/30`, 'dev', vR]);
    must(['ip', '-n', nsClients, 'addr', 'add', `${clientIp}/30`, 'dev', vC]);
    for (const [ns, dev] of [[nsRelay, vR], [nsClients, vC]] as const) {
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    }
    const loss = spec.lossPercent ?? 0;
    for (const [ns, dev] of [[nsRelay, vR], [nsClients, vC]] as const) {
      const netem = sh(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', `${spec.delayMs}ms`, ...(loss > 0 ? ['loss', `${loss}%`] : []), 'rate', `${spec.rateMbit}mbit`, 'limit', '1000']);
      if (!netem.ok) {
        impairment = 'tbf+proxy';
        // Burst: at least 2000 bytes, else 10 ms worth of the rate (a burst below rate/HZ
        // would cap the rate lower than asked).
        const burst = Math.max(2000, Math.round((spec.rateMbit * 1e6) / 8 / 100));
        must(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${spec.rateMbit}mbit`, 'burst', String(burst), 'latency', '400ms']);
      }
    }
  } catch (err) {
    void unregister();
    throw err;
  }

  return {
    spec,
    impairment,
    nsRelay,
    nsClients,
    relayIp,
    clientIp,
    proxyOptions: () =>
      impairment === 'netem' ? { delayMs: 0 } : { delayMs: spec.delayMs, holdPercent: spec.holdPercent ?? spec.lossPercent ?? 0, holdMs: spec.holdMs ?? 200 },
    spawnIn(ns, argv, opts = {}) {
      // `ip netns exec` execs the command, so the child's PID is the command's own.
      const c = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', opts.stdout ?? 'pipe', 'inherit'], env: opts.env ?? process.env });
      children.push(c);
      return c;
    },
    tempDir(prefix) {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    destroy: unregister,
  };
}

export interface RelayInNamespace {
  /** ws://relayIp:port (reachable from the clients' namespace). */
  url: string;
  /** Token of the engineer account "anna". */
  token: string;
}

/** The built relay (`rso relay`) in the relay's namespace, with one engineer account. */
export async function startRelayIn(link: ImpairedLink): Promise<RelayInNamespace> {
  const data = link.tempDir('rso-bench-relay-');
  const add = spawnSync(process.execPath, [bin, 'relay', 'agent', 'add', 'anna', '--name', 'Anna', '--org', 'ACME', '--data', data], { encoding: 'utf8' });
  const token = /--token (\S+)/.exec(add.stdout)?.[1];
  if (!token) throw new Error(`rso relay agent add failed: ${add.stderr}`);
  const relay = link.spawnIn(link.nsRelay, [process.execPath, bin, 'relay', '--listen', `${link.relayIp}:0`, '--data', data, '--log-format', 'json', '--join-rate', '100000']);
  const url = await firstMatch(relay, /relay listening on (ws:\/\/\S+)/);
  return { url, token };
}

/** The first capture of `re` in the child's stdout; rejects on timeout or exit. */
export function firstMatch(proc: ChildProcess, re: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; got: ${buf.slice(-500)}`)), timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code ?? signal} before ${re}; got: ${buf.slice(-500)}`));
    });
  });
}
