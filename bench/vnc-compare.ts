// rso against VNC on the same screen, the same actions, at the same time: Xvfb 1920x1080 with
// real windows, Debian's x11vnc serving it, and for every action (typing, scrolling a terminal,
// dragging a window in 20 px steps, a full-screen change, idle) three observers measure what
// it costs to bring a viewer up to date:
//   - rso: the daemon's own path (DAMAGE -> readShared -> FrameEncoder), run the way the
//     daemon runs it for an agent that is always ready (an update goes as soon as damage
//     arrives; damage arriving meanwhile is merged into the next), 1:1 scale;
//   - x11vnc ZRLE (+CopyRect) and x11vnc Tight (+CopyRect), each read by a small RFB 3.8
//     client (bench/lib/rfb.ts) in its own process that keeps one incremental request
//     outstanding, as viewers do.
// Per action: bytes and updates until the screen is quiet again, and the latency from the
// moment the action's xdotool was started to the first update (from its start, not its exit:
// rso reads the first damage at once and often has the update before xdotool has exited) (rso: encoded, ready to encrypt and
// send; VNC: its last byte read by the client over loopback). rso's bytes are what goes on
// the wire per update (record + WebSocket framing included); VNC's are the RFB messages.
// Prints figures; passes or fails nothing.   npx tsx bench/vnc-compare.ts
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { emit, fig, median, quantile, type Row } from './lib/report.js';
import { ENC_COPYRECT, ENC_TIGHT, ENC_ZRLE, startRfbClient } from './lib/rfb.js';

const W = 1920;
const H = 1080;
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

if (process.argv[2] === '--rfb') {
  // Child: one RFB client; prints one line per update (and READY once paired).
  const port = Number(process.argv[3]);
  const encodings = process.argv[4]!.split(',').map(Number);
  startRfbClient({
    port,
    encodings,
    onReady: (s) => process.stdout.write(`READY ${s.width} ${s.height}\n`),
    onUpdate: (u) => process.stdout.write(`U ${u.at} ${u.bytes} ${u.rects} ${JSON.stringify(u.encodings)}\n`),
    onError: (e) => {
      process.stderr.write(`rfb client: ${e.message}\n`);
      process.exit(1);
    },
  });
} else {
  await main();
}

interface Sample {
  at: number;
  bytes: number;
  encodings?: Record<string, number>;
}

interface Observer {
  name: string;
  samples: Sample[];
}

