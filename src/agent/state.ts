// The viewer's state machine: a pure `step(state, event) -> { state, effects }` over everything
// that happens to `rso connect` (pairing progress, the customer's messages, drawn frames, keys,
// terminal layout, clock ticks). The Ink components only render `ViewerState`; the viewer
// (viewer.ts) performs the effects. Nothing here touches a socket, a terminal or a clock: time
// comes in with the events, so every transition is a table test.
//
//   connecting --opened--> waiting --paired--> connected --end effect--> ending --ended--> ended
//   connecting -----------------paired-------^        (any) --ended--> ended
//
// Statistics (fps, bandwidth, latency) are kept as short windows of timestamps so a quiet
// screen shows 0 fps instead of the last busy second's figure.
import { RsoError } from '../errors.js';
import type { AgentMessage, CustomerMessage, InputEvent, RequestKind, ViewState } from '../protocol/app.js';
import type { GraphicsKind } from './graphics/renderer.js';

export type Phase = 'connecting' | 'waiting' | 'connected' | 'ending' | 'ended';
export type Mode = 'open' | 'join';

export interface Notice {
  level: 'info' | 'warn' | 'error';
  text: string;
}

export interface CustomerInfo {
  host: string;
  os: string;
  screen: { width: number; height: number };
}

export interface Stats {
  /** Frames drawn in the last second. */
  fps: number;
  /** Application bytes received in the last second. */
  bytesPerSecond: number;
  /**
   * Smallest ready->frame round trip among the recent ones, in ms. The smallest, because a
   * `ready` on an idle screen waits until something changes: only the quickest answers measure
   * the path (network + daemon + relay); undefined until a frame has answered a ready.
   */
  latencyMs: number | undefined;
}

export interface ViewerState {
  mode: Mode;
  phase: Phase;
  now: number;
  /** Formatted `482 913 705` (open mode, until paired): shown large, never logged. */
  number: string | undefined;
  expiresAt: number | undefined;
  /** Wrong numbers the opener may still see before the number is burnt. */
  attemptsLeft: number | undefined;
  verificationCode: string | undefined;
  customer: CustomerInfo | undefined;
  view: ViewState;
  control: boolean;
  /**
   * The engineer stepped back (Ctrl-] c while in control): the customer's grant stands, but
   * keys and mouse stay in the viewer until c again.
   */
  handsOff: boolean;
  /** Ctrl-] was pressed: the next key is a viewer command (shown in the footer). */
  prefix: boolean;
  /** When control was last lost (revoked or session paused), ms; see keysNeedPrefix. */
  controlLostAt: number | undefined;
  paused: boolean;
  pendingRequest: RequestKind | undefined;
  graphics: { kind: GraphicsKind; reason: string } | undefined;
  /** Pixel size of the picture area, as asked of the daemon in `ready`. */
  picture: { width: number; height: number } | undefined;
  /** Last frame update drawn (acknowledged in `ready`). */
  lastSeq: number;
  /** Whether a `ready` for the current layout went out since pairing. */
  readySent: boolean;
  notice: Notice | undefined;
  /** The relay connection dropped and the session is resuming (between `resuming` and `resumed`). */
  resuming: boolean;
  /** When the wait on screen (waitKind) began, ms: the spinner shows from 300 ms after it. */
  waitSince: number;
  stats: Stats;
  // Windows behind the stats (timestamps in ms).
  frameTimes: readonly number[];
  byteLog: readonly { t: number; n: number }[];
  latencies: readonly number[];
  readyAt: number | undefined;
}

export type ViewerKey = 'view' | 'quit' | 'interrupt' | 'control';

export type ViewerEvent =
  | { type: 'opened'; number: string; ttlSeconds: number; now: number }
  | { type: 'failed-attempt'; attemptsLeft: number; now: number }
  | { type: 'paired'; verificationCode: string; now: number }
  | { type: 'graphics'; kind: GraphicsKind; reason: string }
  /** The picture area changed size (start, terminal resize, cell size learnt). */
  | { type: 'layout'; width: number; height: number; now: number }
  | { type: 'message'; msg: CustomerMessage; bytes: number; now: number }
  /** A frame update was received and drawn. */
  | { type: 'frame'; seq: number; bytes: number; now: number }
  | { type: 'key'; key: ViewerKey; now: number }
  /** The escape prefix was pressed or used up. */
  | { type: 'prefix'; on: boolean }
  /** Input for the customer, from the terminal (already in customer screen coordinates). */
  | { type: 'input'; events: InputEvent[] }
  | { type: 'tick'; now: number }
  /** The session is over (the viewer saw it close, or gave up). */
  | { type: 'ended'; error?: RsoError; now: number }
  /** The relay connection dropped; the session is trying to resume (docs/resume.md). */
  | { type: 'resuming'; now: number }
  /** Resumed under fresh keys, with a new verification code. */
  | { type: 'resumed'; verificationCode: string; outageMs: number; now: number };

