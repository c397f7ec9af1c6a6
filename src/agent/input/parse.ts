// Terminal input as values: the bytes a terminal sends for keys and the mouse, turned into
// tokens the viewer can route (to its own commands, or to the customer as input events). Pure:
// characters in, tokens out; a sequence cut at the end of a chunk is held until the next chunk
// or flush(), so it is never half-read as keys.
//
// Understood: legacy keys (printable text, C0 controls as Ctrl-letter, ESC-prefixed Alt,
// CSI/SS3 cursor and function keys with xterm's `;m` modifier parameter), the kitty keyboard
// protocol (CSI code;mods:event u, and its press/repeat/release on the legacy finals), SGR
// 1006 mouse reports (cells, or pixels under mode 1016), bracketed paste (mode 2004: what lies
// between CSI 200~ and CSI 201~ is one `paste` token, never keys), and the two replies the
// viewer asks for: kitty keyboard flags (CSI ? flags u) and DECRQM (CSI ? mode ; value $ y).
import type { Modifier } from '../../protocol/app.js';
import { PUNCTUATION } from '../../protocol/keys.js';

/** `tap`: a legacy key, whose release the terminal does not report. */
export type KeyAction = 'press' | 'repeat' | 'release' | 'tap';

export type TermInput =
  | { kind: 'text'; text: string }
  | { kind: 'key'; key: string; mods: Modifier[]; action: KeyAction }
  | {
      kind: 'mouse';
      action: 'press' | 'release' | 'move' | 'wheel';
      /** null for motion with no button held. */
      button: 'left' | 'middle' | 'right' | null;
      /** 1-based column/row, or 1-based pixel position under mode 1016. */
      x: number;
      y: number;
      wheel?: { dx: number; dy: number };
      mods: Modifier[];
    }
  /** Pasted text, as the terminal bracketed it (line ends and tabs as they were pasted). */
  | { kind: 'paste'; text: string }
  | { kind: 'kbd-flags'; flags: number }
  | { kind: 'mode-report'; mode: number; value: number };

const ESC = '\x1b';
/** A sequence longer than this is not one we know: it is dropped instead of held forever. */
const MAX_SEQ = 64;
const PASTE_START = '200';
const PASTE_END = '\x1b[201~';
/** A paste keeps its first 64 Ki characters; the rest, up to the end bracket, is dropped. */
export const MAX_PASTE = 65_536;

/** xterm's modifier parameter: 1 + bits (shift 1, alt 2, ctrl 4, super 8, hyper 16, meta 32). */
export function modsOf(param: number): Modifier[] {
  const bits = Math.max(0, param - 1);
  const out: Modifier[] = [];
  if (bits & 1) out.push('shift');
  if (bits & 2) out.push('alt');
  if (bits & 4) out.push('control');
  if (bits & (8 | 32)) out.push('meta');
  return out;
}

const TILDE: Record<number, string> = {
  1: 'Home', 2: 'Insert', 3: 'Delete', 4: 'End', 5: 'Page_Up', 6: 'Page_Down', 7: 'Home', 8: 'End',
  11: 'F1', 12: 'F2', 13: 'F3', 14: 'F4', 15: 'F5', 17: 'F6', 18: 'F7', 19: 'F8', 20: 'F9', 21: 'F10', 23: 'F11', 24: 'F12',
};

const LETTER_FINAL: Record<string, string> = { A: 'Up', B: 'Down', C: 'Right', D: 'Left', H: 'Home', F: 'End', P: 'F1', Q: 'F2', R: 'F3', S: 'F4' };

/** Kitty's code points for keys without text (the legacy ones reuse C0/DEL). */
const KITTY_CODES: Record<number, string> = { 13: 'Return', 9: 'Tab', 127: 'BackSpace', 27: 'Escape', 32: 'space', 8: 'BackSpace' };

/** The key name of a character on a key (`a`, `7`, `minus`), or undefined for others. */
export function keyNameOfChar(ch: string): string | undefined {
  if (/^[a-z0-9]$/.test(ch)) return ch;
  if (/^[A-Z]$/.test(ch)) return ch.toLowerCase();
  return PUNCTUATION[ch];
}

function key(name: string, mods: Modifier[], action: KeyAction): TermInput {
  return { kind: 'key', key: name, mods, action };
}

