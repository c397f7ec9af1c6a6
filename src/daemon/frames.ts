// The frame flow machine: decides *when* the daemon reads the screen and *what* it reads, never
// touches a pixel. Pure: step(state, event) -> { state, effects }; the session boss performs
// the effects (frame-pipeline.ts does the pixel work). Diagram in docs/daemon.md.
//
// Pull flow control, latest frame wins: the screen is read only when the agent has drawn
// everything we sent (its `ready` acknowledged our last seq). Damage that arrives in between
// is merged into a few rectangles, never queued as frames, so an agent that stops reading costs
// the daemon nothing but a bounded list of rectangles, and the next frame it gets is the
// current screen, not a backlog. An idle screen produces no damage and therefore no capture.
//
// Prepare-ahead (`prepareAhead`, the daemon turns it on): while one update is in flight, the
// damage gathered so far may already be read and encoded, and that batch is held until the
// agent's ready for the one in flight arrives; it is sent then, and damage that came in
// meanwhile stays dirty for the next capture (never lost, never queued beyond one batch).
// Reading and encoding then overlap the agent's drawing and the round trip instead of following
// them. A held batch was encoded against what the agent will have, so one that must not go out
// (the choice changed, a new size, a resync) is dropped together with the encoder's idea of
// the agent's picture (`drop-held`), and the next read is full.
import { coalesce } from './capture/coalesce.js';
import type { Rect } from '../codec/framebuffer.js';
import { fitWithin } from '../codec/scale.js';

export interface Size {
  width: number;
  height: number;
}

export interface Cursor {
  x: number;
  y: number;
  visible: boolean;
}

export interface FramesState {
  /** Something is shared and not paused: the only state in which the screen may be read. */
  readonly sharing: boolean;
  /** The captured area's size; null until capture is open. */
  readonly screen: Size | null;
  /** The agent's picture size from its last `ready`; null until it said one. */
  readonly viewport: Size | null;
  /** Damage (screen coordinates) not yet read, merged. */
  readonly dirty: readonly Rect[];
  /** Read and compare the whole screen on the next capture (first frame, new size, new region, resume). */
  readonly full: boolean;
  /** Last seq sent; 0 before the first update. */
  readonly sentSeq: number;
  /** Last seq the agent said it has drawn. */
  readonly ackedSeq: number;
  /** A capture effect is being performed; its `captured` event has not come back yet. */
  readonly busy: boolean;
  /**
   * Bumped whenever what may be shown changes (share on/off, pause, another choice). A capture
   * started under an older generation must be thrown away, not sent: its pixels were read
   * under a choice the customer has since changed.
   */
  readonly generation: number;
  /** Cursor in output coordinates, as last sent, and the newest one not yet sent. */
  readonly cursorSent: Cursor | null;
  readonly cursorPending: Cursor | null;
  /**
   * A resync happened while a capture was in flight: its updates may have been dropped with the
   * old channel, so its seq counts as acknowledged when it comes back.
   */
  readonly resyncPending?: boolean;
  /** Read and encode the next update while one is in flight (see the top of this file). */
  readonly prepareAhead?: boolean;
  /** An encoded batch waiting for the agent's ready for the update in flight. */
  readonly held?: { readonly generation: number; readonly lastSeq: number } | null;
}

export type FramesEvent =
  /** Capture opened (or its area changed): the size of what is read. */
  | { type: 'screen'; width: number; height: number }
  /** The policy now allows showing something (true) or nothing / paused (false). */
  | { type: 'share'; on: boolean }
  /** What is shown changed without turning sharing off (screen <-> apps, other apps, window layout). */
  | { type: 'region-changed' }
  | { type: 'damage'; rects: readonly Rect[] }
  | { type: 'ready'; width: number; height: number; seq: number }
  /**
   * The capture effect finished: `lastSeq` is the last update sent, or null when nothing was
   * sent; with `held` (a capture effect with `hold`), it was encoded and is held, not sent.
   */
  | { type: 'captured'; generation: number; lastSeq: number | null; held?: boolean }
  /**
   * The session resumed over a new channel (docs/resume.md): updates sent since the agent's
   * last `ready` may be lost, so nothing is awaited any more and the next read is full.
   */
  | { type: 'resync' }
  /** Pointer position in screen coordinates; `visible` false when outside what is shared. */
  | { type: 'cursor'; x: number; y: number; visible: boolean };

