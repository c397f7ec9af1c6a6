// The customer's panel as a pure reducer: what the person sees and which key does what. The
// blessed panel (panel.ts) only renders this state and forwards keys; the session boss
// (../session.ts) performs the effects and feeds back what happened. Permissions are not kept
// here: the policy (../policy/policy.ts) is passed in as a prop and only displayed.
import type { Policy } from '../policy/policy.js';
import type { RequestKind } from '../../protocol/app.js';

/** Who is connecting, as the relay vouched for them (or did not). */
export interface PeerView {
  verified: boolean;
  name?: string;
  org?: string;
  relayName: string;
}

export interface AppChoice {
  /** Stable key: `pid:1234` or `class:firefox`. */
  key: string;
  /** `XTerm — user@host: ~` */
  label: string;
}

/** One monitor of the customer's display, as offered in the monitor choice. */
export interface MonitorChoice {
  /** Index for the capture backend (`--monitor N`). */
  index: number;
  /** `1920x1080 at 0,0` */
  label: string;
  primary: boolean;
}

/** A choice suggested on the command line (`--share`); the customer still confirms it. */
export type Suggestion = { kind: 'screen' } | { kind: 'apps'; names: readonly string[] } | null;

export type Phase =
  | { name: 'connecting'; joining: boolean }
  /** Opener: the number to read out and when it expires (ms since epoch). */
  | { name: 'waiting'; number: string; expiresAt: number }
  | { name: 'consent'; peer: PeerView; code: string }
  /** Accepted; nothing shared yet. */
  | { name: 'choose' }
  | { name: 'loading-apps' }
  | { name: 'picker'; apps: readonly AppChoice[]; selected: readonly string[]; cursor: number }
  /** `s` pressed: the display's monitors are being listed (geometry only, no pixel). */
  | { name: 'loading-monitors' }
  /** Sharing the screen on a display with several monitors: which one (cursor past the last = all). */
  | { name: 'monitor'; cursor: number }
  | { name: 'sharing' }
  | { name: 'ended'; message: string };

export interface UiState {
  phase: Phase;
  /** Where Esc in the picker goes back to. */
  pickerReturn: 'choose' | 'sharing';
  /**
   * The display's monitors when there are several and none was fixed with --monitor (empty
   * when there is no choice); null until the first `s` asked. The display is not touched
   * before the customer chose to share the screen.
   */
  monitors: readonly MonitorChoice[] | null;
  suggestion: Suggestion;
  policy: Policy;
  peer: PeerView | null;
  /** Labels of what is shared (apps), for the status panel. */
  sharedLabels: readonly string[];
  /** An engineer's request waiting for the customer's answer (default: no). */
  prompt: RequestKind | null;
  /** Recent lines for the customer (chat from the engineer, refused requests). */
  notices: readonly string[];
  /** The relay connection dropped and the session is resuming (docs/resume.md). */
  reconnecting: boolean;
  now: number;
}

export type UiAction =
  | { type: 'key'; key: string }
  | { type: 'tick'; now: number }
  | { type: 'opened'; number: string; expiresAt: number }
  | { type: 'paired'; peer: PeerView; code: string }
  /** `suggested`: keys of the listed apps that match the command line's suggestion. */
  | { type: 'apps-listed'; apps: readonly AppChoice[]; suggested: readonly string[] }
  /** The display's monitors, listed after the customer pressed `s` the first time. */
  | { type: 'monitors-listed'; monitors: readonly MonitorChoice[] }
  | { type: 'policy'; policy: Policy; sharedLabels: readonly string[] }
  | { type: 'request'; what: RequestKind }
  | { type: 'notice'; text: string }
  /** The relay connection dropped (`up: false`) or the session resumed (`up: true`). */
  | { type: 'link'; up: boolean }
  | { type: 'ended'; message: string };