/** C0 control characters as the key that makes them. */
function controlKey(code: number, extra: Modifier[]): TermInput | null {
  switch (code) {
    case 0x0d:
      return key('Return', extra, 'tap');
    case 0x09:
      return key('Tab', extra, 'tap');
    case 0x7f:
      return key('BackSpace', extra, 'tap');
    case 0x1b:
      return key('Escape', extra, 'tap');
    case 0x00:
      return key('space', [...extra, 'control'], 'tap');
    case 0x1c:
      return key('backslash', [...extra, 'control'], 'tap');
    case 0x1d:
      return key('bracketright', [...extra, 'control'], 'tap');
    case 0x1f:
      return key('minus', [...extra, 'control'], 'tap');
    default:
      if (code >= 0x01 && code <= 0x1a) return key(String.fromCharCode(0x60 + code), [...extra, 'control'], 'tap');
      return null;
  }
}

function eventAction(param: string | undefined): KeyAction {
  switch (param) {
    case '2':
      return 'repeat';
    case '3':
      return 'release';
    default:
      return 'press';
  }
}

/** Parses one complete CSI sequence body (`params` between `ESC [` and the final byte). */
function parseCsi(params: string, final: string): TermInput | null {
  if (params.startsWith('<') && (final === 'M' || final === 'm')) return parseSgrMouse(params.slice(1), final === 'M');
  if (params.startsWith('?') && final === 'u') {
    const flags = Number(params.slice(1));
    return Number.isInteger(flags) ? { kind: 'kbd-flags', flags } : null;
  }
  if (params.startsWith('?') && params.endsWith('$') && final === 'y') {
    const [mode, value] = params.slice(1, -1).split(';').map(Number);
    return mode !== undefined && value !== undefined && Number.isInteger(mode) && Number.isInteger(value) ? { kind: 'mode-report', mode, value } : null;
  }
  if (!/^[0-9;:]*$/.test(params)) return null;
  const fields = params.split(';');
  const [modParam, evParam] = (fields[1] ?? '').split(':');
  const mods = modsOf(Number(modParam || '1'));
  // Kitty reports press and release (the event after the colon; CSI u defaults to press);
  // a legacy sequence says nothing about release, so it is a tap.
  const action = evParam !== undefined ? eventAction(evParam) : final === 'u' ? 'press' : 'tap';
  if (final === 'u') {
    const code = Number((fields[0] ?? '').split(':')[0]);
    if (!Number.isInteger(code)) return null;
    const named = KITTY_CODES[code];
    if (named) return key(named, mods, action);
    const name = code >= 0x20 && code < 0x110000 ? keyNameOfChar(String.fromCodePoint(code)) : undefined;
    // Modifier keys alone (kitty's private-use codes) and keys we have no name for are dropped:
    // the modifiers travel with the key they modify.
    return name ? key(name, mods, action) : null;
  }
  if (final === '~') {
    const name = TILDE[Number(fields[0])];
    return name ? key(name, mods, action) : null;
  }
  const name = LETTER_FINAL[final];
  return name ? key(name, mods, action) : null;
}

function parseSgrMouse(params: string, press: boolean): TermInput | null {
  const parts = params.split(';').map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n < 0)) return null;
  const [b, x, y] = parts as [number, number, number];
  const mods: Modifier[] = [];
  if (b & 4) mods.push('shift');
  if (b & 8) mods.push('alt');
  if (b & 16) mods.push('control');
  const low = b & 3;
  if (b & 64) {
    const wheel = [{ dx: 0, dy: -1 }, { dx: 0, dy: 1 }, { dx: -1, dy: 0 }, { dx: 1, dy: 0 }][low]!;
    return { kind: 'mouse', action: 'wheel', button: null, x, y, wheel, mods };
  }
  const button = low === 0 ? 'left' : low === 1 ? 'middle' : low === 2 ? 'right' : null;
  if (b & 32) return { kind: 'mouse', action: 'move', button, x, y, mods };
  if (button === null) return null;
  return { kind: 'mouse', action: press ? 'press' : 'release', button, x, y, mods };
}

export class InputParser {
  private pending = '';
  /** Inside a bracketed paste: what was pasted so far. */
  private paste: string | null = null;

  /**
   * True while an incomplete sequence is held (the caller flushes it after a quiet time). Not
   * inside a paste: a paste ends at its end bracket, however long the terminal takes.
   */
  get holding(): boolean {
    return this.pending !== '' && this.paste === null;
  }

