import t from 'tap';
import { checkRelayUrl, isLoopbackHost } from './relay-url.js';

t.test('loopback hosts', async (t) => {
  for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.8.9.10', '[::1]', '::1']) t.ok(isLoopbackHost(h), h);
  for (const h of ['relay.example.invalid', '128.0.0.1', '10.0.0.1', '[::2]', '127.0.0.1.nip.io', 'localhost.example.invalid', '0.0.0.0']) {
    t.notOk(isLoopbackHost(h), h);
  }
});

t.test('ws:// only to this machine unless insecure', async (t) => {
  t.equal(checkRelayUrl('ws://127.0.0.1:8443').host, '127.0.0.1:8443');
  t.equal(checkRelayUrl('ws://127.1:8443').hostname, '127.0.0.1'); // URL normalises the shorthand
  t.equal(checkRelayUrl('ws://[::1]:1/').hostname, '[::1]');
  t.equal(checkRelayUrl('ws://localhost/').hostname, 'localhost');
  t.throws(() => checkRelayUrl('ws://relay.example.invalid:8443'), { code: 'RSO_ERR_INSECURE' });
  t.throws(() => checkRelayUrl('ws://10.1.2.3'), { code: 'RSO_ERR_INSECURE' });
  t.equal(checkRelayUrl('ws://relay.example.invalid', true).hostname, 'relay.example.invalid');
  t.equal(checkRelayUrl('wss://relay.example.invalid').protocol, 'wss:');
});

t.test('other schemes, garbage and credentials are usage errors', async (t) => {
  t.throws(() => checkRelayUrl('https://relay.example.invalid'), { code: 'RSO_ERR_USAGE' });
  t.throws(() => checkRelayUrl('relay.example.invalid:8443'), { code: 'RSO_ERR_USAGE' });
  t.throws(() => checkRelayUrl('not a url'), { code: 'RSO_ERR_USAGE' });
  t.throws(() => checkRelayUrl('wss://user:pw@relay.example.invalid'), { code: 'RSO_ERR_USAGE' });
});
