// A small seeded fuzzer of our own: a PRNG, mutators for bytes, strings and JSON values, and a
// runner that feeds a parser many inputs and checks the three promises every parser of outside
// bytes makes: it only ever throws RsoError with one of its documented codes, each input costs a
// bounded time, and memory does not grow with the number of inputs.
//
// Seeded (not Math.random) so that a failure prints a seed and an index that reproduce it:
// FUZZ_SEED=<seed> npx tap test/fuzz-<name>.test.ts. FUZZ_SCALE=0.1 runs a tenth of the inputs.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Test } from 'tap';
import { RsoError, type ErrorCode } from '../../src/errors.js';

/** xorshift128+: fast, good enough for test inputs, and reproducible from one seed. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    // splitmix32 spreads a small seed over the whole state (an all-zero state would stick).
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
  }

  /** xoshiro128** step: a uniform u32. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Byte values that sit on boundaries of lengths, kinds and signs. */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x20];

/**
 * One to four stacked mutations of `input`: bit flips, interesting bytes, 16/32-bit fields set
 * to 0 or their maximum (length fields), truncation, extension, duplication of a slice,
 * deletion, splicing with another corpus entry, and random bytes. Never changes `input`.
 */
export function mutateBytes(rng: Rng, input: Uint8Array, corpus: readonly Uint8Array[] = []): Uint8Array {
  let b: Uint8Array = input.slice();
  const rounds = rng.range(1, 4);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(Math.max(1, b.length));
    switch (rng.int(12)) {
      case 0:
      case 1:
        if (b.length > 0) b[at] = b[at]! ^ (1 << rng.int(8));
        break;
      case 2:
        if (b.length > 0) b[at] = rng.pick(INTERESTING_BYTES);
        break;
      case 3: {
        // A u16 or u32 field (big-endian, like ours) set to 0, max or max-1.
        const n = rng.chance(0.5) ? 2 : 4;
        if (b.length >= n) {
          const p = rng.int(b.length - n + 1);
          const v = rng.pick([0x00, 0xff]);
          for (let i = 0; i < n; i++) b[p + i] = v;
          if (v === 0xff && rng.chance(0.3)) b[p + n - 1] = 0xfe;
        }
        break;
      }
      case 4:
        b = b.slice(0, rng.int(b.length + 1));
        break;
      case 5:
        b = concatBytes(b, rng.bytes(rng.range(1, 64)));
        break;
      case 6: {
        const start = rng.int(b.length + 1);
        const end = Math.min(b.length, start + rng.range(1, 64));
        b = concatBytes(b.subarray(0, end), b.subarray(start, end), b.subarray(end));
        break;
      }
      case 7: {
        const start = rng.int(b.length + 1);
        b = concatBytes(b.subarray(0, start), b.subarray(Math.min(b.length, start + rng.range(1, 16))));
        break;
      }
      case 8:
        if (corpus.length > 0) {
          const other = rng.pick(corpus);
          b = concatBytes(b.subarray(0, rng.int(b.length + 1)), other.subarray(rng.int(other.length + 1)));
        }
        break;
      case 9:
        b = rng.bytes(rng.int(2 * b.length + 2));
        break;
      case 10:
        if (b.length > 0) for (let i = rng.int(8); i >= 0; i--) b[rng.int(b.length)] = rng.u32() & 0xff;
        break;
      case 11:
        b = concatBytes(b.subarray(0, at), Uint8Array.of(rng.pick(INTERESTING_BYTES)), b.subarray(at));
        break;
    }
  }
  return b;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Strings that break naive parsers: control characters, escapes, surrogates, huge numbers. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  '\u0000',
  '\u001b[2J\u001b[H',
  '\u009b31m',
  '\u007f',
  '\ud800',
  '\udfff\ud800',
  '😀',
  '\u202e',
  '\ufeff',
  '０１２３４５６７８',
  '٣٤٥',
  '𝟗𝟖𝟕',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '1e309',
  '-0',
  'NaN',
  'Infinity',
  '9007199254740993',
  '0x10',
  '  ',
  '\t\n\r',
  '\\u0000',
  '"',
  '\\',
  '{',
  '[',
  'a'.repeat(300),
  'é'.repeat(2100),
];

