// Application messages: what travels inside the encrypted channel between the customer's
// daemon and the agent's viewer. Each record's plaintext is one message: a kind byte, then
// either UTF-8 JSON (control messages) or the binary frame update of src/codec/update.ts.
// Everything is parsed strictly: the peer is authenticated, but it is still another program
// that may be modified or buggy, and the customer's daemon must stay in charge.
import { RsoError } from '../errors.js';

export const APP_JSON = 0x01;
export const APP_FRAME = 0x02;

/** Largest JSON control message, in bytes. Frames are bounded by the record size instead. */
export const MAX_APP_JSON_BYTES = 16 * 1024;
export const MAX_CHAT_CHARS = 2000;

export type ViewState = { kind: 'none' } | { kind: 'screen' } | { kind: 'apps'; apps: string[] };
export type RequestKind = 'view' | 'control';

export type InputEvent =
  | { t: 'move'; x: number; y: number }
  | { t: 'button'; button: 'left' | 'middle' | 'right'; down: boolean; x: number; y: number }
  | { t: 'wheel'; dx: number; dy: number; x: number; y: number }
  | { t: 'key'; key: string; down: boolean; mods: Modifier[] }
  | { t: 'text'; text: string };
export type Modifier = 'shift' | 'control' | 'alt' | 'meta';

/** customer -> agent */
export type CustomerMessage =
  | { type: 'info'; host: string; os: string; screen: { width: number; height: number } }
  | { type: 'state'; view: ViewState; control: boolean; paused: boolean }
  | { type: 'answer'; request: RequestKind; granted: boolean }
  | { type: 'cursor'; x: number; y: number; visible: boolean }
  | { type: 'chat'; text: string }
  | { type: 'bye'; reason: string };

/** agent -> customer */
export type AgentMessage =
  | { type: 'request'; what: RequestKind }
  /** Pull flow control: the viewer's picture size in pixels, and the last frame seq it has drawn. */
  | { type: 'ready'; width: number; height: number; seq: number }
  | { type: 'input'; events: InputEvent[] }
  | { type: 'chat'; text: string }
  | { type: 'bye'; reason: string };

const MAX_DIM = 16384;
const MAX_INPUT_EVENTS = 64;
const MODIFIERS: readonly Modifier[] = ['shift', 'control', 'alt', 'meta'];
const KEY_RE = /^[A-Za-z0-9_]{1,32}$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeJson(msg: CustomerMessage | AgentMessage): Uint8Array {
  const body = encoder.encode(JSON.stringify(msg));
  const out = new Uint8Array(body.length + 1);
  out[0] = APP_JSON;
  out.set(body, 1);
  return out;
}

export function encodeFrame(update: Uint8Array): Uint8Array {
  const out = new Uint8Array(update.length + 1);
  out[0] = APP_FRAME;
  out.set(update, 1);
  return out;
}

function bad(what: string): RsoError {
  return new RsoError('RSO_ERR_PROTOCOL', `The other side sent a malformed message (${what}).`, what);
}

function obj(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function keys(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw bad(`unexpected field "${k.slice(0, 32)}" in ${what}`);
}

function int(o: Record<string, unknown>, k: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(`bad ${k}`);
  return v;
}

function bool(o: Record<string, unknown>, k: string): boolean {
  const v = o[k];
  if (typeof v !== 'boolean') throw bad(`bad ${k}`);
  return v;
}

/** Text shown to a person: bounded, and no control characters that could repaint a screen. */
function text(o: Record<string, unknown>, k: string, max: number, allowNewline = false): string {
  return textValue(o[k], k, max, allowNewline);
}

function textValue(v: unknown, what: string, max: number, allowNewline = false): string {
  if (typeof v !== 'string' || v.length > max) throw bad(`bad ${what}`);
  const re = allowNewline ? /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/ : /[\u0000-\u001f\u007f-\u009f]/;
  if (re.test(v)) throw bad(`control character in ${what}`);
  return v;
}

function oneOf<T extends string>(o: Record<string, unknown>, k: string, values: readonly T[]): T {
  const v = o[k];
  if (typeof v !== 'string' || !values.includes(v as T)) throw bad(`bad ${k}`);
  return v as T;
}

function parseView(value: unknown): ViewState {
  const o = obj(value, 'view');
  const kind = oneOf(o, 'kind', ['none', 'screen', 'apps'] as const);
  if (kind !== 'apps') {
    keys(o, ['kind'], 'view');
    return { kind };
  }
  keys(o, ['kind', 'apps'], 'view');
  const apps = o.apps;
  if (!Array.isArray(apps) || apps.length > 64) throw bad('bad apps');
  return { kind, apps: apps.map((a) => textValue(a, 'app name', 128)) };
}

function parseInputEvent(value: unknown): InputEvent {
  const o = obj(value, 'input event');
  const t = oneOf(o, 't', ['move', 'button', 'wheel', 'key', 'text'] as const);
  switch (t) {
    case 'move':
      keys(o, ['t', 'x', 'y'], 'move');
      return { t, x: int(o, 'x', 0, MAX_DIM), y: int(o, 'y', 0, MAX_DIM) };
    case 'button':
      keys(o, ['t', 'button', 'down', 'x', 'y'], 'button');
      return { t, button: oneOf(o, 'button', ['left', 'middle', 'right'] as const), down: bool(o, 'down'), x: int(o, 'x', 0, MAX_DIM), y: int(o, 'y', 0, MAX_DIM) };
    case 'wheel':
      keys(o, ['t', 'dx', 'dy', 'x', 'y'], 'wheel');
      return { t, dx: int(o, 'dx', -100, 100), dy: int(o, 'dy', -100, 100), x: int(o, 'x', 0, MAX_DIM), y: int(o, 'y', 0, MAX_DIM) };
    case 'key': {
      keys(o, ['t', 'key', 'down', 'mods'], 'key');
      const key = o.key;
      if (typeof key !== 'string' || !KEY_RE.test(key)) throw bad('bad key');
      const mods = o.mods;
      if (!Array.isArray(mods) || mods.length > MODIFIERS.length) throw bad('bad mods');
      for (const m of mods) if (!MODIFIERS.includes(m as Modifier)) throw bad('bad modifier');
      return { t, key, down: bool(o, 'down'), mods: [...new Set(mods as Modifier[])] };
    }
    case 'text':
      keys(o, ['t', 'text'], 'text');
      return { t, text: text(o, 'text', 256, true) };
  }
}

function parseBody(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length - 1 > MAX_APP_JSON_BYTES) throw new RsoError('RSO_ERR_TOO_LARGE', undefined, 'app message too large');
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes.subarray(1)));
  } catch {
    throw bad('not UTF-8 JSON');
  }
  const o = obj(value, 'message');
  if (typeof o.type !== 'string') throw bad('no type');
  return o;
}

