// readPanel against the panel's own renderer: if the customer's panel changes its words, the
// demo would press keys on the wrong screen, so these tests read what render() really prints.
import t from 'tap';
import { render } from '../daemon/ui/render.js';
import { initialUi, step, type UiState } from '../daemon/ui/state.js';
import { INITIAL_POLICY } from '../daemon/policy/policy.js';
import { readPanel } from './panel-text.js';

/** The panel's text without blessed tags, as tmux capture-pane returns it. */
function shown(state: UiState): string {
  return render(state).replace(/\{[^}]*\}/g, '');
}

const start = initialUi({ joining: false, suggestion: null, policy: INITIAL_POLICY, now: 0 });

t.test('connecting is "starting"', async (t) => {
  t.same(readPanel(shown(start)), { phase: 'starting' });
});

t.test('waiting: the number as shown', async (t) => {
  const s = step(start, { type: 'opened', number: '482 913 705', expiresAt: 600_000 }).state;
  t.same(readPanel(shown(s)), { phase: 'waiting', number: '482 913 705' });
});

t.test('consent: a verified agent by name and organisation; an unverified one is not verified', async (t) => {
  const waiting = step(start, { type: 'opened', number: '482 913 705', expiresAt: 600_000 }).state;
  const verified = step(waiting, { type: 'paired', peer: { verified: true, name: 'Demo Agent', org: 'rso demo', relayName: '127.0.0.1:4000' }, code: '1234' }).state;
  t.same(readPanel(shown(verified)), { phase: 'consent', verified: true, who: 'Demo Agent, rso demo' });
  const unverified = step(waiting, { type: 'paired', peer: { verified: false, relayName: '127.0.0.1:4000' }, code: '1234' }).state;
  t.same(readPanel(shown(unverified)), { phase: 'consent', verified: false, who: '' });
  // A name that only claims to be verified, inside an unverified banner, is still unverified.
  t.match(readPanel('UNVERIFIED Demo Agent, rso demo — verified by x\nLet this person connect?'), { phase: 'consent', verified: false });
});

t.test('accept leads to choose, s to sharing, and the end is "ended"', async (t) => {
  const waiting = step(start, { type: 'opened', number: '482 913 705', expiresAt: 600_000 }).state;
  const consent = step(waiting, { type: 'paired', peer: { verified: true, name: 'Demo Agent', org: 'rso demo', relayName: 'r' }, code: '1234' }).state;
  const accepted = step(consent, { type: 'key', key: 'enter' });
  t.same(readPanel(shown(accepted.state)), { phase: 'choose' });
  const sharing = step(accepted.state, { type: 'policy', policy: { ...INITIAL_POLICY, view: { kind: 'screen' } }, sharedLabels: [] }).state;
  t.same(readPanel(shown(sharing)), { phase: 'sharing' });
  const ended = step(sharing, { type: 'ended', message: 'The support engineer ended the session.' }).state;
  t.same(readPanel(shown(ended)), { phase: 'ended' });
});
