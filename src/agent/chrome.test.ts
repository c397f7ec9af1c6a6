// The chrome never writes into the picture rows while the picture owns them, repaints only the
// rows that changed, and gives the rows back (placeholder) when the picture goes away.
import t from 'tap';
import { Chrome } from './chrome.js';
import { initialState, step, type ViewerState } from './state.js';
import { FOOTER_ROWS, HEADER_ROWS } from './ui/layout.js';

const COLS = 80;
const ROWS = 24;

/** The 1-based rows a chrome update writes to (every row write starts with CUP row;1H). */
function rowsWritten(bytes: string): number[] {
  return [...bytes.matchAll(/\x1b\[(\d+);1H/g)].map((m) => Number(m[1]));
}

function connected(): ViewerState {
  let s = initialState('open', 0);
  s = step(s, { type: 'opened', number: '482 913 705', ttlSeconds: 600, now: 0 }).state;
  s = step(s, { type: 'paired', verificationCode: '1234', now: 1 }).state;
  return s;
}

t.test('first paint covers every row; the picture rows only when there is no picture', async (t) => {
  const c = new Chrome();
  t.teardown(() => c.close());
  const all = rowsWritten(c.frame(connected(), COLS, ROWS, false));
  t.same(all, Array.from({ length: ROWS }, (_, i) => i + 1), 'all rows without a picture');
  const c2 = new Chrome();
  t.teardown(() => c2.close());
  const owned = rowsWritten(c2.frame(connected(), COLS, ROWS, true));
  const pictureRows = owned.filter((r) => r > HEADER_ROWS && r <= ROWS - FOOTER_ROWS);
  t.same(pictureRows, [], 'nothing in the picture rows while the picture owns them');
  t.same(owned, [1, 2, 3, ROWS], 'header and footer only');
});

t.test('only changed rows are rewritten', async (t) => {
  const c = new Chrome();
  t.teardown(() => c.close());
  const s = connected();
  c.frame(s, COLS, ROWS, true);
  t.equal(c.frame(s, COLS, ROWS, true), '', 'same state: no bytes');
  const busy = step(s, { type: 'message', msg: { type: 'info', host: 'pc-7', os: 'Debian', screen: { width: 10, height: 10 } }, bytes: 5000, now: 2 }).state;
  t.same(rowsWritten(c.frame(busy, COLS, ROWS, true)), [1, 2], 'host (row 1) and bandwidth (row 2) changed');
  t.match(c.frame({ ...busy, notice: { level: 'info', text: 'hello' } }, COLS, ROWS, true), /hello/);
});

t.test('when the picture goes away, the placeholder comes back into its rows', async (t) => {
  const c = new Chrome();
  t.teardown(() => c.close());
  const s = connected();
  c.frame(s, COLS, ROWS, true);
  const back = c.frame(s, COLS, ROWS, false);
  t.ok(rowsWritten(back).some((r) => r > HEADER_ROWS && r <= ROWS - FOOTER_ROWS), 'picture rows repainted');
  t.match(back, /has not shared their screen/);
});

t.test('a resize repaints everything at the new size', async (t) => {
  const c = new Chrome();
  t.teardown(() => c.close());
  const s = connected();
  c.frame(s, COLS, ROWS, true);
  t.same(rowsWritten(c.frame(s, 100, 30, true)), [1, 2, 3, 30]);
});