export type UiEffect =
  | { type: 'accept' }
  | { type: 'decline' }
  | { type: 'list-apps' }
  | { type: 'list-monitors' }
  /** `monitor`: the index chosen on a display with several monitors; absent: all of them. */
  | { type: 'share-screen'; monitor?: number }
  | { type: 'share-apps'; keys: string[] }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'answer'; request: RequestKind; granted: boolean }
  /** The customer pressed y at the control prompt: the boss arms F12, grants, then answers. */
  | { type: 'grant-control' }
  /** `c` while control is on. */
  | { type: 'revoke-control' }
  | { type: 'quit' };

export interface UiStep {
  state: UiState;
  effects: UiEffect[];
}

export class UiError extends Error {
  override readonly name = 'UiError';
}

const MAX_NOTICES = 5;

export function initialUi(opts: { joining: boolean; suggestion: Suggestion; policy: Policy; now: number }): UiState {
  return {
    phase: { name: 'connecting', joining: opts.joining },
    pickerReturn: 'choose',
    monitors: null,
    suggestion: opts.suggestion,
    policy: opts.policy,
    peer: null,
    sharedLabels: [],
    prompt: null,
    notices: [],
    reconnecting: false,
    now: opts.now,
  };
}

const QUIT_KEYS = new Set(['q', 'C-c']);

export function step(state: UiState, action: UiAction): UiStep {
  switch (action.type) {
    case 'tick':
      return { state: { ...state, now: action.now }, effects: [] };
    case 'opened':
      if (state.phase.name !== 'connecting') throw new UiError(`opened in ${state.phase.name}`);
      return { state: { ...state, phase: { name: 'waiting', number: action.number, expiresAt: action.expiresAt } }, effects: [] };
    case 'paired':
      if (state.phase.name !== 'connecting' && state.phase.name !== 'waiting') throw new UiError(`paired in ${state.phase.name}`);
      return { state: { ...state, peer: action.peer, phase: { name: 'consent', peer: action.peer, code: action.code } }, effects: [] };
    case 'apps-listed': {
      if (state.phase.name !== 'loading-apps') return { state, effects: [] };
      // A suggestion from the command line pre-selects; only apps that exist now can be selected.
      const selected = state.pickerReturn === 'sharing' && state.policy.view.kind === 'apps' ? [...state.policy.view.apps] : [...action.suggested];
      return { state: { ...state, phase: { name: 'picker', apps: action.apps, selected: selected.filter((k) => action.apps.some((a) => a.key === k)), cursor: 0 } }, effects: [] };
    }
    case 'monitors-listed': {
      // One monitor is no choice: the screen is shared at once.
      const listed = { ...state, monitors: action.monitors.length > 1 ? [...action.monitors] : [] };
      if (state.phase.name !== 'loading-monitors') return { state: listed, effects: [] };
      return shareScreen({ ...listed, phase: state.pickerReturn === 'sharing' ? { name: 'sharing' } : { name: 'choose' } }, state.pickerReturn);
    }
    case 'policy': {
      const phase: Phase = action.policy.view.kind !== 'none' && (state.phase.name === 'choose' || state.phase.name === 'picker' || state.phase.name === 'loading-apps' || state.phase.name === 'loading-monitors' || state.phase.name === 'monitor') ? { name: 'sharing' } : state.phase;
      return { state: { ...state, policy: action.policy, sharedLabels: action.sharedLabels, phase }, effects: [] };
    }
    case 'request':
      // A request before the customer accepted the engineer is not shown: consent comes first.
      if (!isAccepted(state.phase)) return { state, effects: [{ type: 'answer', request: action.what, granted: false }] };
      if (state.prompt !== null) return { state, effects: [{ type: 'answer', request: action.what, granted: false }] };
      if (action.what === 'control') {
        // Already on: nothing to ask. Nothing shared: control without a picture is blind
        // clicking, so the customer is told and the request refused.
        if (state.policy.control) return { state, effects: [{ type: 'answer', request: 'control', granted: true }] };
        if (state.policy.view.kind === 'none' || phase(state) !== 'sharing') {
          return { state: notice(state, 'The engineer asked to control your computer while nothing is shared: refused.'), effects: [{ type: 'answer', request: 'control', granted: false }] };
        }
      }
      return { state: { ...state, prompt: action.what }, effects: [] };
    case 'notice':
      return { state: notice(state, action.text), effects: [] };
    case 'link':
      return { state: { ...state, reconnecting: !action.up }, effects: [] };
    case 'ended':
      return { state: { ...state, prompt: null, reconnecting: false, phase: { name: 'ended', message: action.message } }, effects: [] };
    case 'key':
      return onKey(state, action.key);
  }
}

