// Brute force on session numbers against a real relay process, in small numbers (the full
// 100,000 are in bench/abuse-bruteforce.ts): the per-address join throttle holds, no waiting
// session is ever keyed by the attacker (a nameplate hit only costs the customer one counted
// failed confirmation, three burn the number), and honest pairings from another address still
// work during the attack. The relay runs --open: the attacker needs no agent account.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnRelay } from './helpers/relay.js';
import { attack, honestLoop, loopbackAddresses, waitingVictim, type Victim } from '../bench/abuse-lib.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const skip = existsSync(join(root, 'dist', 'cli', 'main.js')) ? false : 'run `npx tsc -p tsconfig.build.json` first';

t.test('one address: throttled after the burst, nothing guessed, honest pairings go on', { skip }, async (t) => {
  // 30 joins per minute per address (the default), burst 30.
  const relay = await spawnRelay(['--open']);
  t.teardown(() => relay.stop());
  const victims: Victim[] = [];
  for (let i = 0; i < 5; i++) victims.push(await waitingVictim(relay.url));
  t.teardown(() => victims.forEach((v) => v.stop()));
  const honest = honestLoop(relay.url, 300);
  const r = await attack({ url: relay.url, attempts: 1500, addresses: ['127.0.0.2'], concurrency: 50 });
  const h = await honest.stop();
  t.comment(`one address: ${JSON.stringify(r.outcomes)} in ${r.seconds.toFixed(1)} s; honest pairings ${h.times.length}, max ${Math.max(...h.times).toFixed(0)} ms`);
  t.equal(r.errors, 0, 'every attempt got an answer');
  // The burst, plus what refills at 0.5 per second while the attack runs.
  t.ok(r.accepted <= 30 + Math.ceil(r.seconds / 2) + 1, `${r.accepted} joins let through (burst 30 + refill)`);
  t.ok(r.refused >= 1500 - 30 - Math.ceil(r.seconds / 2) - 1, `${r.refused} refused with RSO_ERR_THROTTLED`);
  t.equal(r.keyed, 0, 'no secret guessed');
  t.equal(victims.filter((v) => v.established).length, 0, 'no waiting customer was keyed with anyone');
  // stop() waits for the pairing in flight: even on a fast machine one started during the attack.
  t.ok(h.times.length >= 1, `${h.times.length} honest pairings started during the attack completed`);
  t.same(h.failures, [], 'no honest pairing failed');
});

t.test('20 addresses: each throttled, hits cost counted failures and burn numbers, never a key', { skip }, async (t) => {
  const relay = await spawnRelay(['--open']);
  t.teardown(() => relay.stop());
  // Many waiting customers, so that the attacker's accepted joins do hit some nameplates.
  const victims: Victim[] = [];
  for (let i = 0; i < 30; i++) victims.push(await waitingVictim(relay.url));
  t.teardown(() => victims.forEach((v) => v.stop()));
  const honest = honestLoop(relay.url, 300);
  const r = await attack({ url: relay.url, attempts: 3000, addresses: loopbackAddresses(2, 20), concurrency: 100 });
  const h = await honest.stop();
  await new Promise((res) => setTimeout(res, 500));
  const failed = victims.reduce((n, v) => n + v.failedAttempts, 0);
  const burnt = victims.filter((v) => v.endedWith === 'RSO_ERR_BURNT').length;
  t.comment(`20 addresses: ${JSON.stringify(r.outcomes)} in ${r.seconds.toFixed(1)} s; victims: ${failed} failed confirmations, ${burnt} burnt; honest ${h.times.length} (${h.retries} retried after CROWDED), max ${Math.max(...h.times).toFixed(0)} ms`);
  t.equal(r.errors, 0, 'every attempt got an answer');
  t.ok(r.accepted <= 20 * (30 + Math.ceil(r.seconds / 2) + 1), `${r.accepted} joins let through: at most the burst per address`);
  t.ok(r.accepted >= 20 * 30 - 5, 'and each address did get its burst');
  const hits = r.outcomes.paired ?? 0;
  t.ok(hits > 0, `${hits} nameplate hits (the relay paired the attacker, who then guessed a secret)`);
  t.equal(r.keyed, 0, 'no secret guessed');
  t.equal(victims.filter((v) => v.established).length, 0, 'no waiting customer was keyed with anyone');
  // Every hit became a failed confirmation the customer's own client counted, and no number
  // took a fourth guess.
  t.ok(failed >= hits - 2 && failed <= hits, `customers counted ${failed} failed confirmations for ${hits} hits`);
  t.ok(victims.every((v) => v.failedAttempts <= 3), 'no number took more than three wrong guesses');
  t.ok(victims.filter((v) => v.failedAttempts === 3).every((v) => v.endedWith === 'RSO_ERR_BURNT'), 'three wrong guesses burn the number');
  // stop() waits for the pairing in flight: even on a fast machine one started during the attack.
  t.ok(h.times.length >= 1, `${h.times.length} honest pairings started during the attack completed`);
  t.same(h.failures, [], 'no honest pairing failed');
});
