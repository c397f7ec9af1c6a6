import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCa } from './ca.js';
import { shareOptions } from './share.js';

const dir = mkdtempSync(join(tmpdir(), 'rso-ca-'));
const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
writeFileSync(join(dir, 'ca.pem'), pem);
writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\n');

t.test('--ca wins over RSO_CA; neither means none', async (t) => {
  t.equal(readCa(undefined, {}), undefined);
  t.equal(readCa(undefined, { RSO_CA: '' }), undefined);
  t.equal(readCa(undefined, { RSO_CA: join(dir, 'ca.pem') }), pem);
  t.equal(readCa(join(dir, 'ca.pem'), { RSO_CA: '/nonexistent' }), pem);
  t.throws(() => readCa(join(dir, 'missing.pem'), {}), { code: 'RSO_ERR_CONFIG' });
  t.throws(() => readCa(join(dir, 'key.pem'), {}), { code: 'RSO_ERR_USAGE' }, 'not a certificate');
});

t.test('rso share passes the CA to the daemon', async (t) => {
  const opts = shareOptions(undefined, { relay: 'wss://relay.example.com', capture: 'auto' }, { RSO_CA: join(dir, 'ca.pem') });
  t.equal(opts.ca, pem);
  t.notOk('ca' in shareOptions(undefined, { relay: 'wss://relay.example.com', capture: 'auto' }, {}));
});