export type Incoming<M> = { kind: 'json'; msg: M } | { kind: 'frame'; update: Uint8Array };

/** Parse what the agent receives from the customer. */
export function parseFromCustomer(bytes: Uint8Array): Incoming<CustomerMessage> {
  if (bytes.length === 0) throw bad('empty');
  if (bytes[0] === APP_FRAME) return { kind: 'frame', update: bytes.subarray(1) };
  if (bytes[0] !== APP_JSON) throw bad('unknown kind');
  const o = parseBody(bytes);
  switch (o.type) {
    case 'info': {
      keys(o, ['type', 'host', 'os', 'screen'], 'info');
      const s = obj(o.screen, 'screen');
      keys(s, ['width', 'height'], 'screen');
      return { kind: 'json', msg: { type: 'info', host: text(o, 'host', 128), os: text(o, 'os', 128), screen: { width: int(s, 'width', 1, MAX_DIM), height: int(s, 'height', 1, MAX_DIM) } } };
    }
    case 'state':
      keys(o, ['type', 'view', 'control', 'paused'], 'state');
      return { kind: 'json', msg: { type: 'state', view: parseView(o.view), control: bool(o, 'control'), paused: bool(o, 'paused') } };
    case 'answer':
      keys(o, ['type', 'request', 'granted'], 'answer');
      return { kind: 'json', msg: { type: 'answer', request: oneOf(o, 'request', ['view', 'control'] as const), granted: bool(o, 'granted') } };
    case 'cursor':
      keys(o, ['type', 'x', 'y', 'visible'], 'cursor');
      return { kind: 'json', msg: { type: 'cursor', x: int(o, 'x', 0, MAX_DIM), y: int(o, 'y', 0, MAX_DIM), visible: bool(o, 'visible') } };
    case 'chat':
      keys(o, ['type', 'text'], 'chat');
      return { kind: 'json', msg: { type: 'chat', text: text(o, 'text', MAX_CHAT_CHARS, true) } };
    case 'bye':
      keys(o, ['type', 'reason'], 'bye');
      return { kind: 'json', msg: { type: 'bye', reason: text(o, 'reason', 200) } };
    default:
      throw bad(`unknown type "${String(o.type).slice(0, 32)}"`);
  }
}

/** Parse what the customer's daemon receives from the agent. Frames are never accepted here. */
export function parseFromAgent(bytes: Uint8Array): AgentMessage {
  if (bytes.length === 0) throw bad('empty');
  if (bytes[0] !== APP_JSON) throw bad('unexpected kind from agent');
  const o = parseBody(bytes);
  switch (o.type) {
    case 'request':
      keys(o, ['type', 'what'], 'request');
      return { type: 'request', what: oneOf(o, 'what', ['view', 'control'] as const) };
    case 'ready':
      keys(o, ['type', 'width', 'height', 'seq'], 'ready');
      return { type: 'ready', width: int(o, 'width', 1, MAX_DIM), height: int(o, 'height', 1, MAX_DIM), seq: int(o, 'seq', 0, 0xffffffff) };
    case 'input': {
      keys(o, ['type', 'events'], 'input');
      const events = o.events;
      if (!Array.isArray(events) || events.length === 0 || events.length > MAX_INPUT_EVENTS) throw bad('bad events');
      return { type: 'input', events: events.map(parseInputEvent) };
    }
    case 'chat':
      keys(o, ['type', 'text'], 'chat');
      return { type: 'chat', text: text(o, 'text', MAX_CHAT_CHARS, true) };
    case 'bye':
      keys(o, ['type', 'reason'], 'bye');
      return { type: 'bye', reason: text(o, 'reason', 200) };
    default:
      throw bad(`unknown type "${String(o.type).slice(0, 32)}"`);
  }
}
