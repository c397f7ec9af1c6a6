// Brute force on session numbers against one real relay process (the built CLI, --open so the
// attacker needs no account), the full figures: 100,000 join attempts from one address, then
// 100,000 from 100 addresses (127.0.0.2 ... 127.0.0.101), each against a fresh relay with
// waiting customers, while an honest customer and agent pair every 2 s from 127.0.0.1.
// Prints figures; never passes or fails. Run after `npx tsc -p tsconfig.build.json`:
//
//   ulimit -n 65536; npx tsx bench/abuse-bruteforce.ts
//
// RSO_BENCH_ATTEMPTS (default 100000), RSO_BENCH_VICTIMS (default 20), RSO_BENCH_CONCURRENCY (200).
import { spawnRelay, rssOf } from '../test/helpers/relay.js';
import { attack, honestLoop, loopbackAddresses, percentile, waitingVictim, type Victim } from './abuse-lib.js';

const ATTEMPTS = Number(process.env.RSO_BENCH_ATTEMPTS ?? 100_000);
const VICTIMS = Number(process.env.RSO_BENCH_VICTIMS ?? 20);
const CONCURRENCY = Number(process.env.RSO_BENCH_CONCURRENCY ?? 200);

async function run(label: string, addresses: string[]): Promise<void> {
  // Default join rate (30 per minute per address, burst 30): the relay as shipped.
  const relay = await spawnRelay(['--open']);
  try {
    const victims: Victim[] = [];
    for (let i = 0; i < VICTIMS; i++) victims.push(await waitingVictim(relay.url));
    const honest = honestLoop(relay.url, 2000);
    const r = await attack({ url: relay.url, attempts: ATTEMPTS, addresses, concurrency: CONCURRENCY });
    const h = await honest.stop();
    // Let the last failed confirmations reach the victims.
    await new Promise((res) => setTimeout(res, 500));
    const rss = rssOf(relay.proc.pid!);
    const established = victims.filter((v) => v.established !== null).length;
    const burnt = victims.filter((v) => v.endedWith === 'RSO_ERR_BURNT').length;
    const failed = victims.reduce((n, v) => n + v.failedAttempts, 0);
    console.log(`\n== ${label}: ${r.attempts} attempts from ${addresses.length} address(es), ${CONCURRENCY} in flight, ${VICTIMS} customers waiting`);
    console.log(`attempts: ${r.attempts} in ${r.seconds.toFixed(1)} s (${(r.attempts / r.seconds).toFixed(0)}/s)`);
    console.log(`accepted joins: ${r.accepted} (${(r.accepted / r.seconds).toFixed(1)}/s); refused RSO_ERR_THROTTLED: ${r.refused} (${(r.refused / r.seconds).toFixed(0)}/s); connection errors: ${r.errors}`);
    console.log(`answers: ${JSON.stringify(r.outcomes)}`);
    console.log(`nameplate hits (relay paired the attacker): ${r.outcomes.paired ?? 0}; secrets guessed (key confirmed): ${r.keyed}`);
    console.log(`waiting customers: ${established} established with anyone, ${failed} failed confirmations counted by them, ${burnt} numbers burnt (3 wrong guesses)`);
    console.log(`honest pairings during the attack: ${h.times.length} ok, ${h.failures.length} failed ${h.failures.length ? JSON.stringify(h.failures) : ''}, ${h.retries} joins retried after RSO_ERR_CROWDED (an attacker held that nameplate); time p50 ${percentile(h.times, 50).toFixed(0)} ms, max ${Math.max(...h.times).toFixed(0)} ms`);
    console.log(`relay RSS after: ${rss === null ? '?' : (rss / 1048576).toFixed(0)} MiB`);
    for (const v of victims) v.stop();
  } finally {
    await relay.stop();
  }
}

await run('one address', ['127.0.0.2']);
await run('100 addresses', loopbackAddresses(2, 100));
