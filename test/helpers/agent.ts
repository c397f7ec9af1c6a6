// A test agent: library code, no TUI. It pairs as the agent through the real client code,
// answers updates with `ready` (pull flow control) unless told to stop, rebuilds the customer's
// screen in an RGB framebuffer with applyUpdate, and records every message and update's bytes
// so tests can assert on exactly what crossed the wire.
import { openSession, joinSession, type CloseInfo, type SecureSession } from '../../src/client/session.js';
import type { SessionNumber } from '../../src/crypto/code.js';
import { createFramebuffer, type RgbFramebuffer } from '../../src/codec/framebuffer.js';
import { applyUpdate, decodeUpdate } from '../../src/codec/decode-update.js';
import type { Update } from '../../src/codec/update.js';
import { CodecHistory } from '../../src/codec/history.js';
import { encodeJson, parseFromCustomer, type AgentMessage, type CustomerMessage } from '../../src/protocol/app.js';

export interface RecordedUpdate {
  seq: number;
  /** The encoded update exactly as received (after decryption). */
  bytes: Uint8Array;
  update: Update;
  at: number;
}

export class TestAgent {
  readonly fb: RgbFramebuffer = createFramebuffer('rgb', 1, 1);
  /** The decoder's compression history (src/codec/history.ts), kept across updates like the viewer's. */
  readonly history = new CodecHistory();
  readonly updates: RecordedUpdate[] = [];
  readonly messages: CustomerMessage[] = [];
  closeInfo: CloseInfo | undefined;
  /** Answer every update with `ready` (default). Set false to play an agent that stopped reading. */
  autoReady = true;
  viewport: { width: number; height: number };
  private lastSeq = 0;
  /** The seq our last `ready` acknowledged. */
  private readySeq = 0;
  private waiters: Array<() => void> = [];

  private constructor(readonly session: SecureSession, viewport: { width: number; height: number }) {
    this.viewport = viewport;
    session.onMessage((data) => this.onData(data));
    session.onClose((info) => {
      this.closeInfo = info;
      this.wake();
    });
  }

  /** Agent-initiated: opens a session; `onNumber` gets the 9 digits to give `rso share`. */
  static async open(relay: string, token: string, onNumber: (digits: string) => void, viewport = { width: 4096, height: 4096 }): Promise<TestAgent> {
    const session = await openSession({ relay, role: 'agent', token, onOpened: (n) => onNumber(`${n.nameplate}${n.secret}`) });
    return new TestAgent(session, viewport);
  }

  /** Customer-initiated: joins the number the daemon shows. */
  static async join(relay: string, token: string, number: string | SessionNumber, viewport = { width: 4096, height: 4096 }): Promise<TestAgent> {
    const session = await joinSession({ relay, role: 'agent', token, number });
    return new TestAgent(session, viewport);
  }

  send(msg: AgentMessage): Promise<void> {
    return this.session.send(encodeJson(msg));
  }

  /** Tells the daemon our picture size and the last update drawn. */
  ready(viewport = this.viewport): Promise<void> {
    this.viewport = viewport;
    this.readySeq = this.lastSeq;
    return this.send({ type: 'ready', width: viewport.width, height: viewport.height, seq: this.lastSeq });
  }

  /**
   * The daemon is waiting for our `ready`: we hold an update we have not acknowledged. Until
   * then, pull flow control still allows the daemon one more update (our last ready asked for it).
   */
  get owesReady(): boolean {
    return this.lastSeq > this.readySeq;
  }

  frameBytes(since = 0): number {
    return this.updates.filter((u) => u.at >= since).reduce((n, u) => n + u.bytes.length, 0);
  }

  last<T extends CustomerMessage['type']>(type: T): Extract<CustomerMessage, { type: T }> | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i]!.type === type) return this.messages[i] as Extract<CustomerMessage, { type: T }>;
    return undefined;
  }

  async waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until no update arrived for `quietMs` (the screen settled and everything is drawn). */
  async settle(quietMs = 700, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lastAt = this.updates.at(-1)?.at ?? 0;
      if (Date.now() - lastAt >= quietMs && this.updates.length > 0) return;
      if (Date.now() > deadline) throw new Error('screen did not settle');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): Promise<void> {
    return this.session.close();
  }

  private onData(data: Uint8Array): void {
    const parsed = parseFromCustomer(data);
    if (parsed.kind === 'frame') {
      const update = decodeUpdate(parsed.update, this.history);
      applyUpdate(this.fb, update);
      this.updates.push({ seq: update.seq, bytes: parsed.update.slice(), update, at: Date.now() });
      this.lastSeq = update.seq;
      if (this.autoReady) void this.ready().catch(() => undefined);
    } else {
      this.messages.push(parsed.msg);
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