/** JSON values a hostile peer might put where a field is expected. */
export function hostileValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(16)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -0, -1, 1, 0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, 5e-324, 0xffff, 0x10000, 16384, 16385, 0xffffffff]);
    case 3:
      return rng.pick(HOSTILE_STRINGS);
    case 4:
      return rng.range(-1000, 70_000);
    case 5:
      return [];
    case 6:
      return depth < 3 ? Array.from({ length: rng.int(4) }, () => hostileValue(rng, depth + 1)) : [];
    case 7:
      return {};
    case 8:
      return depth < 3 ? { [rng.pick(HOSTILE_STRINGS)]: hostileValue(rng, depth + 1) } : {};
    case 9:
      return randomString(rng, rng.int(40));
    case 10:
      return String(rng.range(0, 10 ** 9));
    case 11:
      return rng.pick(['agent', 'customer', 'view', 'control', 'screen', 'apps', 'none', 'left', 'move', 'key', 'text', 'shift', 'a', 'Return']);
    case 12:
      return Array.from({ length: rng.pick([63, 64, 65, 200]) }, () => ({ t: 'move', x: 1, y: 1 }));
    case 13:
      return 'x'.repeat(rng.pick([127, 128, 129, 199, 200, 201, 255, 256, 257, 511, 512, 513, 1999, 2000, 2001]));
    case 14:
      return rng.range(0, 1) === 0 ? 'A'.repeat(22) : 'A'.repeat(rng.pick([15, 16, 21, 23, 128, 129]));
    default:
      return undefined;
  }
}

/** Random text from a mix of ASCII, controls and wider Unicode (including lone surrogates). */
export function randomString(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    switch (rng.int(6)) {
      case 0:
        s += String.fromCharCode(rng.range(0, 0x1f));
        break;
      case 1:
        s += String.fromCharCode(rng.range(0x80, 0x9f));
        break;
      case 2:
        s += String.fromCharCode(rng.range(0xd800, 0xdfff));
        break;
      case 3:
        s += String.fromCodePoint(rng.range(0xa0, 0x10ffff));
        break;
      default:
        s += String.fromCharCode(rng.range(0x20, 0x7e));
    }
  }
  return s;
}

/**
 * A structural mutation of a JSON value: a field replaced by a hostile value, removed, added
 * (prototype keys included), the whole value wrapped or deeply nested. Returns a new value.
 */
export function mutateJson(rng: Rng, value: unknown): unknown {
  const v = structuredClone(value);
  const rounds = rng.range(1, 3);
  let out: unknown = v;
  for (let r = 0; r < rounds; r++) out = mutateOnce(rng, out);
  return out;
}

function mutateOnce(rng: Rng, v: unknown): unknown {
  const roll = rng.int(10);
  if (roll === 0) return hostileValue(rng);
  if (roll === 1) return deepNest(rng.pick([10, 100, 500]), rng.chance(0.5));
  if (typeof v !== 'object' || v === null) return rng.chance(0.5) ? hostileValue(rng) : v;
  // Pick a random object or array inside v, and change one of its entries.
  const containers: Array<Record<string, unknown> | unknown[]> = [];
  const walk = (x: unknown, depth: number): void => {
    if (typeof x !== 'object' || x === null || depth > 6) return;
    containers.push(x as Record<string, unknown>);
    for (const child of Object.values(x)) walk(child, depth + 1);
  };
  walk(v, 0);
  const c = rng.pick(containers);
  if (Array.isArray(c)) {
    if (c.length > 0 && rng.chance(0.6)) c[rng.int(c.length)] = hostileValue(rng);
    else if (rng.chance(0.5)) c.push(hostileValue(rng));
    else c.length = rng.int(c.length + 1);
    return v;
  }
  const keys = Object.keys(c);
  switch (rng.int(5)) {
    case 0:
    case 1:
      if (keys.length > 0) c[rng.pick(keys)] = hostileValue(rng);
      break;
    case 2:
      if (keys.length > 0) delete c[rng.pick(keys)];
      break;
    case 3:
      // Defined with defineProperty so that "__proto__" becomes an own key, as JSON.parse makes it.
      Object.defineProperty(c, rng.pick(HOSTILE_STRINGS.slice(13, 18)), { value: hostileValue(rng), enumerable: true, configurable: true, writable: true });
      break;
    case 4:
      c[randomString(rng, rng.range(1, 8))] = hostileValue(rng);
      break;
  }
  return v;
}

/** `[[[[...]]]]` or `{"a":{"a":...}}` nested `depth` deep, as text would be too slow to build by value. */
export function deepNest(depth: number, array: boolean): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v };
  return v;
}