export type FramesEffect =
  /**
   * Read `rects` (or the whole screen when `full`), mask, scale to `out`, diff against what the
   * agent has, encode and send as updates numbered from `seq`; then feed `captured`.
   */
  | { type: 'capture'; generation: number; seq: number; full: boolean; rects: Rect[]; out: Size; hold: boolean }
  /** Send the held batch (its last seq is `lastSeq`). */
  | { type: 'send-held'; lastSeq: number }
  /** Throw the held batch away and forget what the encoder thinks the agent has. */
  | { type: 'drop-held' }
  | { type: 'send-cursor'; cursor: Cursor };

export interface FramesStep {
  state: FramesState;
  effects: FramesEffect[];
}

export class FramesError extends Error {
  override readonly name = 'FramesError';
}

export const INITIAL_FRAMES: FramesState = Object.freeze({
  sharing: false,
  screen: null,
  viewport: null,
  dirty: Object.freeze([]) as readonly Rect[],
  full: true,
  sentSeq: 0,
  ackedSeq: 0,
  busy: false,
  generation: 0,
  cursorSent: null,
  cursorPending: null,
});

/** The size updates are encoded at: the agent's viewport with the screen's aspect kept, never upscaled. */
export function outputSize(s: Pick<FramesState, 'screen' | 'viewport'>): Size | null {
  if (!s.screen || !s.viewport) return null;
  return fitWithin(s.screen.width, s.screen.height, s.viewport.width, s.viewport.height);
}

function sameSize(a: Size | null, b: Size | null): boolean {
  return a !== null && b !== null && a.width === b.width && a.height === b.height;
}

/** The agent has drawn everything we sent and nothing is being prepared. */
function caughtUp(s: FramesState): boolean {
  return !s.busy && s.ackedSeq >= s.sentSeq;
}

/** A held batch that may no longer go out is dropped (with the encoder's model of the agent). */
function dropHeld(s: FramesState, effects: FramesEffect[]): FramesState {
  if (!s.held) return s;
  effects.push({ type: 'drop-held' });
  return { ...s, held: null, full: true, dirty: [] };
}