function phase(state: UiState): Phase['name'] {
  return state.phase.name;
}

function isAccepted(p: Phase): boolean {
  return p.name === 'choose' || p.name === 'loading-apps' || p.name === 'picker' || p.name === 'loading-monitors' || p.name === 'monitor' || p.name === 'sharing';
}

/**
 * `s`: share the screen, or first ask which monitor when there are several. The cursor starts
 * on the primary monitor: the smallest useful share is the usual answer.
 */
function shareScreen(state: UiState, from: 'choose' | 'sharing', effects: UiEffect[] = []): UiStep {
  if (state.monitors === null) return { state: { ...state, pickerReturn: from, phase: { name: 'loading-monitors' } }, effects: [...effects, { type: 'list-monitors' }] };
  if (state.monitors.length === 0) return { state, effects: [...effects, { type: 'share-screen' }] };
  const primary = state.monitors.findIndex((m) => m.primary);
  return { state: { ...state, pickerReturn: from, phase: { name: 'monitor', cursor: Math.max(0, primary) } }, effects };
}

function notice(state: UiState, text: string): UiState {
  return { ...state, notices: [...state.notices, text].slice(-MAX_NOTICES) };
}

function onKey(state: UiState, key: string): UiStep {
  const phase = state.phase;
  if (phase.name === 'ended') return { state, effects: [] };
  // Ending is always one key away, whatever is on screen (Ctrl-C, and q outside the picker's typing).
  if (QUIT_KEYS.has(key)) return { state, effects: [{ type: 'quit' }] };

  if (state.prompt === 'control' && isAccepted(phase)) {
    // Only an explicit y grants control; n, Enter and Esc refuse; anything else is ignored so
    // that a stray key neither grants nor silently refuses.
    if (key === 'y') return { state: { ...state, prompt: null }, effects: [{ type: 'grant-control' }] };
    if (key === 'n' || key === 'enter' || key === 'escape') return { state: { ...state, prompt: null }, effects: [{ type: 'answer', request: 'control', granted: false }] };
    return { state, effects: [] };
  }

  if (state.prompt !== null && isAccepted(phase)) {
    const what = state.prompt;
    // The default is No: only an explicit choice shares anything.
    if (key === 's') return shareScreen({ ...state, prompt: null }, phase.name === 'sharing' ? 'sharing' : 'choose', [{ type: 'answer', request: what, granted: true }]);
    if (key === 'a') return { state: { ...state, prompt: null, pickerReturn: phase.name === 'sharing' ? 'sharing' : 'choose', phase: { name: 'loading-apps' } }, effects: [{ type: 'answer', request: what, granted: true }, { type: 'list-apps' }] };
    if (key === 'enter' || key === 'escape' || key === 'n') return { state: { ...state, prompt: null }, effects: [{ type: 'answer', request: what, granted: false }] };
    return { state, effects: [] };
  }

  switch (phase.name) {
    case 'connecting':
    case 'waiting':
      if (key === 'escape') return { state, effects: [{ type: 'quit' }] };
      return { state, effects: [] };
    case 'consent':
      if (key === 'enter') {
        // With an application suggestion, go straight to the pre-filled picker: one Enter confirms it.
        if (state.suggestion?.kind === 'apps') return { state: { ...state, pickerReturn: 'choose', phase: { name: 'loading-apps' } }, effects: [{ type: 'accept' }, { type: 'list-apps' }] };
        return { state: { ...state, phase: { name: 'choose' } }, effects: [{ type: 'accept' }] };
      }
      if (key === 'escape') return { state, effects: [{ type: 'decline' }] };
      return { state, effects: [] };
    case 'choose':
      if (key === 's') return shareScreen(state, 'choose');
      if (key === 'a') return { state: { ...state, pickerReturn: 'choose', phase: { name: 'loading-apps' } }, effects: [{ type: 'list-apps' }] };
      if (key === 'enter' && state.suggestion?.kind === 'screen') return shareScreen(state, 'choose');
      return { state, effects: [] };
    case 'monitor':
      return onMonitorKey(state, phase, key);
    case 'loading-apps':
    case 'loading-monitors':
      if (key === 'escape') return { state: { ...state, phase: state.pickerReturn === 'sharing' ? { name: 'sharing' } : { name: 'choose' } }, effects: [] };
      return { state, effects: [] };
    case 'picker':
      return onPickerKey(state, phase, key);
    case 'sharing':
      if (key === 's') return shareScreen(state, 'sharing');
      if (key === 'a') return { state: { ...state, pickerReturn: 'sharing', phase: { name: 'loading-apps' } }, effects: [{ type: 'list-apps' }] };
      if (key === 'p') return { state, effects: [{ type: state.policy.paused ? 'resume' : 'pause' }] };
      if (key === 'c' && state.policy.control) return { state, effects: [{ type: 'revoke-control' }] };
      return { state, effects: [] };
  }
}

