// Who gets a key: the viewer or the customer. Pure `route(state, input) -> { state, commands,
// events }`.
//
//   not forwarding (view only) : keys are viewer commands (v, c, q, Ctrl-C); the mouse and
//                                pastes are ignored (a pasted "quit" is not a q)
//   forwarding (control on)    : everything goes to the customer as input events, except the
//                                escape prefix Ctrl-] followed by a command key:
//                                  q end · v ask to view · c stop/ask control · ] send Ctrl-] itself
//                                anything else after Ctrl-] cancels the prefix and is not sent.
//                                A paste goes as text, its line ends as Return.
//
// Keys the terminal reports with press and release (kitty protocol) travel as such; legacy keys
// (no release reported) become a press and a release at once. A release is only sent for a key
// this router sent a press for, so a key pressed before control began never arrives half.
import type { InputEvent, Modifier } from '../../protocol/app.js';
import type { TermInput } from './parse.js';
import { toRemote, type PictureGeometry } from './pointer.js';

export type ViewerCommand = 'view' | 'quit' | 'interrupt' | 'control';

export interface RouteState {
  /** Ctrl-] was pressed: the next key is a viewer command. */
  prefix: boolean;
  /** Keys pressed (kitty press) and not yet released, as sent. */
  held: readonly string[];
  /** Last pointer position sent (customer screen coordinates). */
  lastAt: { x: number; y: number } | null;
}

export const INITIAL_ROUTE: RouteState = Object.freeze({ prefix: false, held: Object.freeze([]) as readonly string[], lastAt: null });

export interface RouteContext {
  /** Control is on and the engineer has not stepped back: input goes to the customer. */
  forwarding: boolean;
  /** Where the picture is; undefined while nothing is drawn (mouse input is then dropped). */
  geometry: PictureGeometry | undefined;
  /** Mouse reports are in pixels (mode 1016). */
  pixels: boolean;
  /**
   * Not forwarding, but the engineer may still be typing for the customer (control was just
   * revoked, or the customer paused): plain keys are swallowed, only Ctrl-] commands count, so
   * a `q` typed for the customer does not end the session.
   */
  prefixOnly?: boolean;
}

export interface RouteResult {
  state: RouteState;
  commands: ViewerCommand[];
  events: InputEvent[];
}

/** Largest text event the protocol takes. */
const MAX_TEXT = 256;

const COMMAND_KEYS: Record<string, ViewerCommand> = { q: 'quit', v: 'view', c: 'control' };

function isPrefix(t: TermInput): boolean {
  return t.kind === 'key' && t.key === 'bracketright' && t.mods.length === 1 && t.mods[0] === 'control' && t.action !== 'release';
}

/** The command a key stands for when keys are the viewer's (view only, or after the prefix). */
function commandOf(t: TermInput): ViewerCommand | undefined {
  if (t.kind === 'text') {
    const c = t.text.length === 1 ? t.text.toLowerCase() : '';
    return COMMAND_KEYS[c];
  }
  if (t.kind === 'key' && t.action !== 'release') {
    if (t.key === 'c' && t.mods.length === 1 && t.mods[0] === 'control') return 'interrupt';
    if (t.mods.length === 0 || (t.mods.length === 1 && t.mods[0] === 'shift')) return COMMAND_KEYS[t.key];
  }
  return undefined;
}

function result(state: RouteState, commands: ViewerCommand[] = [], events: InputEvent[] = []): RouteResult {
  return { state, commands, events };
}

function keyEvents(key: string, mods: Modifier[]): InputEvent[] {
  return [
    { t: 'key', key, down: true, mods },
    { t: 'key', key, down: false, mods },
  ];
}

/** Text as events of at most MAX_TEXT characters. */
function textEvents(text: string): InputEvent[] {
  const events: InputEvent[] = [];
  const chars = [...text];
  for (let i = 0; i < chars.length; i += MAX_TEXT) events.push({ t: 'text', text: chars.slice(i, i + MAX_TEXT).join('') });
  return events;
}

/**
 * A paste as the customer's side would have it typed: line ends (CR LF, CR or LF) as Return,
 * tabs as Tab, other control characters dropped (a paste never carries shortcuts).
 */
