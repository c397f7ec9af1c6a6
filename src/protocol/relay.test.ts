import t from 'tap';
import { RsoError } from '../errors.js';
import { encodeMessage, parseClientMessage, parseServerMessage, type ClientMessage, type ServerMessage } from './relay.js';
import { MAX_RELAY_MESSAGE_BYTES } from './version.js';

const TOKEN = 'A'.repeat(43);
const SID = 'abcdefghijklmnopqrstuv';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof RsoError ? err.code : `not RsoError: ${String(err)}`;
  }
  return 'no error';
}

t.test('valid client messages round-trip exactly', async (t) => {
  const messages: ClientMessage[] = [
    { type: 'hello', v: 1, role: 'customer' },
    { type: 'hello', v: 1, role: 'agent', token: TOKEN },
    { type: 'open' },
    { type: 'join', nameplate: '482' },
    { type: 'join', nameplate: '004821' },
    { type: 'resume', rid: '0123456789abcdef0123456789abcdef' },
    { type: 'keyed', ok: true, rid: '0123456789abcdef0123456789abcdef' },
    { type: 'keyed', ok: false },
    { type: 'bye' },
  ];
  for (const msg of messages) t.same(parseClientMessage(encodeMessage(msg)), msg, msg.type);
});

t.test('valid server messages round-trip exactly', async (t) => {
  const messages: ServerMessage[] = [
    { type: 'welcome', v: 1, relay: 'relay.example.com', open: false, agent: { id: 'anna', name: 'Anna Schmidt', org: 'ACME Support' } },
    { type: 'welcome', v: 1, relay: '127.0.0.1:8443', open: true, agent: null },
    { type: 'opened', nameplate: '482', ttl: 600 },
    { type: 'paired', sid: SID, peer: { role: 'customer' } },
    { type: 'paired', sid: SID, peer: { role: 'agent', agent: { id: 'anna', name: 'Anna Schmidt', org: 'ACME Support', verified: true } } },
    { type: 'peer-left', reason: 'wrong-code' },
    { type: 'error', code: 'RSO_ERR_CROWDED', message: 'Someone else already joined this session.' },
    { type: 'bye' },
  ];
  for (const msg of messages) t.same(parseServerMessage(encodeMessage(msg)), msg, msg.type);
});