export type ViewerEffect =
  | { type: 'send'; msg: AgentMessage }
  /** Close the session and leave; `error` sets the exit status, `message` is said on the way out. */
  | { type: 'end'; error?: RsoError; message?: string };

export interface StepResult {
  state: ViewerState;
  effects: ViewerEffect[];
}

const WINDOW_MS = 1000;
const LATENCY_SAMPLES = 10;

export function initialState(mode: Mode, now: number): ViewerState {
  return {
    mode,
    phase: 'connecting',
    now,
    number: undefined,
    expiresAt: undefined,
    attemptsLeft: undefined,
    verificationCode: undefined,
    customer: undefined,
    view: { kind: 'none' },
    control: false,
    handsOff: false,
    prefix: false,
    controlLostAt: undefined,
    paused: false,
    pendingRequest: undefined,
    graphics: undefined,
    picture: undefined,
    lastSeq: 0,
    readySent: false,
    notice: undefined,
    resuming: false,
    waitSince: now,
    stats: { fps: 0, bytesPerSecond: 0, latencyMs: undefined },
    frameTimes: [],
    byteLog: [],
    latencies: [],
    readyAt: undefined,
  };
}

/** What the engineer is waiting for, or null: pairing, the customer's answer, or the relay again. */
export type WaitKind = 'connecting' | 'waiting' | 'resuming' | 'view-answer' | 'control-answer';

export function waitKind(s: ViewerState): WaitKind | null {
  if (s.phase === 'connecting' || s.phase === 'waiting') return s.phase;
  if (s.phase !== 'connected') return null;
  if (s.resuming) return 'resuming';
  if (s.pendingRequest === 'view') return 'view-answer';
  if (s.pendingRequest === 'control') return 'control-answer';
  return null;
}

/** Seconds until an unpaired number expires, or undefined when there is none. */
export function secondsLeft(s: ViewerState): number | undefined {
  if (s.expiresAt === undefined) return undefined;
  return Math.max(0, Math.ceil((s.expiresAt - s.now) / 1000));
}

/**
 * True when the engineer's keys and mouse go to the customer: control granted (as the
 * customer's last state says), something shared and not paused, and the engineer has not
 * stepped back. The daemon checks again; this only keeps the viewer from sending in vain.
 */
export function isForwarding(s: ViewerState): boolean {
  return s.phase === 'connected' && s.control && !s.handsOff && !s.paused && s.view.kind !== 'none';
}

/** How long after losing control plain keys are still taken as typing meant for the customer. */
export const CONTROL_GRACE_MS = 3000;

/** What the customer's side says when it ends the session for a reason other than its customer. */
const BYE_TEXT: Record<string, string> = {
  'display lost': "The customer's display went away (its X server stopped); the session has ended.",
  error: "The customer's rso stopped after an error; the session has ended.",
};

/**
 * True when keys are not going to the customer but the engineer may still be typing for them:
 * control is granted but paused, or was lost moments ago. Only Ctrl-] commands count then.
 */
export function keysNeedPrefix(s: ViewerState, now: number): boolean {
  if (isForwarding(s)) return false;
  if (s.control && !s.handsOff) return true;
  return s.controlLostAt !== undefined && now - s.controlLostAt < CONTROL_GRACE_MS;
}

/** Events per `input` message (the protocol's limit). */
export const MAX_INPUT_BATCH = 64;

/** True when the customer shows something (screen or apps) and has not paused. */
export function isShared(s: ViewerState): boolean {
  return s.phase === 'connected' && s.view.kind !== 'none';
}