function pasteEvents(text: string): InputEvent[] {
  const events: InputEvent[] = [];
  for (const part of text.split(/(\r\n|\r|\n|\t)/)) {
    if (part === '\t') events.push(...keyEvents('Tab', []));
    else if (part === '\r\n' || part === '\r' || part === '\n') events.push(...keyEvents('Return', []));
    else events.push(...textEvents(part.replace(/[\x00-\x1f\x7f]/g, '')));
  }
  return events;
}

export function route(s: RouteState, input: TermInput, ctx: RouteContext): RouteResult {
  if (input.kind === 'kbd-flags' || input.kind === 'mode-report') return result(s);

  if (!ctx.forwarding) {
    if (input.kind === 'text' && [...input.text].length > 1) {
      // Keys typed quickly (or while the viewer was busy) arrive in one read: each is a key of
      // its own, so the c of "xc" still asks for control.
      return [...input.text].reduce<RouteResult>((acc, ch) => {
        const next = route(acc.state, { kind: 'text', text: ch }, ctx);
        return result(next.state, [...acc.commands, ...next.commands]);
      }, result(s));
    }
    // Leaving control with keys held: the daemon releases them; locally nothing is held.
    const state: RouteState = s.held.length > 0 ? { ...s, held: [] } : s;
    if (isPrefix(input)) return result({ ...state, prefix: true });
    if (state.prefix) {
      if ((input.kind === 'key' && input.action === 'release') || input.kind === 'mouse') return result(state);
      const cmd = commandOf(input);
      return result({ ...state, prefix: false }, cmd && cmd !== 'interrupt' ? [cmd] : []);
    }
    if (ctx.prefixOnly) return result(state);
    const cmd = commandOf(input);
    return result(state, cmd ? [cmd] : []);
  }

  if (s.prefix) {
    // Releases (of Ctrl and ]) arrive while the prefix waits: they are not the command key.
    if ((input.kind === 'key' && input.action === 'release') || input.kind === 'mouse') return result(s);
    if (input.kind === 'text' && input.text.length > 1) {
      // Typed fast, the command key and what follows come as one text: split them.
      const [first, ...rest] = [...input.text];
      const head = route(s, { kind: 'text', text: first! }, ctx);
      const tail = route(head.state, { kind: 'text', text: rest.join('') }, ctx);
      return result(tail.state, [...head.commands, ...tail.commands], [...head.events, ...tail.events]);
    }
    if (isPrefix(input) || (input.kind === 'text' && input.text === ']')) {
      return result({ ...s, prefix: false }, [], keyEvents('bracketright', ['control']));
    }
    const cmd = commandOf(input);
    return result({ ...s, prefix: false }, cmd && cmd !== 'interrupt' ? [cmd] : []);
  }

  if (isPrefix(input)) return result({ ...s, prefix: true });

  switch (input.kind) {
    case 'text':
      return result(s, [], textEvents(input.text));
    case 'paste':
      return result(s, [], pasteEvents(input.text));
    case 'key': {
      const { key, mods } = input;
      switch (input.action) {
        case 'tap':
          return result(s, [], keyEvents(key, mods));
        case 'press':
        case 'repeat':
          return result(s.held.includes(key) ? s : { ...s, held: [...s.held, key] }, [], [{ t: 'key', key, down: true, mods }]);
        case 'release':
          if (!s.held.includes(key)) return result(s);
          return result({ ...s, held: s.held.filter((k) => k !== key) }, [], [{ t: 'key', key, down: false, mods }]);
      }
      break;
    }
    case 'mouse': {
      if (!ctx.geometry) return result(s);
      const at = toRemote(ctx.geometry, input.x, input.y, ctx.pixels);
      if (!at) {
        // Outside the picture. A release must still go out, or a drag would leave the button
        // down on the customer's side: it is sent where the pointer last was.
        if (input.action === 'release' && input.button && s.lastAt) return result(s, [], [{ t: 'button', button: input.button, down: false, ...s.lastAt }]);
        return result(s);
      }
      const next: RouteState = { ...s, lastAt: at };
      switch (input.action) {
        case 'press':
        case 'release':
          return result(next, [], [{ t: 'button', button: input.button!, down: input.action === 'press', ...at }]);
        case 'move':
          return result(next, [], [{ t: 'move', ...at }]);
        case 'wheel':
          return result(next, [], [{ t: 'wheel', dx: input.wheel!.dx, dy: input.wheel!.dy, ...at }]);
      }
    }
  }
  return result(s);
}
