// A test customer for the viewer's tests: pairs through the real client library as the
// customer, says who it is, shares a synthetic screen when told to, and answers the viewer's
// `ready` with real frame updates made by src/codec (scaled to the asked size, 64x64 tiles,
// only what changed since the last update). It follows the pull flow control the daemon uses:
// at most one update per `ready`, changes in between are merged.
import { joinSession, openSession, type CloseInfo, type SecureSession } from '../../src/client/session.js';
import type { SessionNumber } from '../../src/crypto/code.js';
import {
  changedTiles,
  createFramebuffer,
  encodeTiles,
  encodeUpdate,
  fitWithin,
  scale,
  splitTiles,
  type BgrxFramebuffer,
  type Rect,
} from '../../src/codec/index.js';
import { fillBgrx } from '../../src/codec/synthetic.js';
import { MAX_RECORD_PLAINTEXT } from '../../src/protocol/version.js';
import { encodeFrame, encodeJson, parseFromAgent, type AgentMessage, type CustomerMessage, type ViewState } from '../../src/protocol/app.js';

export type Answer = 'grant' | 'decline' | 'ignore';

export interface TestCustomerOptions {
  /** The screen the customer has; default 320x200 dark grey. */
  screen?: BgrxFramebuffer;
  /** How to answer `request view`: grant shares the whole screen. */
  answerView?: Answer;
  host?: string;
  os?: string;
}

export class TestCustomer {
  readonly session: SecureSession;
  screen: BgrxFramebuffer;
  /** Everything the viewer sent, in order. */
  readonly received: AgentMessage[] = [];
  readonly sentSeqs: number[] = [];
  closeInfo: CloseInfo | undefined;
  private view: ViewState = { kind: 'none' };
  private answerView: Answer;
  private viewport: { width: number; height: number } | undefined;
  /** What the viewer has, at the viewport size (null: nothing yet). */
  private agentCopy: BgrxFramebuffer | null = null;
  private seq = 0;
  private acked = 0;
  private waiters: Array<() => void> = [];

  private constructor(session: SecureSession, opts: TestCustomerOptions) {
    this.session = session;
    this.screen = opts.screen ?? solidScreen(320, 200, 0x202020);
    this.answerView = opts.answerView ?? 'grant';
    session.onMessage((data) => this.onMessage(data));
    session.onClose((info) => {
      this.closeInfo = info;
      this.wake();
    });
    this.send({ type: 'info', host: opts.host ?? 'test-pc', os: opts.os ?? 'Debian GNU/Linux 12', screen: { width: this.screen.width, height: this.screen.height } });
    this.sendState();
  }

  static async join(relay: string, number: string | SessionNumber, opts: TestCustomerOptions = {}): Promise<TestCustomer> {
    const session = await joinSession({ relay, role: 'customer', number });
    return new TestCustomer(session, opts);
  }

  /** Opens a session as the customer; `onNumber` gets the 9 digits to give the viewer. */
  static async open(relay: string, onNumber: (digits: string) => void, opts: TestCustomerOptions = {}): Promise<TestCustomer> {
    const session = await openSession({ relay, role: 'customer', onOpened: (n) => onNumber(`${n.nameplate}${n.secret}`) });
    return new TestCustomer(session, opts);
  }

  /** Start (or change) sharing; `none` stops. */
  share(view: ViewState = { kind: 'screen' }): void {
    this.view = view;
    this.sendState();
    this.pump();
  }

  /** Paint a rectangle of the screen and send it when the viewer is ready. */
  fill(r: Rect, color: number): void {
    fillBgrx(this.screen, r, color);
    this.pump();
  }

  bye(reason: string): void {
    this.send({ type: 'bye', reason });
  }

  async close(): Promise<void> {
    await this.session.close();
  }