  feed(chunk: string): TermInput[] {
    const s = this.pending + chunk;
    this.pending = '';
    const out: TermInput[] = [];
    let text = '';
    const pushText = (): void => {
      if (text !== '') out.push({ kind: 'text', text });
      text = '';
    };
    let i = this.paste === null ? 0 : this.readPaste(s, 0, out);
    while (i < s.length) {
      const ch = s[i]!;
      const code = ch.charCodeAt(0);
      if (ch !== ESC && code >= 0x20 && code !== 0x7f) {
        text += ch;
        i++;
        continue;
      }
      pushText();
      if (ch !== ESC) {
        const k = controlKey(code, []);
        if (k) out.push(k);
        i++;
        continue;
      }
      const used = this.escape(s, i, out);
      if (used === 0) {
        this.pending = s.slice(i);
        return out;
      }
      i += used;
      if (this.paste !== null) i = this.readPaste(s, i, out);
    }
    pushText();
    return out;
  }

  /**
   * Reads pasted text from s[i] up to the end bracket; returns where reading stopped. Without
   * the end bracket in `s`, everything is taken except a tail that may be its beginning.
   */
  private readPaste(s: string, i: number, out: TermInput[]): number {
    const end = s.indexOf(PASTE_END, i);
    if (end >= 0) {
      out.push({ kind: 'paste', text: this.keepPasted(s.slice(i, end)) });
      this.paste = null;
      return end + PASTE_END.length;
    }
    let tail = Math.min(PASTE_END.length - 1, s.length - i);
    while (tail > 0 && !PASTE_END.startsWith(s.slice(s.length - tail))) tail--;
    this.keepPasted(s.slice(i, s.length - tail));
    this.pending = s.slice(s.length - tail);
    return s.length;
  }

  private keepPasted(more: string): string {
    const sofar = this.paste ?? '';
    this.paste = sofar.length >= MAX_PASTE ? sofar : (sofar + more).slice(0, MAX_PASTE);
    return this.paste;
  }

  /** The held sequence as keys: a lone ESC is the Escape key, ESC x is Alt-x. */
  flush(): TermInput[] {
    // A paste's pending tail may be the start of its end bracket: it waits for the next chunk.
    if (this.paste !== null) return [];
    const s = this.pending;
    this.pending = '';
    if (s === '') return [];
    if (s === ESC) return [key('Escape', [], 'tap')];
    if (s.length === 2) {
      const alt = this.altOf(s[1]!);
      if (alt) return [alt];
    }
    // An unfinished CSI after a quiet time is line noise, not keys.
    return [];
  }

  /** Reads an escape sequence at s[i]; returns how many characters it used, 0 if incomplete. */
  private escape(s: string, i: number, out: TermInput[]): number {
    const next = s[i + 1];
    if (next === undefined) return 0;
    if (next === '[') {
      let j = i + 2;
      while (j < s.length && j - i <= MAX_SEQ) {
        const c = s.charCodeAt(j);
        if (c >= 0x40 && c <= 0x7e) {
          if (s[j] === '~' && s.slice(i + 2, j) === PASTE_START) {
            this.paste = '';
            return j - i + 1;
          }
          const tok = parseCsi(s.slice(i + 2, j), s[j]!);
          if (tok) out.push(tok);
          return j - i + 1;
        }
        // Not a CSI after all: drop the introducer and read on from here.
        if (c < 0x20 || c > 0x3f) return j - i;
        j++;
      }
      return j - i > MAX_SEQ ? j - i : 0;
    }
    if (next === 'O') {
      const f = s[i + 2];
      if (f === undefined) return 0;
      const name = LETTER_FINAL[f];
      if (name) out.push(key(name, [], 'tap'));
      return 3;
    }
    if (next === ESC) {
      // ESC ESC: Alt-Escape, or an Escape key followed by a sequence; the latter is likelier.
      out.push(key('Escape', [], 'tap'));
      return 1;
    }
    const alt = this.altOf(next);
    if (alt) out.push(alt);
    return 2;
  }

  private altOf(ch: string): TermInput | null {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return controlKey(code, ['alt']);
    const name = keyNameOfChar(ch);
    if (!name) return null;
    return key(name, /^[A-Z]$/.test(ch) ? ['alt', 'shift'] : ['alt'], 'tap');
  }
}
