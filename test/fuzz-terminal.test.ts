// Fuzz of the two parsers that read the engineer's terminal: the capability-reply parser
// (src/agent/graphics/detect.ts, replies mixed with typing) and the key/mouse parser
// (src/agent/input/parse.ts). Neither may throw on any input. Beyond that, both are streaming
// parsers, so the result may not depend on where the terminal's reads happened to split the
// bytes; and neither may hold back input without bound.
import t from 'tap';
import { ReplyParser, queries, type Reply } from '../src/agent/graphics/detect.js';
import { InputParser, type TermInput } from '../src/agent/input/parse.js';
import { assertReport, fuzz, randomString, type Rng } from './helpers/fuzz.js';

const REPLY_PIECES = [
  '\x1b_Gi=31;OK\x1b\\',
  '\x1b_Gi=31;ENOENT:bad\x1b\\',
  '\x1b_Gi=99999999999;OK\x1b\\',
  '\x1b[4;800;1280t',
  '\x1b[6;20;10t',
  '\x1b[8;40;128t',
  '\x1b[?1;0;256S',
  '\x1b[?2;0;1280;800S',
  '\x1b[?62;4;22c',
  '\x1b[?1;2c',
  '\x1b[A',
  '\x1b[1;5C',
  '\x1b[<0;10;20M',
  '\x1b[97;5u',
  '\x1bOP',
  '\x1b',
  '\x1b\x1b',
  '\x1b[',
  '\x1b_',
  '\x1b_G',
  '\x1b\\',
  '\x9b',
  'a',
  'q',
  'hello ',
  'é',
  '😀',
  '\r',
  '\x7f',
  '\x03',
  ';',
  '?',
  '0',
  '999999999999',
  '[',
  queries(),
];

function stream(rng: Rng): string {
  let s = '';
  const n = rng.range(1, 6);
  for (let i = 0; i < n; i++) {
    const roll = rng.int(12);
    if (roll < 9) s += rng.pick(REPLY_PIECES);
    else if (roll < 11) s += randomString(rng, rng.range(1, 8));
    else if (rng.chance(0.5)) s += '\x1b[' + '1;'.repeat(rng.pick([10, 40, 100]));
    else s += '\x1b_G' + 'x'.repeat(rng.pick([100, 511, 512, 513, 2000]));
  }
  return s;
}

/** The same stream cut into random chunks. */
function chunks(rng: Rng, s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const n = rng.range(1, 8);
    out.push(s.slice(i, i + n));
    i += n;
  }
  return out;
}

function replyRun(input: { whole: string; parts: string[] }): { replies: Reply[]; passthrough: string; held: number } {
  const p = new ReplyParser();
  const a = p.feed(input.whole);
  const heldWhole = p.flush();
  const q = new ReplyParser();
  const replies: Reply[] = [];
  let passthrough = '';
  let held = 0;
  for (const c of input.parts) {
    const r = q.feed(c);
    replies.push(...r.replies);
    passthrough += r.passthrough;
    held = Math.max(held, q.holding ? 1 : 0);
  }
  const heldParts = q.flush();
  if (JSON.stringify(a.replies) !== JSON.stringify(replies)) throw new Error('replies depend on how the input was split');
  if (a.passthrough + heldWhole !== passthrough + heldParts) throw new Error('passthrough depends on how the input was split');
  // Nothing is lost or invented: what is not a reply comes back, byte for byte.
  return { replies, passthrough: passthrough + heldParts, held: Math.max(heldWhole.length, heldParts.length) };
}

t.test('ReplyParser (terminal replies mixed with typing)', async (t) => {
  const r = await fuzz({
    name: 'terminal replies',
    count: 100_000,
    seed: 0x7e41,
    generate: (rng: Rng) => {
      const whole = stream(rng);
      return { whole, parts: chunks(rng, whole) };
    },
    run: replyRun,
    codes: [],
    check: (input, result) => {
      const { held } = result as ReturnType<typeof replyRun>;
      // MAX_APC (512) plus its introducer: a stray ESC _ never holds back more than that.
      if (held > 520) throw new Error(`${held} characters held back`);
      if (!input.whole.includes('\x1b') && (result as ReturnType<typeof replyRun>).passthrough !== input.whole) throw new Error('plain text was changed');
    },
  });
  assertReport(t, r, { minAccepted: 90_000, minRejected: 0 });
});

t.test('ReplyParser: bytes split inside a UTF-8 character', async (t) => {
  const p = new ReplyParser();
  const bytes = new TextEncoder().encode('é\x1b[?62;4c😀');
  let out = '';
  const replies: Reply[] = [];
  for (const b of bytes) {
    const r = p.feed(Uint8Array.of(b));
    out += r.passthrough;
    replies.push(...r.replies);
  }
  t.equal(out, 'é😀');
  t.same(replies, [{ type: 'da1', params: [62, 4] }]);
});

function inputRun(input: { whole: string; parts: string[] }): TermInput[] {
  const p = new InputParser();
  const whole = [...p.feed(input.whole), ...p.flush()];
  const q = new InputParser();
  const split: TermInput[] = [];
  for (const c of input.parts) split.push(...q.feed(c));
  split.push(...q.flush());
  const same = JSON.stringify(mergeText(split)) === JSON.stringify(mergeText(whole));
  return mergeText(whole).concat(same ? [] : [{ kind: 'text', text: '\u0000split-differs' }]);
}

/** Adjacent text tokens joined: a chunk boundary may split one text run into two tokens. */
function mergeText(list: TermInput[]): TermInput[] {
  const out: TermInput[] = [];
  for (const tok of list) {
    const last = out.at(-1);
    if (tok.kind === 'text' && last?.kind === 'text') out[out.length - 1] = { kind: 'text', text: last.text + tok.text };
    else out.push(tok);
  }
  return out;
}

t.test('InputParser (keys and mouse from the engineer\'s terminal)', async (t) => {
  let splitDiffers = 0;
  let example = '';
  const r = await fuzz({
    name: 'terminal input',
    count: 100_000,
    seed: 0x7e42,
    generate: (rng: Rng) => {
      const whole = stream(rng);
      return { whole, parts: chunks(rng, whole) };
    },
    run: inputRun,
    codes: [],
    check: (input, result) => {
      const toks = result as TermInput[];
      if (toks.some((x) => x.kind === 'text' && x.text === '\u0000split-differs')) {
        splitDiffers++;
        example ||= JSON.stringify(input.whole).slice(0, 120);
      }
      for (const x of toks) {
        if (x.kind === 'text' && /[\u0000-\u001f\u007f]/.test(x.text) && x.text !== '\u0000split-differs') throw new Error('control character inside a text token');
      }
    },
  });
  assertReport(t, r, { minAccepted: 90_000, minRejected: 0 });
  t.equal(splitDiffers, 0, `the tokens do not depend on how the input was split${example ? ` (e.g. ${example})` : ''}`);
});
