// A reader that stops reading must slow its sender down, not fill the relay's memory.
import t from 'tap';
import { pair, rssOf, spawnRelay } from './helpers/relay.js';

const MiB = 1024 * 1024;
const TOTAL = 200; // MiB sent towards a paused reader
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function chunk(i: number): Buffer {
  const b = Buffer.alloc(MiB, i % 251);
  b.writeUInt32BE(i, 0);
  return b;
}

t.test('a paused reader pauses its sender; relay memory stays bounded; everything arrives', { skip: rssOf(process.pid) === null ? 'needs /proc' : false }, async (t) => {
  const relay = await spawnRelay(['--open']);
  t.teardown(async () => void (await relay.stop()));
  const { opener: sender, joiner: reader } = await pair(relay.url, { role: 'agent' }, { role: 'customer' });
  // Warm up the forwarding path so the baseline includes ws's own buffers.
  for (let i = 0; i < 4; i++) sender.sendBinary(Buffer.alloc(MiB));
  for (let i = 0; i < 4; i++) await reader.nextBinary();
  await sleep(300);
  const baseline = rssOf(relay.proc.pid!)!;

  // Count what arrives ourselves instead of queueing 200 MiB in the helper.
  reader.ws.removeAllListeners('message');
  let received = 0;
  let expected = 0;
  let corrupt = 0;
  reader.ws.on('message', (data: Buffer) => {
    if (data.length !== MiB || data.readUInt32BE(0) !== expected || data[MiB - 1] !== expected % 251) corrupt++;
    expected++;
    received += data.length;
  });
  reader.ws.pause();

  let next = 0;
  let peak = baseline;
  const pumpFor = async (ms: number) => {
    const until = Date.now() + ms;
    while (next < TOTAL && Date.now() < until) {
      if (sender.ws.bufferedAmount < 4 * MiB) sender.ws.send(chunk(next++));
      else {
        peak = Math.max(peak, rssOf(relay.proc.pid!) ?? 0);
        await sleep(20);
      }
    }
  };
  await pumpFor(3000);
  peak = Math.max(peak, rssOf(relay.proc.pid!) ?? 0);
  const accepted = next * MiB - sender.ws.bufferedAmount;
  t.ok(next < TOTAL, `the sender stalled after handing over ${next} of ${TOTAL} MiB`);
  t.ok(accepted < 64 * MiB, `at most 64 MiB left the sender (${(accepted / MiB).toFixed(1)} MiB: socket buffers + relay queue)`);
  t.ok(peak - baseline < 48 * MiB, `relay RSS grew by ${((peak - baseline) / MiB).toFixed(1)} MiB (< 48 MiB)`);
  t.equal(received, 0, 'the paused reader read nothing');

  reader.ws.resume();
  const deadline = Date.now() + 60_000;
  while (next < TOTAL && Date.now() < deadline) await pumpFor(1000);
  while (received < TOTAL * MiB && Date.now() < deadline) await sleep(20);
  t.equal(received, TOTAL * MiB, 'every byte arrived once the reader read again');
  t.equal(corrupt, 0, 'in order and intact');
});