function impossible(s: ViewerState, e: ViewerEvent): never {
  // A bug in the viewer's wiring, not something the peer can cause: message events are only
  // produced after pairing, and the session cannot pair twice.
  throw new RsoError('RSO_ERR_INTERNAL', undefined, `viewer: ${e.type} in phase ${s.phase}`);
}

function withStats(s: ViewerState, now: number): ViewerState {
  const since = now - WINDOW_MS;
  const frameTimes = s.frameTimes.filter((t) => t > since);
  const byteLog = s.byteLog.filter((b) => b.t > since);
  const latencyMs = s.latencies.length > 0 ? Math.min(...s.latencies) : undefined;
  return {
    ...s,
    now,
    frameTimes,
    byteLog,
    stats: { fps: frameTimes.length, bytesPerSecond: byteLog.reduce((a, b) => a + b.n, 0), latencyMs },
  };
}

function ready(s: ViewerState, now: number): StepResult {
  if (s.picture === undefined) return { state: s, effects: [] };
  return {
    state: { ...s, readySent: true, readyAt: now },
    effects: [{ type: 'send', msg: { type: 'ready', width: s.picture.width, height: s.picture.height, seq: s.lastSeq } }],
  };
}

function end(s: ViewerState, effect: Extract<ViewerEffect, { type: 'end' }>, notice?: Notice): StepResult {
  return { state: { ...s, phase: 'ending', notice: notice ?? s.notice }, effects: [effect] };
}

function describeView(v: ViewState): string {
  switch (v.kind) {
    case 'none':
      return 'nothing';
    case 'screen':
      return 'the whole screen';
    case 'apps':
      return v.apps.length === 1 ? `the application ${v.apps[0]}` : `${v.apps.length} applications`;
  }
}

function onMessage(s: ViewerState, msg: CustomerMessage): StepResult {
  switch (msg.type) {
    case 'info':
      return { state: { ...s, customer: { host: msg.host, os: msg.os, screen: msg.screen } }, effects: [] };
    case 'state': {
      const before = s.view.kind;
      const next: ViewerState = { ...s, view: msg.view, control: msg.control, paused: msg.paused };
      if (msg.view.kind !== 'none' && s.pendingRequest === 'view') next.pendingRequest = undefined;
      if (msg.control !== s.control) {
        // Each grant starts with the engineer's hands on; a revoke says who did it.
        next.handsOff = false;
        if (msg.control && s.pendingRequest === 'control') next.pendingRequest = undefined;
      }
      if (isForwarding(s) && !isForwarding(next)) next.controlLostAt = s.now;
      if (s.control && !msg.control) next.notice = { level: 'warn', text: 'Control revoked by customer. You are in view-only mode again.' };
      else if (before !== 'none' && msg.view.kind === 'none') next.notice = { level: 'info', text: 'The customer stopped sharing.' };
      else if (msg.view.kind !== 'none' && (before === 'none' || before !== msg.view.kind)) {
        next.notice = { level: 'info', text: `The customer shares ${describeView(msg.view)}.` };
      }
      return { state: next, effects: [] };
    }
    case 'answer': {
      const pending = s.pendingRequest === msg.request ? undefined : s.pendingRequest;
      const next: ViewerState = { ...s, pendingRequest: pending };
      if (msg.granted) {
        next.notice = {
          level: 'info',
          text: msg.request === 'view' ? 'The customer agreed to show their screen.' : 'The customer gave you control. Ctrl-] then q/v/c reaches the viewer; the customer can take control back with F12.',
        };
        return { state: next, effects: [] };
      }
      if (msg.request === 'view') {
        // The rule: a declined request to view ends the call's screen session with a
        // clear sentence and a non-zero exit; the engineer can start again when the customer is ready.
        const error = new RsoError('RSO_ERR_DECLINED', 'The customer declined to show their screen.', 'answer view granted=false');
        return end(next, { type: 'end', error }, { level: 'error', text: error.message });
      }
      next.notice = { level: 'warn', text: 'The customer declined to give you control.' };
      return { state: next, effects: [] };
    }
    case 'cursor':
      return { state: s, effects: [] };
    case 'chat':
      return { state: { ...s, notice: { level: 'info', text: `Customer: ${msg.text.replace(/\n/g, ' ')}` } }, effects: [] };
    case 'bye': {
      if (msg.reason === 'declined') {
        const error = new RsoError('RSO_ERR_DECLINED', 'The customer declined the session.', 'bye declined');
        return end(s, { type: 'end', error }, { level: 'error', text: error.message });
      }
      // Known reasons get a sentence of their own; any other text from the peer is not shown.
      // (hasOwn: the reason is the peer's text, and "constructor" is not a reason of ours.)
      const known = Object.hasOwn(BYE_TEXT, msg.reason) ? BYE_TEXT[msg.reason] : undefined;
      const text = known ?? 'The customer ended the session.';
      return end(s, { type: 'end', message: text }, { level: known ? 'warn' : 'info', text });
    }
  }
}