t.test('malformed client messages are rejected with a stable code', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['not JSON', '{"type":', 'RSO_ERR_PROTOCOL'],
    ['array', '[1,2]', 'RSO_ERR_PROTOCOL'],
    ['null', 'null', 'RSO_ERR_PROTOCOL'],
    ['no type', '{"nameplate":"482"}', 'RSO_ERR_PROTOCOL'],
    ['unknown type', '{"type":"steal"}', 'RSO_ERR_PROTOCOL'],
    ['extra field', '{"type":"open","x":1}', 'RSO_ERR_PROTOCOL'],
    ['prototype key', '{"type":"open","__proto__":{"a":1}}', 'RSO_ERR_PROTOCOL'],
    ['nameplate too short', '{"type":"join","nameplate":"48"}', 'RSO_ERR_PROTOCOL'],
    ['nameplate letters', '{"type":"join","nameplate":"48a"}', 'RSO_ERR_PROTOCOL'],
    ['nameplate number', '{"type":"join","nameplate":482}', 'RSO_ERR_PROTOCOL'],
    ['resume without rid', '{"type":"resume"}', 'RSO_ERR_PROTOCOL'],
    ['rid in a failed keyed', '{"type":"keyed","ok":false,"rid":"0123456789abcdef0123456789abcdef"}', 'RSO_ERR_PROTOCOL'],
    ['bad rid in keyed', '{"type":"keyed","ok":true,"rid":"xyz"}', 'RSO_ERR_PROTOCOL'],
    ['rid too short', '{"type":"resume","rid":"0123456789abcdef0123456789abcde"}', 'RSO_ERR_PROTOCOL'],
    ['rid too long', '{"type":"resume","rid":"0123456789abcdef0123456789abcdef0"}', 'RSO_ERR_PROTOCOL'],
    ['rid upper case', '{"type":"resume","rid":"0123456789ABCDEF0123456789abcdef"}', 'RSO_ERR_PROTOCOL'],
    ['rid not hex', '{"type":"resume","rid":"0123456789abcdef0123456789abcdeg"}', 'RSO_ERR_PROTOCOL'],
    ['rid number', '{"type":"resume","rid":12345}', 'RSO_ERR_PROTOCOL'],
    ['rid with a newline', '{"type":"resume","rid":"0123456789abcdef0123456789abcdef\\n"}', 'RSO_ERR_PROTOCOL'],
    ['resume with a nameplate too', '{"type":"resume","rid":"0123456789abcdef0123456789abcdef","nameplate":"482"}', 'RSO_ERR_PROTOCOL'],
    ['role unknown', '{"type":"hello","v":1,"role":"admin"}', 'RSO_ERR_PROTOCOL'],
    ['version other', '{"type":"hello","v":2,"role":"agent"}', 'RSO_ERR_VERSION'],
    ['version string', '{"type":"hello","v":"1","role":"agent"}', 'RSO_ERR_PROTOCOL'],
    ['token short', '{"type":"hello","v":1,"role":"agent","token":"abc"}', 'RSO_ERR_PROTOCOL'],
    ['token charset', `{"type":"hello","v":1,"role":"agent","token":"${'a'.repeat(20)}!"}`, 'RSO_ERR_PROTOCOL'],
    ['keyed not boolean', '{"type":"keyed","ok":"yes"}', 'RSO_ERR_PROTOCOL'],
    ['oversized', JSON.stringify({ type: 'join', nameplate: '482', pad: 'x'.repeat(MAX_RELAY_MESSAGE_BYTES) }), 'RSO_ERR_TOO_LARGE'],
    // Multi-byte characters count by their bytes, not by UTF-16 units.
    ['oversized in bytes', JSON.stringify({ type: 'open', p: 'é'.repeat(MAX_RELAY_MESSAGE_BYTES / 2 + 1) }), 'RSO_ERR_TOO_LARGE'],
  ];
  for (const [name, raw, code] of cases) t.equal(codeOf(() => parseClientMessage(raw)), code, name);
});

t.test('malformed server messages are rejected: a hostile relay cannot paint the consent panel', async (t) => {
  const agent = (name: string) =>
    JSON.stringify({ type: 'paired', sid: SID, peer: { role: 'agent', agent: { id: 'anna', name, org: 'ACME', verified: true } } });
  t.equal(codeOf(() => parseServerMessage(agent('Anna\u001b[2J'))), 'RSO_ERR_PROTOCOL', 'escape sequence in a name');
  t.equal(codeOf(() => parseServerMessage(agent('Anna\u009b2J'))), 'RSO_ERR_PROTOCOL', 'C1 control in a name');
  t.equal(codeOf(() => parseServerMessage(agent('x'.repeat(129)))), 'RSO_ERR_PROTOCOL', 'name too long');
  t.equal(codeOf(() => parseServerMessage('{"type":"paired","sid":"short","peer":{"role":"customer"}}')), 'RSO_ERR_PROTOCOL', 'bad sid');
  t.equal(codeOf(() => parseServerMessage('{"type":"paired","sid":"' + SID + '","peer":{"role":"agent","agent":{"id":"anna","name":"A","org":"B"}}}')), 'RSO_ERR_PROTOCOL', 'agent without verified');
  t.equal(codeOf(() => parseServerMessage('{"type":"opened","nameplate":"482","ttl":-1}')), 'RSO_ERR_PROTOCOL', 'negative ttl');
  t.equal(codeOf(() => parseServerMessage('{"type":"peer-left","reason":"because"}')), 'RSO_ERR_PROTOCOL', 'unknown reason');
});

t.test('an unknown error code from a newer relay still reads as an error', async (t) => {
  const msg = parseServerMessage('{"type":"error","code":"RSO_ERR_FROM_THE_FUTURE","message":"Something new."}');
  t.same(msg, { type: 'error', code: 'RSO_ERR_PROTOCOL', message: 'Something new.' });
});
