import t from 'tap';
import { parseNodeHello } from './node-protocol.js';

const good = { type: 'node-hello', role: 'agent', agent: { id: 'anna', name: 'Anna', org: 'Acme', verified: true }, remote: '10.0.0.9', relay: 'support.example.com' };

t.test('node-hello: exactly the expected shape', async (t) => {
  t.same(parseNodeHello(JSON.stringify(good)), good);
  t.same(parseNodeHello(JSON.stringify({ ...good, role: 'customer', agent: null })), { ...good, role: 'customer', agent: null });
  const bad: unknown[] = [
    'not json',
    '[]',
    { ...good, type: 'hello' },
    { ...good, role: 'admin' },
    { ...good, agent: null },
    { ...good, agent: { ...good.agent, verified: 'yes' } },
    { ...good, remote: 'x'.repeat(65) },
    { ...good, agent: { ...good.agent, name: 'n'.repeat(129) } },
  ];
  for (const b of bad) {
    t.throws(() => parseNodeHello(typeof b === 'string' ? b : JSON.stringify(b)), { code: 'RSO_ERR_PROTOCOL' }, JSON.stringify(b).slice(0, 60));
  }
  t.throws(() => parseNodeHello(' '.repeat(3000)), { code: 'RSO_ERR_PROTOCOL' }, 'too long');
});

t.test('node-hello: no control character in what reaches the consent panel', async (t) => {
  const base = { type: 'node-hello', role: 'agent', remote: '127.0.0.1', relay: 'relay.example.com', agent: { id: 'anna', name: 'Anna', org: 'ACME', verified: true } };
  t.ok(parseNodeHello(JSON.stringify(base)), 'the clean hello parses');
  for (const [field, value] of [['name', 'Anna\u001b[2J'], ['org', 'ACME\u009b1m'], ['id', 'an\u0007na']] as const) {
    const hello = { ...base, agent: { ...base.agent, [field]: value } };
    t.throws(() => parseNodeHello(JSON.stringify(hello)), { code: 'RSO_ERR_PROTOCOL' }, `control character in ${field}`);
  }
  t.throws(() => parseNodeHello(JSON.stringify({ ...base, relay: 'relay\u001b]0;x\u0007' })), { code: 'RSO_ERR_PROTOCOL' }, 'control character in relay');
});
