// The customer's policy: what is shared and whether the agent may control. Pure: the daemon
// feeds it actions (from the customer's keys, the F12 hook, the session) and asks decide()
// about every input event before anything is injected. Nothing else in the daemon keeps
// permissions, so there is exactly one place to read to know what the agent may do.
import type { InputEvent } from '../../protocol/app.js';
import { RESERVED_KEY } from '../../protocol/keys.js';
import { INPUT_RATE, costOf, take, type Bucket, type RateLimit } from './rate.js';

/** `monitor`: the one monitor shared on a display with several (absent: the whole display or --monitor's). */
export type View = { kind: 'none' } | { kind: 'screen'; monitor?: number } | { kind: 'apps'; apps: readonly string[] };

export interface Policy {
  readonly view: View;
  readonly control: boolean;
  readonly paused: boolean;
}

/** View only, nothing shared: how every session, reconnect and new agent starts. */
export const INITIAL_POLICY: Policy = Object.freeze({ view: Object.freeze({ kind: 'none' }), control: false, paused: false });

export type PolicyAction =
  | { type: 'share-screen'; monitor?: number }
  | { type: 'share-apps'; apps: readonly string[] }
  | { type: 'stop-sharing' }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Only ever from the customer's explicit yes in the panel. */
  | { type: 'grant-control' }
  /** F12, `c` in the panel, or the daemon itself: always allowed, always wins. */
  | { type: 'revoke-control' }
  /** Disconnect, reconnect or a new agent. */
  | { type: 'reset' };

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

export function step(policy: Policy, action: PolicyAction): Policy {
  switch (action.type) {
    case 'share-screen':
      return { ...policy, view: action.monitor === undefined ? { kind: 'screen' } : { kind: 'screen', monitor: action.monitor } };
    case 'share-apps':
      if (action.apps.length === 0) throw new PolicyError('share-apps needs at least one application');
      return { ...policy, view: { kind: 'apps', apps: [...action.apps] } };
    case 'stop-sharing':
      // Control without a picture would be blind clicking on the customer's machine.
      return { ...policy, view: { kind: 'none' }, control: false };
    case 'pause':
      return { ...policy, paused: true };
    case 'resume':
      return { ...policy, paused: false };
    case 'grant-control':
      if (policy.view.kind === 'none') throw new PolicyError('control cannot be granted while nothing is shared');
      return { ...policy, control: true };
    case 'revoke-control':
      return { ...policy, control: false };
    case 'reset':
      return INITIAL_POLICY;
  }
}

export type Denial = 'view-only' | 'paused' | 'not-shared' | 'reserved-key' | 'protected-window' | 'outside-shared-area' | 'rate-limited';
export type Decision = { allow: true } | { allow: false; reason: Denial };

export interface DecideContext {
  /** Is the point (screen coordinates) inside what the customer shares? Only asked for pointer events. */
  pointInShared(x: number, y: number): boolean;
  /** Does the window with keyboard focus belong to what is shared? Only asked for key and text events. */
  focusShared(): boolean;
  /**
   * Is the point (screen coordinates) over the visible part of the window hosting the
   * customer's own rso panel? Asked for pointer events in every view mode.
   */
  pointInProtected(x: number, y: number): boolean;
  /** Does the panel's window (or a child of it) have keyboard focus? Asked for key and text events. */
  focusProtected(): boolean;
}

/** Keys the agent can never send: F12 is the customer's way out and must stay theirs. */
const RESERVED_KEYS = new Set([RESERVED_KEY]);

export function decide(policy: Policy, event: InputEvent, ctx: DecideContext): Decision {
  if (!policy.control) return { allow: false, reason: 'view-only' };
  if (policy.view.kind === 'none') return { allow: false, reason: 'not-shared' };
  if (policy.paused) return { allow: false, reason: 'paused' };
  if (event.t === 'key' && RESERVED_KEYS.has(event.key)) return { allow: false, reason: 'reserved-key' };
  // The panel is the customer's control over the session (y, c, q): whatever is shared, the
  // engineer may neither type into it nor click it, or they could grant themselves anything.
  if (event.t === 'key' || event.t === 'text') {
    if (ctx.focusProtected()) return { allow: false, reason: 'protected-window' };
  } else if (ctx.pointInProtected(event.x, event.y)) {
    return { allow: false, reason: 'protected-window' };
  }
  if (policy.view.kind === 'apps') {
    // The agent may act only on what it can see: a click outside the shared applications, or
    // typing into an application that is not shared, is dropped.
    if (event.t === 'key' || event.t === 'text') {
      if (!ctx.focusShared()) return { allow: false, reason: 'outside-shared-area' };
    } else if (!ctx.pointInShared(event.x, event.y)) {
      return { allow: false, reason: 'outside-shared-area' };
    }
  }
  return { allow: true };
}

/**
 * The gate every input event passes: the policy first, then the rate limit (a denied event
 * costs nothing). What is denied is dropped by the caller and counted, never queued.
 */
export function admit(
  policy: Policy,
  bucket: Bucket,
  event: InputEvent,
  ctx: DecideContext,
  now: number,
  limit: RateLimit = INPUT_RATE,
): { decision: Decision; bucket: Bucket } {
  const decision = decide(policy, event, ctx);
  if (!decision.allow) return { decision, bucket };
  const r = take(bucket, limit, now, costOf(event));
  return r.allow ? { decision, bucket: r.bucket } : { decision: { allow: false, reason: 'rate-limited' }, bucket: r.bucket };
}
