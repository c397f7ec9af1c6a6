// The engineer's chrome under NO_COLOR (no colour SGR in any row, CONTROL still stands out) and
// the spinner next to what the engineer waits for (only after 300 ms, advancing with the clock).
import t from 'tap';
import { initialState, step, waitKind, type ViewerEvent, type ViewerState } from './state.js';

// Ink's colour library picks its level once, from this process's stdout, which is not a terminal
// under tap: force colours before Ink loads, as a real terminal would have them.
process.env['FORCE_COLOR'] = '3';
const { Chrome } = await import('./chrome.js');

const COLS = 100;
const ROWS = 30;

function run(events: ViewerEvent[], from: ViewerState = initialState('open', 0)): ViewerState {
  return events.reduce((s, e) => step(s, e).state, from);
}

const opened: ViewerEvent = { type: 'opened', number: '482 913 705', ttlSeconds: 600, now: 0 };
const paired: ViewerEvent = { type: 'paired', verificationCode: '1234', now: 10 };
const layout: ViewerEvent = { type: 'layout', width: 800, height: 600, now: 10 };
const shared: ViewerEvent = { type: 'message', msg: { type: 'state', view: { kind: 'screen' }, control: false, paused: false }, bytes: 10, now: 20 };
const control: ViewerEvent = { type: 'message', msg: { type: 'state', view: { kind: 'screen' }, control: true, paused: false }, bytes: 10, now: 30 };

/** Colour SGR parameters: 30-38 and 40-48 (foreground/background, 38/48 extended), 90-97, 100-107. */
function colourSgr(bytes: string): string[] {
  const found: string[] = [];
  for (const m of bytes.matchAll(/\x1b\[([\d;:]*)m/g)) {
    const params = (m[1] ?? '').split(/[;:]/).map(Number);
    if (params.some((p) => (p >= 30 && p <= 38) || (p >= 40 && p <= 48) || (p >= 90 && p <= 97) || (p >= 100 && p <= 107))) found.push(m[0]);
  }
  return found;
}

function paint(s: ViewerState, noColor: boolean): string {
  const c = new Chrome({ noColor });
  try {
    return c.frame(s, COLS, ROWS, false);
  } finally {
    c.close();
  }
}

function screens(): Array<[string, ViewerState]> {
  const connected = run([opened, layout, paired]);
  return [
    ['waiting', run([opened])],
    ['connected', connected],
    ['control', run([shared, control], connected)],
    ['forwarding footer', run([shared, control], connected)],
    ['warning notice', run([shared, control, { type: 'message', msg: { type: 'state', view: { kind: 'screen' }, control: false, paused: false }, bytes: 10, now: 40 }], connected)],
    ['ended with an error', run([{ type: 'ended', error: undefined, now: 50 }], connected)],
  ];
}

t.test('without NO_COLOR the chrome uses colour (so the check below can fail)', async (t) => {
  const byName = new Map(screens());
  t.not(colourSgr(paint(byName.get('waiting')!, false)).length, 0, 'the waiting screen is coloured');
  t.not(colourSgr(paint(byName.get('control')!, false)).length, 0, 'CONTROL is coloured');
});

t.test('NO_COLOR: no colour SGR on any screen; the words and their emphasis stay', async (t) => {
  for (const [name, s] of screens()) {
    const bytes = paint(s, true);
    t.same(colourSgr(bytes), [], `${name}: no colour`);
  }
  const byName = new Map(screens());
  const waiting = paint(byName.get('waiting')!, true);
  t.match(waiting, 'WAITING FOR CUSTOMER');
  t.match(waiting, 'Session number: 482 913 705');
  const ctl = paint(byName.get('control')!, true);
  // Inverse (7) with bold (1) around CONTROL: the alarm the red carried.
  t.match(ctl, /\x1b\[[\d;]*7[\d;]*m(?:\x1b\[[\d;]*m)* CONTROL /, 'CONTROL in inverse');
  t.match(ctl, 'CONTROL: your keys and mouse go to the customer.');
  const warn = paint(byName.get('warning notice')!, true);
  t.match(warn, /\x1b\[1m Control revoked by customer/, 'a warning notice is bold');
});

t.test('the spinner: waits only, after 300 ms, advancing every 100 ms', async (t) => {
  const waiting = run([opened]);
  t.equal(waitKind(waiting), 'waiting');
  t.equal(waiting.waitSince, 0, 'the wait began when the number came');
  const header = (s: ViewerState): string => {
    const c = new Chrome({ noColor: true });
    try {
      const first = c.frame(s, COLS, ROWS, false).split('\x1b[2;1H')[0] ?? '';
      return first.replace(/\x1b\[[\d;]*[A-Za-z]/g, '');
    } finally {
      c.close();
    }
  };
  const at = (ms: number): string => header(run([{ type: 'tick', now: ms }], waiting));
  t.match(at(299), /WAITING FOR CUSTOMER/);
  t.notMatch(at(299), /WAITING FOR CUSTOMER \S/, 'nothing before 300 ms');
  const g1 = /WAITING FOR CUSTOMER (\S)/.exec(at(300))?.[1];
  const g2 = /WAITING FOR CUSTOMER (\S)/.exec(at(399))?.[1];
  const g3 = /WAITING FOR CUSTOMER (\S)/.exec(at(400))?.[1];
  t.ok(g1, `a glyph at 300 ms (${g1})`);
  t.equal(g2, g1, 'the same one within 100 ms');
  t.ok(g3 && g3 !== g1, `the next one at 400 ms (${g3})`);

  // After pairing nothing waits, until the engineer asks for something.
  const connected = run([layout, paired, { type: 'tick', now: 5000 }], waiting);
  t.equal(waitKind(connected), null);
  t.notMatch(header(connected), /CONNECTED \S/);
  const asked = run([{ type: 'key', key: 'view', now: 6000 }], connected);
  t.equal(waitKind(asked), 'view-answer');
  t.equal(asked.waitSince, 6000, 'a new wait restarts the clock');
  t.notMatch(paint(run([{ type: 'tick', now: 6200 }], asked), true), /Waiting for their answer… \S/, 'not yet at 200 ms');
  t.match(paint(run([{ type: 'tick', now: 6350 }], asked), true), /Waiting for their answer… \S/, 'the answer wait spins');

  const resuming = run([shared, { type: 'resuming', now: 7000 }], connected);
  t.equal(waitKind(resuming), 'resuming');
  t.match(header(run([{ type: 'tick', now: 7500 }], resuming)), /RECONNECTING \S/, 'reconnecting spins');
  const resumed = run([{ type: 'resumed', verificationCode: '5678', outageMs: 600, now: 7600 }], resuming);
  t.equal(waitKind(resumed), null);
  t.match(header(resumed), / CONNECTED /);
});
