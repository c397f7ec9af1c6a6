// Terminal capability detection, the pure part: the bytes to send, an incremental parser that
// pulls the terminal's replies out of the input stream (everything else is handed back
// untouched, so a reply never reaches key handling), and the choice of renderer.
//
// Replies come back on stdin mixed with whatever the person types, possibly split across
// reads, so the parser is a small state machine over characters, in the manner of a VT parser:
// it holds back an escape sequence until it can tell whether it is a reply.
import { RsoError } from '../../errors.js';
import type { GraphicsKind } from './renderer.js';
import { tmuxWrap } from './kitty.js';

/** Image id of the kitty probe; a reply naming another id is not ours. */
export const KITTY_QUERY_ID = 31;

/**
 * Everything asked at once. DA1 goes last on purpose: every terminal answers it and answers in
 * order, so its reply marks the end of detection (no timeout needed on most terminals).
 * - kitty: `a=q` query of a 1x1 RGB image, answered `i=31;OK` by kitty-capable terminals.
 * - CSI 14 t / 16 t / 18 t: window size in pixels, cell size in pixels, size in cells.
 * - XTSMGRAPHICS: colour registers (item 1) and maximum sixel geometry (item 2).
 * - DA1: parameter 4 means sixel graphics.
 */
export function queries(opts: { tmux?: boolean } = {}): string {
  const kitty = `\x1b_Gi=${KITTY_QUERY_ID},s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\`;
  return (
    (opts.tmux ? tmuxWrap(kitty) : kitty) +
    '\x1b[14t\x1b[16t\x1b[18t' +
    '\x1b[?1;1;0S\x1b[?2;1;0S' +
    '\x1b[c'
  );
}

export type Reply =
  | { type: 'kitty'; id: number; ok: boolean; message: string }
  | { type: 'da1'; params: number[] }
  | { type: 'xtsmgraphics'; item: number; status: number; values: number[] }
  | { type: 'window-pixels'; width: number; height: number }
  | { type: 'cell-pixels'; width: number; height: number }
  | { type: 'text-cells'; cols: number; rows: number };

const ESC = '\x1b';
// Bounds so a stray ESC [ or ESC _ never swallows unbounded input.
const MAX_CSI = 64;
const MAX_APC = 512;

type State = 'ground' | 'esc' | 'csi' | 'apc' | 'apc-esc';

export class ReplyParser {
  private state: State = 'ground';
  private pending = '';
  private readonly decoder = new TextDecoder('utf-8');

  /** Feed input; returns the replies found and the input that was not a reply, in order. */
  feed(chunk: string | Uint8Array): { replies: Reply[]; passthrough: string } {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const replies: Reply[] = [];
    let passthrough = '';
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      switch (this.state) {
        case 'ground':
          if (ch === ESC) this.begin(ch, 'esc');
          else passthrough += ch;
          break;
        case 'esc':
          if (ch === '[') this.push(ch, 'csi');
          else if (ch === '_') this.push(ch, 'apc');
          else {
            // ESC + anything else (Alt+key, a lone Escape): not ours.
            passthrough += this.release();
            i--;
          }
          break;
        case 'csi': {
          const code = ch.charCodeAt(0);
          if (code >= 0x20 && code <= 0x3f) {
            this.pending += ch;
            if (this.pending.length > MAX_CSI) passthrough += this.release();
          } else if (code >= 0x40 && code <= 0x7e) {
            const seq = this.pending + ch;
            this.release();
            const reply = parseCsi(seq.slice(2, -1), ch);
            if (reply) replies.push(reply);
            else passthrough += seq;
          } else {
            passthrough += this.release();
            i--;
          }
          break;
        }
        case 'apc':
          if (ch === ESC) this.state = 'apc-esc';
          else {
            this.pending += ch;
            if (this.pending.length > MAX_APC) passthrough += this.release();
          }
          break;
        case 'apc-esc':
          if (ch === '\\') {
            const seq = this.pending + ESC + ch;
            const body = this.pending.slice(2);
            this.release();
            const reply = parseApc(body);
            if (reply) replies.push(reply);
            else passthrough += seq;
          } else {
            // The APC ended without ST: hand it back and read the ESC afresh.
            passthrough += this.pending;
            this.begin(ESC, 'esc');
            i--;
          }
          break;
      }
    }
    return { replies, passthrough };
  }

  /**
   * Give back a sequence held at the end of input. A lone Escape key press looks like the
   * start of a reply until more input comes, so the caller flushes after a short quiet time.
   */
  flush(): string {
    return this.release();
  }

  /** True while an incomplete escape sequence is held back. */
  get holding(): boolean {
    return this.state !== 'ground';
  }

  private begin(ch: string, state: State): void {
    this.pending = ch;
    this.state = state;
  }

  private push(ch: string, state: State): void {
    this.pending += ch;
    this.state = state;
  }

  private release(): string {
    const p = this.state === 'apc-esc' ? this.pending + ESC : this.pending;
    this.pending = '';
    this.state = 'ground';
    return p;
  }
}

function numbers(s: string): number[] | null {
  if (s === '') return [];
  const parts = s.split(';');
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,9}$/.test(p)) return null;
    out.push(Number(p));
  }
  return out;
}

/** `params` is what sits between `ESC [` and the final byte. */
function parseCsi(params: string, final: string): Reply | null {
  if (final === 'c' && params.startsWith('?')) {
    const n = numbers(params.slice(1));
    return n && n.length > 0 ? { type: 'da1', params: n } : null;
  }
  if (final === 'S' && params.startsWith('?')) {
    const n = numbers(params.slice(1));
    if (!n || n.length < 2) return null;
    return { type: 'xtsmgraphics', item: n[0]!, status: n[1]!, values: n.slice(2) };
  }
  if (final === 't') {
    const n = numbers(params);
    if (!n || n.length !== 3) return null;
    const [what, a, b] = n as [number, number, number];
    if (what === 4) return { type: 'window-pixels', height: a, width: b };
    if (what === 6) return { type: 'cell-pixels', height: a, width: b };
    if (what === 8) return { type: 'text-cells', rows: a, cols: b };
  }
  return null;
}

/** Kitty graphics reply body: `G<keys>;<message>`. */
function parseApc(body: string): Reply | null {
  if (!body.startsWith('G')) return null;
  const semi = body.indexOf(';');
  if (semi < 0) return null;
  const keys = body.slice(1, semi).split(',');
  const message = body.slice(semi + 1);
  let id = 0;
  for (const k of keys) {
    const m = /^i=(\d{1,10})$/.exec(k);
    if (m) id = Number(m[1]);
  }
  return { type: 'kitty', id, ok: message === 'OK', message };
}

export interface GraphicsCaps {
  kitty: boolean;
  sixel: boolean;
  cellWidth?: number;
  cellHeight?: number;
  pixelWidth?: number;
  pixelHeight?: number;
  cols?: number;
  rows?: number;
  /** Sixel colour registers (XTSMGRAPHICS item 1), when the terminal says. */
  sixelColors?: number;
  /** True once the DA1 reply (sent last) has arrived: no more replies are coming. */
  complete: boolean;
}

/** Fold replies into what the terminal can do. */
export function capsFromReplies(replies: readonly Reply[]): GraphicsCaps {
  const caps: GraphicsCaps = { kitty: false, sixel: false, complete: false };
  for (const r of replies) {
    switch (r.type) {
      case 'kitty':
        if (r.id === KITTY_QUERY_ID && r.ok) caps.kitty = true;
        break;
      case 'da1':
        if (r.params.slice(1).includes(4)) caps.sixel = true;
        caps.complete = true;
        break;
      case 'xtsmgraphics':
        // status 0 = success; item 2 answering at all means there is a sixel engine.
        if (r.status === 0 && r.item === 1 && r.values[0]) caps.sixelColors = r.values[0];
        if (r.status === 0 && r.item === 2) caps.sixel = true;
        break;
      case 'window-pixels':
        if (r.width > 0 && r.height > 0) {
          caps.pixelWidth = r.width;
          caps.pixelHeight = r.height;
        }
        break;
      case 'cell-pixels':
        if (r.width > 0 && r.height > 0) {
          caps.cellWidth = r.width;
          caps.cellHeight = r.height;
        }
        break;
      case 'text-cells':
        if (r.cols > 0 && r.rows > 0) {
          caps.cols = r.cols;
          caps.rows = r.rows;
        }
        break;
    }
  }
  // Terminals without CSI 16 t (older VTE, some Windows terminals) still give the window
  // size in pixels and cells, which is enough to know the cell size.
  if (caps.cellWidth === undefined && caps.pixelWidth && caps.pixelHeight && caps.cols && caps.rows) {
    caps.cellWidth = Math.floor(caps.pixelWidth / caps.cols);
    caps.cellHeight = Math.floor(caps.pixelHeight / caps.rows);
  }
  return caps;
}

/** One-shot form of the parser for a complete buffer (tests, simple callers). */
export function parseReplies(bytes: string | Uint8Array): GraphicsCaps & { rest: string } {
  const p = new ReplyParser();
  const { replies, passthrough } = p.feed(bytes);
  return { ...capsFromReplies(replies), rest: passthrough + p.flush() };
}

export type GraphicsOption = 'auto' | GraphicsKind;

/** Validate `--graphics`. */
export function parseGraphicsOption(value: string): GraphicsOption {
  if (value === 'auto' || value === 'kitty' || value === 'sixel' || value === 'blocks') return value;
  throw new RsoError('RSO_ERR_USAGE', `--graphics must be one of auto, kitty, sixel, blocks (got "${value.slice(0, 20)}").`);
}

export interface GraphicsChoice {
  kind: GraphicsKind;
  /** Kitty escapes must be wrapped in tmux passthrough. */
  tmux: boolean;
  /** One line for the status bar / log: why this renderer. */
  reason: string;
}

export function chooseGraphics(input: {
  override?: GraphicsOption;
  caps: GraphicsCaps;
  env: Readonly<Record<string, string | undefined>>;
}): GraphicsChoice {
  const { caps, env } = input;
  const override = input.override ?? 'auto';
  const inTmux = Boolean(env['TMUX']);
  const tmux = (kind: GraphicsKind): boolean => kind === 'kitty' && inTmux;
  if (override !== 'auto') return { kind: override, tmux: tmux(override), reason: `--graphics ${override}` };
  const cellKnown = Boolean(caps.cellWidth && caps.cellHeight);
  if (caps.kitty) {
    return {
      kind: 'kitty',
      tmux: tmux('kitty'),
      reason: inTmux ? 'terminal answered the kitty graphics query (through tmux passthrough)' : 'terminal answered the kitty graphics query',
    };
  }
  // Sixel pixels map 1:1 to screen pixels: without the cell size the picture would not fit
  // the area, so half-blocks are the safer choice.
  if (caps.sixel && cellKnown) return { kind: 'sixel', tmux: false, reason: 'terminal reports sixel graphics' };
  if (caps.sixel) return { kind: 'blocks', tmux: false, reason: 'sixel reported but the cell size is unknown' };
  return { kind: 'blocks', tmux: false, reason: 'no kitty or sixel graphics reported' };
}