async function main(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v x11vnc']).status !== 0) {
    console.log('x11vnc is not installed (apt-get install x11vnc; scripts/setup.sh installs it): nothing to compare');
    emit('vnc-compare', [{ scenario: 'x11vnc comparison', ours: null, unit: '', note: 'x11vnc not installed' }]);
    return;
  }
  const { spawnWindow, startX, xrun } = await import('../test/helpers/x11.js');
  const { openX11Capture } = await import('../src/daemon/capture/x11.js');
  const { coalesce } = await import('../src/daemon/capture/coalesce.js');
  const { readShared } = await import('../src/daemon/shared-capture.js');
  const { FrameEncoder } = await import('../src/daemon/frame-encoder.js');

  const x = await startX({ width: W, height: H });
  const children: ChildProcess[] = [];
  try {
    const term = await spawnWindow('xterm', ['-bg', '#202840', '-fg', '#e0e0e0', '-geometry', '120x40+40+40', '-e', 'sh', '-c', 'ls -la /usr/share | head -60; exec sh'], x.env);
    // About 900x570 with the frame, like the reference figure's window.
    const other = await spawnWindow('xterm', ['-class', 'Other', '-bg', '#f0f0e0', '-fg', '#101010', '-geometry', '148x42+900+400', '-e', 'sh', '-c', 'env; ls -l /usr/bin | head -40; sleep 600'], x.env);
    await spawnWindow('xlogo', ['-geometry', '400x300+1400+80'], x.env, { className: 'xlogo' });
    await spawnWindow('xclock', ['-geometry', '200x200+1600+800', '-update', '3600'], x.env, { className: 'xclock' });
    // A full-screen window of text, mapped and unmapped for the "full change" scenario.
    const big = await spawnWindow('xterm', ['-class', 'Big', '-bg', '#ffffff', '-fg', '#000000', '-geometry', '320x83+0+0', '-e', 'sh', '-c', 'ls -lR /usr/share/doc | head -90; sleep 600'], x.env);
    xrun(x.env, 'xdotool', ['windowunmap', '--sync', String(big.wid)]);
    await sleep(300);

    // x11vnc as shipped, loopback only, no password (the bench is the only client).
    const port = await freePort();
    const vnc = spawn('x11vnc', ['-display', x.display, '-rfbport', String(port), '-localhost', '-nopw', '-forever', '-shared', '-norc', '-quiet'], { env: x.env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(vnc);
    let vncErr = '';
    vnc.stderr!.on('data', (d: Buffer) => (vncErr += d.toString()));
    await waitPort(port, 15_000).catch((e: Error) => {
      throw new Error(`${e.message}; x11vnc said: ${vncErr.slice(-500)}`);
    });
    const version = spawnSync('x11vnc', ['-version'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? 'x11vnc';

    const observers: Observer[] = [];
    const clients: Array<[string, number[]]> = [
      ['x11vnc ZRLE', [ENC_ZRLE, ENC_COPYRECT]],
      ['x11vnc Tight', [ENC_TIGHT, ENC_COPYRECT]],
    ];
    for (const [name, encs] of clients) {
      const obs: Observer = { name, samples: [] };
      observers.push(obs);
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--rfb', String(port), encs.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.on('exit', (code) => reject(new Error(`${name} client exited with ${code}`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line.startsWith('READY')) resolve();
          const m = /^U (\S+) (\d+) (\d+) (.*)$/.exec(line);
          if (m) obs.samples.push({ at: Number(m[1]), bytes: Number(m[2]), encodings: JSON.parse(m[4]!) as Record<string, number> });
        });
      });
    }

    // rso: the daemon's loop for an agent that is always ready.
    const rso: Observer = { name: 'rso', samples: [] };
    observers.unshift(rso);
    const cap = await openX11Capture({ display: x.display });
    const encoder = new FrameEncoder({ width: W, height: H });
    const out = { width: W, height: H };
    let seq = 1;
    let dirty: Array<{ x: number; y: number; w: number; h: number }> = [];
    let busy = false;
    const screen = { kind: 'screen' } as const;
    async function pump(): Promise<void> {
      if (busy || dirty.length === 0) return;
      busy = true;
      const rects = dirty;
      dirty = [];
      const read = await readShared(cap, rects, screen, null);
      const batch = await encoder.encode(read.grabs, out, rects, seq);
      if (batch) {
        seq = batch.lastSeq + 1;
        rso.samples.push({ at: now(), bytes: batch.updates.reduce((n, u) => n + wireBytes(u.length), 0), encodings: batch.kinds });
      }
      busy = false;
      if (dirty.length > 0) setImmediate(() => void pump());
    }
    cap.onDamage((rects) => {
      dirty = coalesce([...dirty, ...rects]);
      void pump();
    });
    const first = await readShared(cap, 'full', screen, null);
    await encoder.encode(first.grabs, out, 'full', seq++);

    /** Runs an X tool; resolves, once it exited, with the time it was started. */
    const act = (args: string[]): Promise<number> =>
      new Promise((resolve, reject) => {
        const started = now();
        const p = spawn('xdotool', args, { env: x.env, stdio: 'ignore' });
        p.on('exit', (code) => (code === 0 ? resolve(started) : reject(new Error(`xdotool ${args.join(' ')} exited with ${code}`))));
      });
    /** Waits until no observer has received anything for `quietMs` (at least `minMs` after t0). */
    async function quiet(t0: number, minMs = 250, quietMs = 200, maxMs = 3000): Promise<void> {
      for (;;) {
        await sleep(20);
        const t = now();
        const last = Math.max(t0, ...observers.map((o) => o.samples.at(-1)?.at ?? 0));
        if ((t - t0 >= minMs && t - last >= quietMs) || t - t0 >= maxMs) return;
      }
    }

    interface Step {
      bytes: number;
      updates: number;
      latency: number | null;
    }
    const results = new Map<string, Map<string, Step[]>>();
    /** Runs `n` steps of an action; a label used again adds to its steps. */
    async function scenario(label: string, n: number, action: (i: number) => Promise<number>): Promise<void> {
      const per = results.get(label) ?? new Map<string, Step[]>(observers.map((o) => [o.name, []]));
      results.set(label, per);
      for (let i = 0; i < n; i++) {
        const marks = observers.map((o) => o.samples.length);
        const t0 = await action(i);
        await quiet(t0);
        observers.forEach((o, k) => {
          const got = o.samples.slice(marks[k]);
          if (process.env.BENCH_DEBUG) console.log(label, i, o.name, got.map((s) => `${(s.at - t0).toFixed(1)}ms ${s.bytes}B ${JSON.stringify(s.encodings)}`).join(' | '));
          const firstAfter = got.find((s) => s.at >= t0);
          per.get(o.name)!.push({ bytes: got.reduce((s, u) => s + u.bytes, 0), updates: got.length, latency: firstAfter ? firstAfter.at - t0 : null });
        });
      }
    }

    await quiet(now(), 1000, 500, 5000);
    const wid = String(term.wid);
    await act(['windowactivate', '--sync', wid]);
    await quiet(now(), 300);
    await scenario('typing, one character', 20, () => act(['type', '--window', wid, 'x']));
    await act(['key', '--window', wid, 'ctrl+u']);
    await quiet(now());
    await scenario('scrolling a terminal, one line', 15, () => act(['key', '--window', wid, 'Return']));
    await scenario('scrolling a terminal, a page of output', 5, async (i) => {
      // The command is typed outside the measurement; its output (different each time) is measured.
      const t = await act(['type', '--window', wid, `ls -l /usr/bin | head -${60 + i * 7} | tail -40`]);
      await quiet(t);
      return act(['key', '--window', wid, 'Return']);
    });
    await scenario('dragging a 900x570 window, 20 px per step', 15, (i) => act(['windowmove', String(other.wid), String(900 - (i + 1) * 20), '400']));
    // A full-screen change both ways, as two scenarios: the same median over both would mix a
    // screen of text with a busy desktop.
    for (let i = 0; i < 3; i++) {
      await scenario('full-screen change, a terminal appears', 1, () => act(['windowmap', String(big.wid)]));
      await scenario('full-screen change, the desktop comes back', 1, () => act(['windowunmap', String(big.wid)]));
    }
    await scenario('idle, 3 s', 1, async () => {
      const t0 = now();
      await sleep(3000);
      return t0;
    });

    // The table.
    console.log(`\nrso vs ${version}, Xvfb ${W}x${H}x24, loopback, same actions observed at once; medians over the steps`);
    const names = observers.map((o) => o.name);
    console.log(`${'scenario'.padEnd(48)}${names.map((n) => `${n} B/step`.padStart(20)).join('')}${names.map((n) => `${n} ms`.padStart(18)).join('')}`);
    const rows: Row[] = [];
    for (const [label, per] of results) {
      const bytes = names.map((n) => median(per.get(n)!.map((s) => s.bytes)));
      const lat = names.map((n) => {
        const ls = per.get(n)!.map((s) => s.latency).filter((v): v is number => v !== null);
        return ls.length ? median(ls) : null;
      });
      const upd = names.map((n) => median(per.get(n)!.map((s) => s.updates)));
      console.log(`${label.padEnd(48)}${bytes.map((b, i) => `${fig(b)} (${upd[i]}u)`.padStart(20)).join('')}${lat.map((l) => fig(l).padStart(18)).join('')}`);
      const vncBest = Math.min(bytes[1]!, bytes[2]!);
      const isIdle = label.startsWith('idle');
      const small = label.startsWith('dragging') || label.includes('one line');
      rows.push({
        scenario: `${label}: bytes per step`,
        ours: bytes[0]!,
        unit: 'B',
        baseline: vncBest,
        baselineName: bytes[1]! <= bytes[2]! ? 'x11vnc ZRLE' : 'x11vnc Tight',
        aim: isIdle ? '0' : small ? '< 1/4 of VNC' : '< VNC',
        met: isIdle ? bytes[0] === 0 : small ? bytes[0]! < vncBest / 4 : bytes[0]! < vncBest,
      });
      if (!isIdle) {
        const vncLat = [lat[1], lat[2]].filter((v): v is number => v !== null);
        rows.push({ scenario: `${label}: first update after the action`, ours: lat[0] ?? null, unit: 'ms', baseline: vncLat.length ? Math.min(...vncLat) : null, baselineName: 'x11vnc, best' });
      }
    }
    const typing = results.get('typing, one character')!;
    const tl = typing.get('rso')!.map((s) => s.latency).filter((v): v is number => v !== null);
    console.log(`\nrso typing latency (action -> update encoded) p50 ${fig(median(tl))} ms, p95 ${fig(quantile(tl, 0.95))} ms, max ${fig(Math.max(...tl))} ms`);
    for (const o of observers.slice(1)) {
      const seen: Record<string, number> = {};
      for (const s of o.samples) for (const [k, v] of Object.entries(s.encodings ?? {})) seen[k] = (seen[k] ?? 0) + v;
      console.log(`${o.name}: rectangles by encoding over the run ${JSON.stringify(seen)} (1 = CopyRect, 7 = Tight, 16 = ZRLE)`);
    }
    const seenRso: Record<string, number> = {};
    for (const s of rso.samples) for (const [k, v] of Object.entries(s.encodings ?? {})) seenRso[k] = (seenRso[k] ?? 0) + v;
    console.log(`rso: tiles by encoding over the run ${JSON.stringify(seenRso)}`);
    await cap.close();
    await encoder.close();
    emit('vnc-compare', rows);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await x.stop();
  }
}

// Per record: frame kind (1) + content type (1) + Poly1305 tag (16) + app kind (1), then the
// WebSocket header of the message the agent receives (2, 4 or 10 bytes).
function wireBytes(update: number): number {
  const payload = update + 19;
  return payload + (payload < 126 ? 2 : payload < 65536 ? 4 : 10);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitPort(port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`x11vnc did not listen on ${port}`);
    await sleep(100);
  }
}
