// The brute-force attack on session numbers, shared by the test (small counts) and the script
// (the full 100,000). An attacker who does not know a session number tries to join sessions
// waiting on the relay: every attempt is a new WebSocket from one of its loopback addresses,
// a hello as an agent (the relay runs --open, so the attacker needs no account: the strongest
// case), a join on a random 3-digit nameplate and, when the relay pairs it, a real CPace
// exchange with a guessed secret. Meanwhile honest customers and agents pair from another
// address. Only loopback is ever targeted.
import { WebSocket } from 'ws';
import { openSession, joinSession, type SecureSession } from '../src/client/session.js';
import type { SessionNumber } from '../src/crypto/code.js';
import { startHandshake, stepHandshake, type HandshakeState } from '../src/crypto/handshake.js';
import { RsoError } from '../src/errors.js';

export interface AttackOptions {
  url: string;
  attempts: number;
  /** Loopback source addresses the attacker uses, round-robin (127.0.0.2 ...). */
  addresses: string[];
  /** Attempts in flight at once. */
  concurrency: number;
}

export interface AttackResult {
  attempts: number;
  seconds: number;
  /** Answer to each join, by error code, plus `paired` (the relay paired us: a nameplate hit). */
  outcomes: Record<string, number>;
  /** Joins the relay let through (anything but RSO_ERR_THROTTLED). */
  accepted: number;
  refused: number;
  /** Handshakes in which our guessed secret confirmed: must be 0. */
  keyed: number;
  /** Connections that failed before an answer (socket errors, timeouts). */
  errors: number;
}

/** Loopback addresses 127.0.0.first .. 127.0.0.(first+n-1). */
export function loopbackAddresses(first: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.0.${first + i}`);
}

function randomDigits(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(Math.floor(Math.random() * 10));
  return s;
}

function base64urlDecode(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

/** One attempt: connect, hello, join a random nameplate; on `paired`, guess the secret. */
function attempt(url: string, localAddress: string): Promise<{ outcome: string; keyed: boolean }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress });
    let outcome = 'no-answer';
    let keyed = false;
    let hs: HandshakeState | null = null;
    const timer = setTimeout(() => ws.terminate(), 15_000);
    const done = (): void => {
      clearTimeout(timer);
      resolve({ outcome, keyed });
    };
    ws.on('error', () => {
      if (outcome === 'no-answer') outcome = 'socket-error';
    });
    ws.on('close', done);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', v: 1, role: 'agent' })));
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        if (!hs) return;
        try {
          const out = stepHandshake(hs, new Uint8Array(data));
          hs = out.state;
          for (const f of out.send) ws.send(f);
          if (out.done) {
            keyed = true;
            ws.close();
          }
        } catch (err) {
          // The expected end of a guess: our confirmation does not match (or theirs does not).
          if (!(err instanceof RsoError)) outcome = 'attacker-bug';
          hs = null;
          // A real attacker would not tell the relay; an honest client would. Either way the
          // opener counts the failure itself.
          ws.close();
        }
        return;
      }
      const msg = JSON.parse(data.toString()) as { type: string; code?: string; sid?: string };
      if (msg.type === 'welcome') {
        nameplate = String(Math.floor(Math.random() * 1000)).padStart(3, '0');
        ws.send(JSON.stringify({ type: 'join', nameplate }));
      } else if (msg.type === 'error') {
        if (outcome === 'no-answer') outcome = msg.code ?? 'error';
        ws.close();
      } else if (msg.type === 'paired') {
        outcome = 'paired';
        const started = startHandshake({ role: 'agent', secret: randomDigits(6), nameplate, sid: base64urlDecode(msg.sid!) });
        hs = started.state;
        for (const f of started.send) ws.send(f);
      }
    });
    let nameplate = '';
  });
}

export async function attack(opts: AttackOptions): Promise<AttackResult> {
  const outcomes: Record<string, number> = {};
  let keyed = 0;
  let next = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= opts.attempts) return;
      const r = await attempt(opts.url, opts.addresses[i % opts.addresses.length]!);
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      if (r.keyed) keyed++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  const refused = outcomes.RSO_ERR_THROTTLED ?? 0;
  const errors = (outcomes['socket-error'] ?? 0) + (outcomes['no-answer'] ?? 0) + (outcomes['attacker-bug'] ?? 0);
  return { attempts: opts.attempts, seconds, outcomes, accepted: opts.attempts - refused - errors, refused, keyed, errors };
}

/** A customer waiting on the relay, as `rso share` waits: counts failed attempts on its number. */
export interface Victim {
  number: SessionNumber;
  failedAttempts: number;
  /** Set if the session was ever established (by anyone: nobody else knows the number). */
  established: SecureSession | null;
  /** How the wait ended, if it did (RSO_ERR_BURNT after three wrong guesses). */
  endedWith: string | null;
  stop(): void;
}

export async function waitingVictim(url: string): Promise<Victim> {
  const abort = new AbortController();
  let resolveNumber!: (n: SessionNumber) => void;
  const known = new Promise<SessionNumber>((r) => (resolveNumber = r));
  const v: Victim = {
    number: { nameplate: '', secret: '' },
    failedAttempts: 0,
    established: null,
    endedWith: null,
    stop: () => abort.abort(new RsoError('RSO_ERR_USAGE', undefined, 'victim stopped')),
  };
  openSession({
    relay: url,
    role: 'customer',
    signal: abort.signal,
    onOpened: (n) => resolveNumber(n),
    onFailedAttempt: () => {
      v.failedAttempts++;
    },
  }).then(
    (s) => {
      v.established = s;
    },
    (err: unknown) => {
      v.endedWith = err instanceof RsoError ? err.code : String(err);
    },
  );
  v.number = await known;
  return v;
}

/**
 * One honest pairing (customer opens, agent joins with the number), in ms; closes both.
 * If the attacker's random join lands on this very nameplate first, the agent is told
 * RSO_ERR_CROWDED ("someone else already joined") and, like a person would, tries again once the
 * attacker's guess has failed; `retries` counts that.
 */
export async function honestPairing(url: string): Promise<{ ms: number; retries: number }> {
  const t0 = performance.now();
  let resolveNumber!: (n: SessionNumber) => void;
  const known = new Promise<SessionNumber>((r) => (resolveNumber = r));
  const customerP = openSession({ relay: url, role: 'customer', onOpened: (n) => resolveNumber(n) });
  const number = await known;
  let retries = 0;
  for (;;) {
    try {
      const [agent, customer] = await Promise.all([joinSession({ relay: url, role: 'agent', number }), customerP]);
      const ms = performance.now() - t0;
      await Promise.all([agent.close(), customer.close()]);
      return { ms, retries };
    } catch (err) {
      if (!(err instanceof RsoError && err.code === 'RSO_ERR_CROWDED') || retries >= 3) {
        void customerP.then((c) => c.close()).catch(() => undefined);
        throw err;
      }
      retries++;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** Honest pairings one after another every `everyMs` until `stop()`; their times in ms, failures, and joins retried after RSO_ERR_CROWDED. */
export function honestLoop(url: string, everyMs: number): { stop: () => Promise<{ times: number[]; failures: string[]; retries: number }> } {
  const times: number[] = [];
  let retries = 0;
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = Date.now();
      try {
        const r = await honestPairing(url);
        times.push(r.ms);
        retries += r.retries;
      } catch (err) {
        failures.push(err instanceof RsoError ? err.code : String(err));
      }
      const wait = everyMs - (Date.now() - t0);
      if (wait > 0 && running) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { times, failures, retries };
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