export function step(state: FramesState, event: FramesEvent): FramesStep {
  let s: FramesState = state;
  const pre: FramesEffect[] = [];
  switch (event.type) {
    case 'screen': {
      const screen = { width: event.width, height: event.height };
      if (!(screen.width >= 1 && screen.height >= 1)) throw new FramesError(`screen size ${screen.width}x${screen.height}`);
      if (!sameSize(s.screen, screen)) s = { ...dropHeld(s, pre), screen, full: true, dirty: [], cursorSent: null };
      break;
    }
    case 'share':
      if (event.on === s.sharing) return { state: s, effects: [] };
      // Turning on starts from a full read: nothing read while off may be trusted, and the
      // agent may hold a picture of a different choice. Turning off drops pending damage.
      s = { ...dropHeld(s, pre), sharing: event.on, generation: s.generation + 1, full: true, dirty: [], cursorPending: null, cursorSent: event.on ? s.cursorSent : null };
      break;
    case 'region-changed':
      s = { ...dropHeld(s, pre), generation: s.generation + 1, full: true, dirty: [] };
      break;
    case 'damage':
      // Damage while nothing is shared is not even remembered: sharing starts with a full read.
      if (!s.sharing || s.full) return { state: s, effects: [] };
      s = { ...s, dirty: coalesce([...s.dirty, ...event.rects]) };
      break;
    case 'ready': {
      // An agent that claims to have drawn an update we never sent is not following the protocol.
      if (event.seq > s.sentSeq) throw new FramesError(`ready for seq ${event.seq}, last sent ${s.sentSeq}`);
      const viewport = { width: event.width, height: event.height };
      const resized = !sameSize(s.viewport, viewport);
      s = { ...s, viewport, ackedSeq: Math.max(s.ackedSeq, event.seq) };
      // A new size means a new picture for the agent: everything is read and sent again.
      if (resized) s = { ...dropHeld(s, pre), full: true, dirty: [], cursorSent: null };
      break;
    }
    case 'resync':
      s = { ...dropHeld(s, pre), generation: s.generation + 1, ackedSeq: s.sentSeq, full: true, dirty: [], cursorSent: null, resyncPending: s.busy };
      break;
    case 'captured':
      if (!s.busy) throw new FramesError('captured without a capture in progress');
      if (event.lastSeq !== null && event.lastSeq <= s.sentSeq) throw new FramesError(`captured seq ${event.lastSeq} after ${s.sentSeq}`);
      if (event.held === true && event.lastSeq !== null) {
        s = { ...s, busy: false, held: { generation: event.generation, lastSeq: event.lastSeq } };
        // Encoded under a choice that has changed since, or against a channel that was
        // replaced: it must not go out, and the encoder's model of the agent includes it.
        if (event.generation !== s.generation) s = dropHeld(s, pre);
      } else if (event.lastSeq !== null) {
        s = { ...s, busy: false, sentSeq: event.lastSeq, ackedSeq: s.resyncPending ? event.lastSeq : s.ackedSeq };
      } else {
        s = { ...s, busy: false };
      }
      s = { ...s, resyncPending: false };
      break;
    case 'cursor': {
      const out = outputSize(s);
      if (!s.sharing || !out || !s.screen) return { state: s, effects: [] };
      // Sent in the agent's picture coordinates, so it needs no knowledge of the real screen.
      const c: Cursor = {
        x: Math.min(out.width - 1, Math.max(0, Math.floor((event.x * out.width) / s.screen.width))),
        y: Math.min(out.height - 1, Math.max(0, Math.floor((event.y * out.height) / s.screen.height))),
        visible: event.visible && event.x >= 0 && event.y >= 0 && event.x < s.screen.width && event.y < s.screen.height,
      };
      const last = s.cursorSent;
      const hidden = !c.visible && (last === null || !last.visible);
      if (last !== null && (hidden || (c.visible === last.visible && c.x === last.x && c.y === last.y))) {
        s = { ...s, cursorPending: null };
      } else {
        s = { ...s, cursorPending: c };
      }
      break;
    }
  }
  const out = advance(s);
  return pre.length > 0 ? { state: out.state, effects: [...pre, ...out.effects] } : out;
}

/** After any event: send what is held, start a capture or send the cursor if the agent is waiting for us. */
function advance(s: FramesState): FramesStep {
  const effects: FramesEffect[] = [];
  const out = outputSize(s);
  if (!s.sharing || !out) return { state: s, effects };
  const caught = caughtUp(s);
  if (s.held && caught) {
    // Held batches are dropped whenever the generation changes; one that survived is current.
    if (s.held.generation !== s.generation) throw new FramesError(`held batch of generation ${s.held.generation} under ${s.generation}`);
    effects.push({ type: 'send-held', lastSeq: s.held.lastSeq });
    s = { ...s, sentSeq: s.held.lastSeq, held: null };
  }
  // Without prepare-ahead a capture waits for the agent; with it, one batch may be prepared
  // while one is in flight, never more (nothing is held and nothing is being read).
  const mayCapture = caught || (s.prepareAhead === true && !s.busy && !s.held);
  if (!mayCapture) return { state: s, effects };
  if (s.full || s.dirty.length > 0) {
    const hold = s.ackedSeq < s.sentSeq;
    effects.push({ type: 'capture', generation: s.generation, seq: s.sentSeq + 1, full: s.full, rects: s.full ? [] : s.dirty.map((r) => ({ ...r })), out, hold });
    s = { ...s, busy: true, full: false, dirty: [] };
  }
  if (!caught) return { state: s, effects };
  // The cursor rides on the same pull: an agent that stopped reading gets nothing, not even that.
  if (s.cursorPending !== null) {
    effects.push({ type: 'send-cursor', cursor: s.cursorPending });
    s = { ...s, cursorSent: s.cursorPending, cursorPending: null };
  }
  return { state: s, effects };
}