function onPickerKey(state: UiState, phase: Extract<Phase, { name: 'picker' }>, key: string): UiStep {
  const n = phase.apps.length;
  switch (key) {
    case 'up':
    case 'k':
      return { state: { ...state, phase: { ...phase, cursor: n === 0 ? 0 : (phase.cursor + n - 1) % n } }, effects: [] };
    case 'down':
    case 'j':
      return { state: { ...state, phase: { ...phase, cursor: n === 0 ? 0 : (phase.cursor + 1) % n } }, effects: [] };
    case 'space': {
      const app = phase.apps[phase.cursor];
      if (!app) return { state, effects: [] };
      const selected = phase.selected.includes(app.key) ? phase.selected.filter((k) => k !== app.key) : [...phase.selected, app.key];
      return { state: { ...state, phase: { ...phase, selected } }, effects: [] };
    }
    case 'enter':
      if (phase.selected.length === 0) return { state: notice(state, 'Select at least one application with Space, or press Esc.'), effects: [] };
      return { state, effects: [{ type: 'share-apps', keys: [...phase.selected] }] };
    case 'escape':
      return { state: { ...state, phase: state.pickerReturn === 'sharing' ? { name: 'sharing' } : { name: 'choose' } }, effects: [] };
    default:
      return { state, effects: [] };
  }
}

function onMonitorKey(state: UiState, phase: Extract<Phase, { name: 'monitor' }>, key: string): UiStep {
  const monitors = state.monitors ?? [];
  // Entries: each monitor, then "all monitors".
  const n = monitors.length + 1;
  const pick = (cursor: number): UiStep => {
    const m = monitors[cursor];
    return { state, effects: [m ? { type: 'share-screen', monitor: m.index } : { type: 'share-screen' }] };
  };
  if (/^[1-9]$/.test(key) && Number(key) <= monitors.length) return pick(Number(key) - 1);
  switch (key) {
    case 'up':
    case 'k':
      return { state: { ...state, phase: { ...phase, cursor: (phase.cursor + n - 1) % n } }, effects: [] };
    case 'down':
    case 'j':
      return { state: { ...state, phase: { ...phase, cursor: (phase.cursor + 1) % n } }, effects: [] };
    case 'enter':
      return pick(phase.cursor);
    case 'escape':
      return { state: { ...state, phase: state.pickerReturn === 'sharing' ? { name: 'sharing' } : { name: 'choose' } }, effects: [] };
    default:
      return { state, effects: [] };
  }
}