  /** Waits until `cond` holds (checked after every message and close). */
  async until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`test customer: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once the viewer acknowledged every update sent so far and nothing is pending. */
  async settled(timeoutMs = 10_000): Promise<void> {
    await this.until(() => this.acked === this.seq && this.viewport !== undefined && !this.dirty(), 'the viewer to acknowledge every update', timeoutMs);
  }

  get lastReady(): Extract<AgentMessage, { type: 'ready' }> | undefined {
    for (let i = this.received.length - 1; i >= 0; i--) {
      const m = this.received[i]!;
      if (m.type === 'ready') return m;
    }
    return undefined;
  }

  private send(msg: CustomerMessage): void {
    this.session.send(encodeJson(msg)).catch(() => {});
  }

  private sendState(): void {
    this.send({ type: 'state', view: this.view, control: false, paused: false });
  }

  private onMessage(data: Uint8Array): void {
    const msg = parseFromAgent(data);
    this.received.push(msg);
    if (msg.type === 'ready') {
      this.viewport = { width: msg.width, height: msg.height };
      this.acked = Math.max(this.acked, msg.seq);
      this.pump();
    } else if (msg.type === 'request' && msg.what === 'view') {
      if (this.answerView === 'grant') {
        this.send({ type: 'answer', request: 'view', granted: true });
        this.share({ kind: 'screen' });
      } else if (this.answerView === 'decline') {
        this.send({ type: 'answer', request: 'view', granted: false });
      }
    }
    this.wake();
  }

  private scaled(): BgrxFramebuffer | null {
    if (!this.viewport) return null;
    const size = fitWithin(this.screen.width, this.screen.height, this.viewport.width, this.viewport.height);
    const out = scale(this.screen, size.width, size.height);
    // scale() returns the source itself at 1:1; the copy kept as "what the agent has" must not alias it.
    return out === this.screen ? { ...out, data: out.data.slice() } : out;
  }

  private dirty(): boolean {
    if (this.view.kind === 'none') return false;
    const next = this.scaled();
    return next !== null && changedTiles(this.agentCopy, next).length > 0;
  }

  /** One update if the viewer has acknowledged the last one and something differs. */
  private pump(): void {
    if (this.view.kind === 'none' || this.acked !== this.seq || this.closeInfo) return;
    const next = this.scaled();
    if (!next) return;
    const tiles = encodeTiles(next, changedTiles(this.agentCopy, next));
    if (tiles.length === 0) return;
    const group = splitTiles(tiles, MAX_RECORD_PLAINTEXT - 1)[0]!;
    this.seq++;
    this.sentSeqs.push(this.seq);
    this.session.send(encodeFrame(encodeUpdate({ seq: this.seq, width: next.width, height: next.height, tiles: group }))).catch(() => {});
    // What the viewer will have: the previous copy (or black) with the sent tiles painted in.
    const copy = this.agentCopy && this.agentCopy.width === next.width && this.agentCopy.height === next.height ? this.agentCopy : createFramebuffer('bgrx', next.width, next.height);
    for (const t of group) {
      for (let y = t.y; y < t.y + t.h; y++) {
        const at = (y * next.width + t.x) * 4;
        copy.data.set(next.data.subarray(at, at + t.w * 4), at);
      }
    }
    this.agentCopy = copy;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export function solidScreen(width: number, height: number, color: number): BgrxFramebuffer {
  const fb = createFramebuffer('bgrx', width, height);
  fillBgrx(fb, { x: 0, y: 0, w: width, h: height }, color);
  return fb;
}

/** Four vertical stripes of known colours: red, green, blue, white. Easy to find in a screenshot. */
export const STRIPES = [0xff0000, 0x00ff00, 0x0000ff, 0xffffff] as const;

export function stripesScreen(width: number, height: number): BgrxFramebuffer {
  const fb = createFramebuffer('bgrx', width, height);
  const w = Math.floor(width / STRIPES.length);
  STRIPES.forEach((c, i) => fillBgrx(fb, { x: i * w, y: 0, w: i === STRIPES.length - 1 ? width - i * w : w, h: height }, c));
  return fb;
}