/** Text-level JSON mutations: the things JSON.stringify never writes. */
export function mutateJsonText(rng: Rng, text: string): string {
  switch (rng.int(8)) {
    case 0:
      return text.slice(0, rng.int(text.length + 1));
    case 1: {
      const at = rng.int(text.length + 1);
      return text.slice(0, at) + rng.pick(['"__proto__":{"polluted":1},', ',', '}', ']', '"', '\\', '\u0000', ',"type":"open"', '1e999', '-', '\ud800', '{"a":', '[']) + text.slice(at);
    }
    case 2:
      // A duplicate key: JSON.parse keeps the last one.
      return text.replace(/^\{/, `{"type":${JSON.stringify(rng.pick(['hello', 'join', 'bye', 'open', 'x']))},`);
    case 3: {
      // Nesting far deeper than JSON.stringify could write without running out of stack.
      // 100,000 levels cost JSON.parse ~30 ms: rare enough to keep the suite fast, still present.
      const n = rng.int(50) === 0 ? 100_000 : rng.pick([100, 1000, 10_000]);
      return rng.chance(0.5) ? '['.repeat(n) + ']'.repeat(rng.chance(0.5) ? 0 : n) : '{"type":'.repeat(n) + '0' + '}'.repeat(n);
    }
    case 4:
      return text + ' '.repeat(rng.pick([1, 4096, 5000]));
    case 5:
      return text.replace(/[0-9]+/, rng.pick(['1e309', '-1', '1.5', '99999999999999999999999', '0x1', '00', '-0']));
    case 6:
      return new TextDecoder().decode(mutateBytes(rng, new TextEncoder().encode(text)));
    default:
      return JSON.stringify(mutateJson(rng, safeParse(text))) ?? '';
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface FuzzOptions<T> {
  name: string;
  /** How many inputs; scaled by FUZZ_SCALE. */
  count: number;
  seed?: number;
  generate: (rng: Rng, i: number) => T;
  /** Feeds one input; may return a value for `check`. */
  run: (input: T) => unknown;
  /** Codes the parser documents for bad input; any other throw is a finding. */
  codes: readonly ErrorCode[];
  /** Called with each accepted input and its result; throws (any Error) to report a broken property. */
  check?: (input: T, result: unknown) => void;
  /** Slowest single input allowed, ms (default 1 s: wall time, so a GC pause or a busy machine in a parallel test run must not count as a hang). */
  maxMsPerInput?: number;
}

export interface Finding {
  index: number;
  what: string;
  input: string;
}

export interface FuzzReport {
  name: string;
  seed: number;
  count: number;
  accepted: number;
  rejected: Partial<Record<ErrorCode, number>>;
  findings: Finding[];
  slowestMs: number;
  slowestIndex: number;
  totalMs: number;
  /** Heap after a forced GC, after the run minus before (bytes). */
  heapGrowth: number;
  /** The same for memory outside the JS heap (Buffers, zlib): bytes. */
  externalGrowth: number;
}

export const SCALE = Number(process.env.FUZZ_SCALE ?? '1') || 1;
export const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 0x5eed;

let gcFn: (() => void) | undefined;
/**
 * A real collection, so heap figures measure what is kept rather than what is not yet collected.
 * Asynchronous on purpose: native handles (zlib's) are released by cleanup that runs after the
 * collection, on the event loop; a synchronous measure counts them as a leak.
 */
export async function collect(): Promise<void> {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 4; i++) {
    gcFn();
    await new Promise((r) => setImmediate(r));
  }
}

function describe(input: unknown): string {
  if (input instanceof Uint8Array) return `${input.length} bytes: ${Buffer.from(input.subarray(0, 96)).toString('hex')}${input.length > 96 ? '…' : ''}`;
  const s = typeof input === 'string' ? input : JSON.stringify(input) ?? String(input);
  return `${s.length} chars: ${JSON.stringify(s.slice(0, 200))}${s.length > 200 ? '…' : ''}`;
}

export async function fuzz<T>(opts: FuzzOptions<T>): Promise<FuzzReport> {
  const seed = opts.seed ?? SEED;
  const rng = new Rng(seed);
  const count = Math.max(1, Math.round(opts.count * SCALE));
  const maxMs = opts.maxMsPerInput ?? 1000;
  const report: FuzzReport = { name: opts.name, seed, count, accepted: 0, rejected: {}, findings: [], slowestMs: 0, slowestIndex: -1, totalMs: 0, heapGrowth: 0, externalGrowth: 0 };
  const add = (index: number, what: string, input: T): void => {
    // Only the first few: one bug tends to show up thousands of times.
    if (report.findings.length < 10) report.findings.push({ index, what, input: describe(input) });
  };
  await collect();
  const memBefore = process.memoryUsage();
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    // Let the event loop turn now and then: native handles (zlib) are released there, as they
    // are between two messages in the real program.
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    const input = opts.generate(rng, i);
    const t0 = performance.now();
    let result: unknown;
    let threw: unknown;
    let ok = false;
    try {
      result = opts.run(input);
      ok = true;
    } catch (err) {
      threw = err;
    }
    const ms = performance.now() - t0;
    if (ms > report.slowestMs) {
      report.slowestMs = ms;
      report.slowestIndex = i;
    }
    if (ms > maxMs) add(i, `took ${ms.toFixed(1)} ms (bound ${maxMs})`, input);
    if (ok) {
      report.accepted++;
      if (opts.check) {
        try {
          opts.check(input, result);
        } catch (err) {
          add(i, `accepted but: ${err instanceof Error ? err.message : String(err)}`, input);
        }
      }
    } else if (threw instanceof RsoError && opts.codes.includes(threw.code)) {
      report.rejected[threw.code] = (report.rejected[threw.code] ?? 0) + 1;
    } else {
      const what = threw instanceof RsoError ? `RsoError ${threw.code} (${threw.detail ?? ''})` : `${(threw as Error)?.name ?? typeof threw}: ${(threw as Error)?.message ?? String(threw)}`;
      add(i, `threw ${what}`, input);
    }
  }
  report.totalMs = performance.now() - start;
  await collect();
  const memAfter = process.memoryUsage();
  report.heapGrowth = memAfter.heapUsed - memBefore.heapUsed;
  report.externalGrowth = memAfter.external + memAfter.arrayBuffers - memBefore.external - memBefore.arrayBuffers;
  return report;
}

/** One line for the test log and RELIABILITY.md. */
export function summary(r: FuzzReport): string {
  const rejected = Object.entries(r.rejected)
    .map(([k, v]) => `${k.replace('RSO_ERR_', '')} ${v}`)
    .join(', ');
  return `${r.name}: ${r.count} inputs (seed ${r.seed}) in ${(r.totalMs / 1000).toFixed(2)} s, accepted ${r.accepted}, rejected ${rejected || 'none'}; slowest ${r.slowestMs.toFixed(2)} ms; heap ${(r.heapGrowth / 1048576).toFixed(1)} MiB, external ${(r.externalGrowth / 1048576).toFixed(1)} MiB; findings ${r.findings.length}`;
}

/** Prototype pollution check: nothing a parser did may have added a property to Object.prototype. */
export function prototypeClean(): boolean {
  const probe = {} as Record<string, unknown>;
  return probe.polluted === undefined && Object.keys(Object.prototype).length === 0;
}

/** The assertions every fuzz test makes on its report. */
export function assertReport(t: Test, r: FuzzReport, opts: { maxHeapMiB?: number; minAccepted?: number; minRejected?: number } = {}): void {
  t.comment(summary(r));
  t.same(r.findings, [], `${r.name}: no crash other than a documented RsoError, no slow input`);
  const maxHeap = (opts.maxHeapMiB ?? 16) * 1048576;
  t.ok(r.heapGrowth < maxHeap, `${r.name}: heap grew ${(r.heapGrowth / 1048576).toFixed(1)} MiB over ${r.count} inputs (bound ${maxHeap / 1048576} MiB)`);
  t.ok(r.externalGrowth < maxHeap, `${r.name}: memory outside the heap grew ${(r.externalGrowth / 1048576).toFixed(1)} MiB (bound ${maxHeap / 1048576} MiB)`);
  const rejected = Object.values(r.rejected).reduce((a, b) => a + (b ?? 0), 0);
  // Guards against a generator that only ever makes valid input (or only garbage).
  t.ok(r.accepted >= Math.floor((opts.minAccepted ?? 0) * SCALE), `${r.name}: ${r.accepted} inputs accepted (the mutations keep some valid)`);
  t.ok(rejected >= Math.floor((opts.minRejected ?? 1) * SCALE), `${r.name}: ${rejected} inputs rejected`);
  t.ok(prototypeClean(), `${r.name}: Object.prototype untouched`);
}
