// bufferutil is an optional dependency: ws uses its native unmasking when it loads (about three
// times less relay CPU per byte forwarded, bench/relay-throughput.ts) and its own JavaScript
// otherwise (a platform without a prebuild). The relay must forward every byte exactly in both
// cases; and where a prebuild exists, the package must load from it without a compiler.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import t from 'tap';
import { pair, spawnRelay } from './helpers/relay.js';

const require = createRequire(import.meta.url);
/** Platforms bufferutil 4 ships prebuilds for; elsewhere ws falls back to JavaScript. */
const PREBUILT = ['linux-x64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-ia32'];
const platform = `${process.platform}-${process.arch}`;

t.test('bufferutil loads from its prebuild, where ws looks for it', { skip: PREBUILT.includes(platform) ? false : `no bufferutil prebuild for ${platform}` }, async (t) => {
  // Resolved from ws's own directory, as ws's require('bufferutil') does.
  const path = require.resolve('bufferutil', { paths: [dirname(require.resolve('ws'))] });
  const bu = require(path) as { unmask: (b: Buffer, m: Buffer) => void };
  t.match(String(bu.unmask), /\[native code\]/, 'the native unmask, not the JavaScript fallback');
  const data = Buffer.from('0123456789abcdef0123456789abcdef0123456789');
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const masked = Buffer.from(data.map((b, i) => b ^ mask[i & 3]!));
  bu.unmask(masked, mask);
  t.same(masked, data, 'unmasks');
});

/** Sizes around ws's native/JS switch (32 bytes) and the mask's 4-byte period. */
const SIZES = [1, 3, 31, 32, 33, 4095, 65_537, 1_048_576];

function payload(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

for (const [name, env] of [
  ['with bufferutil', {}],
  ['without bufferutil (WS_NO_BUFFER_UTIL=1)', { WS_NO_BUFFER_UTIL: '1' }],
] as const) {
  t.test(`relay ${name}: every byte arrives unchanged, both ways`, async (t) => {
    const relay = await spawnRelay(['--open'], { env });
    t.teardown(async () => void (await relay.stop()));
    const { opener, joiner } = await pair(relay.url, { role: 'agent' }, { role: 'customer' });
    for (const [i, size] of SIZES.entries()) {
      const ab = payload(size, i);
      opener.sendBinary(ab);
      t.ok((await joiner.nextBinary()).equals(ab), `${size} bytes agent -> customer`);
      const ba = payload(size, i + 100);
      joiner.sendBinary(ba);
      t.ok((await opener.nextBinary()).equals(ba), `${size} bytes customer -> agent`);
    }
    opener.close();
    joiner.close();
  });
}
