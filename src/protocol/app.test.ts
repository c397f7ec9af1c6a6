import t from 'tap';
import { RsoError } from '../errors.js';
import {
  APP_FRAME, APP_JSON, MAX_APP_JSON_BYTES, encodeFrame, encodeJson, parseFromAgent, parseFromCustomer,
  type AgentMessage, type CustomerMessage,
} from './app.js';

const enc = new TextEncoder();
const raw = (json: string) => Uint8Array.from([APP_JSON, ...enc.encode(json)]);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof RsoError ? err.code : `not RsoError: ${String(err)}`;
  }
  return 'no error';
}

t.test('customer messages round-trip', async (t) => {
  const msgs: CustomerMessage[] = [
    { type: 'info', host: 'laptop', os: 'Linux 6.1', screen: { width: 1920, height: 1080 } },
    { type: 'state', view: { kind: 'none' }, control: false, paused: false },
    { type: 'state', view: { kind: 'apps', apps: ['Firefox', 'xterm'] }, control: true, paused: true },
    { type: 'answer', request: 'control', granted: false },
    { type: 'cursor', x: 10, y: 20, visible: true },
    { type: 'chat', text: 'line one\nline two' },
    { type: 'bye', reason: 'customer ended the session' },
  ];
  for (const m of msgs) t.same(parseFromCustomer(encodeJson(m)), { kind: 'json', msg: m }, m.type);
  const update = Uint8Array.from([9, 8, 7]);
  const framed = parseFromCustomer(encodeFrame(update));
  t.equal(framed.kind, 'frame');
  if (framed.kind === 'frame') t.same([...framed.update], [9, 8, 7]);
});

t.test('agent messages round-trip', async (t) => {
  const msgs: AgentMessage[] = [
    { type: 'request', what: 'view' },
    { type: 'ready', width: 1280, height: 720, seq: 42 },
    {
      type: 'input',
      events: [
        { t: 'move', x: 1, y: 2 },
        { t: 'button', button: 'left', down: true, x: 1, y: 2 },
        { t: 'wheel', dx: 0, dy: -3, x: 5, y: 5 },
        { t: 'key', key: 'Return', down: true, mods: ['control', 'shift'] },
        { t: 'text', text: 'Hello World! <>?' },
      ],
    },
    { type: 'chat', text: 'hi' },
    { type: 'bye', reason: 'done' },
  ];
  for (const m of msgs) t.same(parseFromAgent(encodeJson(m)), m, m.type);
});

t.test('the daemon never accepts a frame or a customer-only message from the agent', async (t) => {
  t.equal(codeOf(() => parseFromAgent(Uint8Array.from([APP_FRAME, 1, 2]))), 'RSO_ERR_PROTOCOL');
  t.equal(codeOf(() => parseFromAgent(raw('{"type":"state","view":{"kind":"screen"},"control":true,"paused":false}'))), 'RSO_ERR_PROTOCOL');
  t.equal(codeOf(() => parseFromCustomer(raw('{"type":"input","events":[{"t":"move","x":1,"y":1}]}'))), 'RSO_ERR_PROTOCOL');
});

t.test('malformed application messages get a stable code', async (t) => {
  const cases: Array<[string, Uint8Array, string]> = [
    ['empty', new Uint8Array(0), 'RSO_ERR_PROTOCOL'],
    ['unknown kind', Uint8Array.from([0x7f, 1]), 'RSO_ERR_PROTOCOL'],
    ['invalid UTF-8', Uint8Array.from([APP_JSON, 0xff, 0xfe]), 'RSO_ERR_PROTOCOL'],
    ['not JSON', raw('{"type":'), 'RSO_ERR_PROTOCOL'],
    ['unknown type', raw('{"type":"sudo"}'), 'RSO_ERR_PROTOCOL'],
    ['extra field', raw('{"type":"request","what":"view","also":"control"}'), 'RSO_ERR_PROTOCOL'],
    ['request of something else', raw('{"type":"request","what":"files"}'), 'RSO_ERR_PROTOCOL'],
    ['ready zero width', raw('{"type":"ready","width":0,"height":10,"seq":0}'), 'RSO_ERR_PROTOCOL'],
    ['ready huge', raw('{"type":"ready","width":99999,"height":10,"seq":0}'), 'RSO_ERR_PROTOCOL'],
    ['ready fractional', raw('{"type":"ready","width":10.5,"height":10,"seq":0}'), 'RSO_ERR_PROTOCOL'],
    ['no events', raw('{"type":"input","events":[]}'), 'RSO_ERR_PROTOCOL'],
    ['too many events', raw(JSON.stringify({ type: 'input', events: Array(65).fill({ t: 'move', x: 1, y: 1 }) })), 'RSO_ERR_PROTOCOL'],
    ['negative pointer', raw('{"type":"input","events":[{"t":"move","x":-1,"y":1}]}'), 'RSO_ERR_PROTOCOL'],
    ['bad key name', raw('{"type":"input","events":[{"t":"key","key":"a b","down":true,"mods":[]}]}'), 'RSO_ERR_PROTOCOL'],
    ['bad modifier', raw('{"type":"input","events":[{"t":"key","key":"a","down":true,"mods":["hyper"]}]}'), 'RSO_ERR_PROTOCOL'],
    ['escape in chat', raw('{"type":"chat","text":"\\u001b]0;pwned\\u0007"}'), 'RSO_ERR_PROTOCOL'],
    ['oversized', raw(JSON.stringify({ type: 'chat', text: 'x'.repeat(MAX_APP_JSON_BYTES) })), 'RSO_ERR_TOO_LARGE'],
  ];
  for (const [name, bytes, code] of cases) t.equal(codeOf(() => parseFromAgent(bytes)), code, name);
  t.equal(codeOf(() => parseFromCustomer(raw('{"type":"state","view":{"kind":"apps","apps":["a\\u001b[2J"]},"control":false,"paused":false}'))), 'RSO_ERR_PROTOCOL', 'escape in an app name');
  t.equal(codeOf(() => parseFromCustomer(raw('{"type":"state","view":{"kind":"screen","apps":[]},"control":false,"paused":false}'))), 'RSO_ERR_PROTOCOL', 'apps on a screen view');
});

t.test('duplicate modifiers collapse', async (t) => {
  const m = parseFromAgent(raw('{"type":"input","events":[{"t":"key","key":"a","down":true,"mods":["shift","shift"]}]}'));
  t.same(m, { type: 'input', events: [{ t: 'key', key: 'a', down: true, mods: ['shift'] }] });
});