export function step(s0: ViewerState, e: ViewerEvent): StepResult {
  const out = transition(s0, e);
  // A new kind of wait restarts the spinner's clock (at the event's time, which withStats put in `now`).
  if (out.state !== s0 && waitKind(out.state) !== waitKind(s0)) return { state: { ...out.state, waitSince: out.state.now }, effects: out.effects };
  return out;
}

function transition(s0: ViewerState, e: ViewerEvent): StepResult {
  // After the end nothing can change what the person sees or what is sent.
  if (s0.phase === 'ended') return { state: s0, effects: [] };
  const s = 'now' in e ? withStats(s0, e.now) : s0;
  switch (e.type) {
    case 'opened':
      if (s.mode !== 'open' || s.phase !== 'connecting') impossible(s, e);
      return { state: { ...s, phase: 'waiting', number: e.number, expiresAt: e.now + e.ttlSeconds * 1000 }, effects: [] };

    case 'failed-attempt':
      if (s.phase !== 'waiting') impossible(s, e);
      return {
        state: {
          ...s,
          attemptsLeft: e.attemptsLeft,
          notice: {
            level: 'warn',
            text: `Someone joined with a wrong number; ${e.attemptsLeft} attempt${e.attemptsLeft === 1 ? '' : 's'} left. Read the number again slowly.`,
          },
        },
        effects: [],
      };

    case 'paired': {
      if (s.phase !== 'waiting' && s.phase !== 'connecting') impossible(s, e);
      if (s.mode === 'open' && s.phase !== 'waiting') impossible(s, e);
      const next: ViewerState = {
        ...s,
        phase: 'connected',
        verificationCode: e.verificationCode,
        // The number is single-use and now spent: stop showing it.
        number: undefined,
        expiresAt: undefined,
        attemptsLeft: undefined,
        notice: { level: 'info', text: 'Connected. Waiting for the customer to share their screen.' },
      };
      return ready(next, e.now);
    }

    case 'graphics':
      return { state: { ...s, graphics: { kind: e.kind, reason: e.reason } }, effects: [] };

    case 'layout': {
      if (e.width < 1 || e.height < 1) impossible(s, e);
      const same = s.picture?.width === e.width && s.picture?.height === e.height;
      const next: ViewerState = { ...s, picture: { width: e.width, height: e.height } };
      // The daemon scales to the size in `ready`; a new size must reach it even while a frame
      // is still owed, or the next frames would not fit.
      if (s.phase === 'connected' && (!same || !s.readySent)) return ready(next, e.now);
      return { state: next, effects: [] };
    }

    case 'message':
      if (s.phase !== 'connected' && s.phase !== 'ending') impossible(s, e);
      {
        const out = onMessage(withStats({ ...s, byteLog: [...s.byteLog, { t: e.now, n: e.bytes }] }, e.now), e.msg);
        // While ending, a late message may still update what is shown, but the end is already under way.
        return s.phase === 'ending' ? { state: { ...out.state, phase: 'ending' }, effects: [] } : out;
      }

    case 'frame': {
      if (s.phase !== 'connected' && s.phase !== 'ending') impossible(s, e);
      const latencies = s.readyAt === undefined ? s.latencies : [...s.latencies, e.now - s.readyAt].slice(-LATENCY_SAMPLES);
      const next = withStats(
        {
          ...s,
          lastSeq: e.seq,
          frameTimes: [...s.frameTimes, e.now],
          byteLog: [...s.byteLog, { t: e.now, n: e.bytes }],
          latencies,
          readyAt: undefined,
        },
        e.now,
      );
      if (s.phase === 'ending') return { state: next, effects: [] };
      return ready(next, e.now);
    }

    case 'key':
      switch (e.key) {
        case 'quit':
        case 'interrupt':
          if (s.phase === 'ending') return { state: s, effects: [] };
          return end(s, { type: 'end', message: 'You ended the session.' }, { level: 'info', text: 'Ending the session…' });
        case 'view':
          if (s.phase !== 'connected') {
            return { state: { ...s, notice: { level: 'warn', text: 'Not connected yet: wait for the customer to join.' } }, effects: [] };
          }
          if (s.view.kind !== 'none') return { state: { ...s, notice: { level: 'info', text: 'You can already see what the customer shares.' } }, effects: [] };
          if (s.pendingRequest === 'view') return { state: { ...s, notice: { level: 'info', text: 'Still waiting for the customer to answer.' } }, effects: [] };
          return {
            state: { ...s, pendingRequest: 'view', notice: { level: 'info', text: 'Asked the customer to show their screen…' } },
            effects: [{ type: 'send', msg: { type: 'request', what: 'view' } }],
          };
        case 'control':
          if (s.phase !== 'connected') {
            return { state: { ...s, notice: { level: 'warn', text: 'Not connected yet: wait for the customer to join.' } }, effects: [] };
          }
          if (s.control) {
            // The grant is the customer's to take back; the engineer can only step back locally.
            const handsOff = !s.handsOff;
            const text = handsOff ? 'You let go: your keys stay in the viewer. Press c to take control again.' : 'Your keys and mouse go to the customer again.';
            return { state: { ...s, handsOff, notice: { level: 'info', text } }, effects: [] };
          }
          if (s.view.kind === 'none') {
            return { state: { ...s, notice: { level: 'warn', text: 'The customer shares nothing yet: ask to view first (v).' } }, effects: [] };
          }
          if (s.pendingRequest !== undefined) return { state: { ...s, notice: { level: 'info', text: 'Still waiting for the customer to answer.' } }, effects: [] };
          return {
            state: { ...s, pendingRequest: 'control', notice: { level: 'info', text: 'Asked the customer for control of their mouse and keyboard…' } },
            effects: [{ type: 'send', msg: { type: 'request', what: 'control' } }],
          };
      }
      break;

    case 'prefix':
      return { state: { ...s, prefix: e.on }, effects: [] };

    case 'input': {
      // Without control nothing leaves the viewer: the customer's daemon would drop it anyway.
      if (!isForwarding(s) || e.events.length === 0) return { state: s, effects: [] };
      const effects: ViewerEffect[] = [];
      for (let i = 0; i < e.events.length; i += MAX_INPUT_BATCH) effects.push({ type: 'send', msg: { type: 'input', events: e.events.slice(i, i + MAX_INPUT_BATCH) } });
      return { state: s, effects };
    }

    case 'tick': {
      const left = secondsLeft(s);
      if (s.phase === 'waiting' && left === 0) {
        const error = new RsoError('RSO_ERR_EXPIRED', 'The session number expired before the customer joined; run rso connect again for a new one.', 'number expired unpaired');
        return end(s, { type: 'end', error }, { level: 'error', text: error.message });
      }
      return { state: s, effects: [] };
    }

    case 'resuming':
      if (s.phase !== 'connected') impossible(s, e);
      // The customer's daemon turns control off on its side; this side stops sending at once.
      return {
        state: { ...s, resuming: true, control: false, handsOff: false, controlLostAt: s.control ? e.now : s.controlLostAt, pendingRequest: undefined, notice: { level: 'warn', text: 'Connection to the relay lost — reconnecting…' } },
        effects: [],
      };

    case 'resumed': {
      if (s.phase !== 'connected') impossible(s, e);
      const seconds = (e.outageMs / 1000).toFixed(1);
      const next: ViewerState = {
        ...s,
        resuming: false,
        verificationCode: e.verificationCode,
        notice: { level: 'info', text: `Resumed after ${seconds} s without the relay. Control is off; ask again with c.` },
      };
      // The daemon sends a full picture after a resume; this ready tells it our size again.
      return ready(next, e.now);
    }

    case 'ended':
      return {
        state: { ...s, phase: 'ended', resuming: false, notice: e.error !== undefined ? { level: 'error', text: e.error.message } : s.notice },
        effects: [],
      };
  }
}
