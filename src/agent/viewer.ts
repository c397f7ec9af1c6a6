// The viewer's boss: wires the session (src/client), the state machine (state.ts), the chrome
// (chrome.ts: Ink, off-screen), the picture (picture.ts: framebuffer + renderer) and the
// terminal (terminal.ts). It decides nothing itself: events go into step(), effects come out
// and are performed here. All terminal output goes through one writer, in order, so a chrome
// repaint and a picture update can never interleave.
import { RsoError, toRsoError } from '../errors.js';
import { formatSessionNumber, parseSessionNumber, type SessionNumber } from '../crypto/code.js';
import { joinSession, openSession, type CloseInfo, type SecureSession } from '../client/session.js';
import { encodeJson, parseFromCustomer, type InputEvent } from '../protocol/app.js';
import { chooseGraphics, type GraphicsChoice, type GraphicsOption } from './graphics/detect.js';
import { Chrome } from './chrome.js';
import { Picture, createRenderer, type Area } from './picture.js';
import { initialState, isForwarding, isShared, keysNeedPrefix, step, waitKind, type ViewerEffect, type ViewerEvent, type ViewerState } from './state.js';
import type { TermInput } from './input/parse.js';
import { INITIAL_ROUTE, route, type RouteState } from './input/route.js';
import { InputPacer } from './input/pacer.js';
import { BEGIN_SYNC, END_SYNC, Terminal, type TerminalIO } from './terminal.js';
import { pictureArea } from './ui/layout.js';
import { SPINNER_INTERVAL_MS } from '../cli/spinner.js';

export interface ViewerOptions {
  relay: string;
  token: string;
  insecure?: boolean;
  /** Extra trusted CA (PEM) for wss:// (--ca / RSO_CA). */
  ca?: string;
  /** Join this session; without it a session is opened and its number shown. */
  number?: string;
  graphics?: GraphicsOption;
  io?: TerminalIO;
  env?: Readonly<Record<string, string | undefined>>;
  /** How long to wait for the terminal's answers to the capability queries. */
  detectTimeoutMs?: number;
  /** NO_COLOR: the chrome uses no colour (the picture is the customer's screen and keeps its colours). */
  noColor?: boolean;
}

/** How often the chrome may repaint: the header's figures change with every frame. */
const CHROME_INTERVAL_MS = 100;
const RESIZE_DEBOUNCE_MS = 60;
const CLOSE_GRACE_MS = 1500;
/** The clock ticks this often when nothing waits (countdown, stats); SPINNER_INTERVAL_MS while something does. */
const TICK_MS = 1000;

/**
 * Runs `rso connect` until the session ends. Resolves with the sentence to print after a normal
 * end; rejects with an RsoError otherwise. The terminal is restored before either.
 */
export function runViewer(opts: ViewerOptions): Promise<string> {
  return new Viewer(opts).run();
}

class Viewer {
  private readonly opts: ViewerOptions;
  private readonly terminal: Terminal;
  private readonly chrome: Chrome;
  private readonly abort = new AbortController();
  private state: ViewerState;
  private session: SecureSession | undefined;
  private picture: Picture | undefined;
  private choice: GraphicsChoice | undefined;
  /** True once the terminal is ours and the first screen is drawn. */
  private live = false;
  private takingOver: Promise<void> | undefined;
  private finished = false;
  private settle!: { resolve: (msg: string) => void; reject: (err: RsoError) => void };
  private inbound: Promise<void> = Promise.resolve();
  private tickTimer: NodeJS.Timeout | undefined;
  private tickEvery = 0;
  private chromeTimer: NodeJS.Timeout | undefined;
  private resizeTimer: NodeJS.Timeout | undefined;
  private lastChrome = 0;
  private routeState: RouteState = INITIAL_ROUTE;
  private readonly pacer = new InputPacer(Date.now());
  private paceTimer: NodeJS.Timeout | undefined;

  constructor(opts: ViewerOptions) {
    this.opts = opts;
    this.terminal = new Terminal(opts.io);
    this.chrome = new Chrome({ noColor: opts.noColor === true });
    this.state = initialState(opts.number !== undefined ? 'join' : 'open', Date.now());
  }

  run(): Promise<string> {
    const done = new Promise<string>((resolve, reject) => (this.settle = { resolve, reject }));
    this.connect().catch((err: unknown) => this.finish(toRsoError(err)));
    return done;
  }

  private async connect(): Promise<void> {
    // Everything that can be refused before touching the terminal is checked first, so those
    // errors leave the terminal exactly as it was: the number, then that there is a terminal.
    const number: SessionNumber | undefined = this.opts.number !== undefined ? parseSessionNumber(this.opts.number) : undefined;
    const io = this.opts.io ?? { stdin: process.stdin, stdout: process.stdout };
    if (!io.stdin.isTTY || !io.stdout.isTTY) {
      throw new RsoError('RSO_ERR_USAGE', 'rso connect needs a terminal: run it in a terminal window, not with its input or output redirected.', 'stdin or stdout is not a TTY');
    }
    const base = { relay: this.opts.relay, role: 'agent' as const, token: this.opts.token, insecure: this.opts.insecure === true, ...(this.opts.ca !== undefined ? { ca: this.opts.ca } : {}), signal: this.abort.signal };
    let session: SecureSession;
    if (number === undefined) {
      session = await openSession({
        ...base,
        onOpened: (n, ttl) => {
          this.takeOver();
          this.dispatch({ type: 'opened', number: formatSessionNumber(n), ttlSeconds: ttl, now: Date.now() });
        },
        onFailedAttempt: (_err, attemptsLeft) => this.dispatch({ type: 'failed-attempt', attemptsLeft, now: Date.now() }),
      });
    } else {
      // Joining is quick: pair first, so a wrong or expired number is reported on a terminal
      // that was never taken over.
      session = await joinSession({ ...base, number });
    }
    if (this.finished) {
      void session.close();
      return;
    }
    this.session = session;
    session.onClose((info) => this.onClosed(info));
    session.onResume((event) => {
      if (this.finished) return;
      if (event.type === 'resuming') this.dispatch({ type: 'resuming', now: Date.now() });
      else this.dispatch({ type: 'resumed', verificationCode: event.verificationCode, outageMs: event.outageMs, now: Date.now() });
    });
    this.takeOver();
    this.dispatch({ type: 'paired', verificationCode: session.verificationCode, now: Date.now() });
    await this.takingOver;
    if (this.finished) return;
    session.onMessage((data) => {
      // One message at a time, in order: a frame is drawn (and the terminal has taken it)
      // before the next is looked at, which is what makes `ready` real flow control.
      this.inbound = this.inbound.then(() => this.onData(data)).catch((err: unknown) => this.fail(toRsoError(err)));
    });
  }

  /** Raw mode, capability detection, alternate screen, first paint. Runs once. */
  private takeOver(): void {
    if (this.takingOver) return;
    this.takingOver = (async () => {
      const env = this.opts.env ?? process.env;
      this.terminal.start();
      this.terminal.onInput((t) => this.onTermInput(t));
      this.terminal.onResizeEvent(() => this.scheduleResize());
      this.terminal.setCleanup(() => this.picture?.cleanup() ?? '');
      const inTmux = Boolean(env['TMUX']);
      const caps = await this.terminal.detect({ tmux: inTmux, timeoutMs: this.opts.detectTimeoutMs ?? 1000 });
      if (this.finished) return;
      this.choice = chooseGraphics({ override: this.opts.graphics ?? 'auto', caps, env });
      this.terminal.enterScreen();
      this.picture = new Picture(createRenderer(this.choice.kind, { tmux: this.choice.tmux }), this.area());
      this.live = true;
      this.dispatch({ type: 'graphics', kind: this.choice.kind, reason: this.choice.reason });
      this.dispatch({ type: 'layout', ...this.picture.pixelSize(), now: Date.now() });
      this.retime();
      this.paintChrome();
    })().catch((err: unknown) => this.fail(toRsoError(err)));
  }

  /** A key, text or mouse report from the terminal: the router says whose it is. */
  private onTermInput(input: TermInput): void {
    if (this.finished) return;
    const geo = this.picture?.geometry();
    const screen = this.state.customer?.screen;
    const r = route(this.routeState, input, {
      forwarding: isForwarding(this.state),
      geometry: geo && screen ? { ...geo, screen } : undefined,
      pixels: this.terminal.pixelReports,
      prefixOnly: keysNeedPrefix(this.state, Date.now()),
    });
    const prefixChanged = r.state.prefix !== this.routeState.prefix;
    this.routeState = r.state;
    if (prefixChanged) this.dispatch({ type: 'prefix', on: r.state.prefix });
    if (r.events.length > 0) this.sendInput(this.pacer.push(r.events, input.kind === 'paste', Date.now()));
    for (const key of r.commands) this.dispatch({ type: 'key', key, now: Date.now() });
  }

  /** Input for the customer, now; a paste's rest follows at the customer's pace (pacer.ts). */
  private sendInput(events: InputEvent[]): void {
    if (events.length > 0) this.dispatch({ type: 'input', events });
    if (this.paceTimer !== undefined || this.finished) return;
    const wait = this.pacer.wait();
    if (wait === null) return;
    this.paceTimer = setTimeout(() => {
      this.paceTimer = undefined;
      this.sendInput(this.pacer.due(Date.now()));
    }, wait);
  }

  private area(): Area {
    const size = this.terminal.size();
    return { ...pictureArea(size.cols, size.rows), cellWidth: size.cellWidth, cellHeight: size.cellHeight };
  }

  private async onData(data: Uint8Array): Promise<void> {
    if (this.finished) return;
    const incoming = parseFromCustomer(data);
    if (incoming.kind === 'json') {
      this.dispatch({ type: 'message', msg: incoming.msg, bytes: data.length, now: Date.now() });
      return;
    }
    const { seq, out } = this.picture!.apply(incoming.update);
    this.writeSynced(out);
    await this.terminal.drained();
    this.dispatch({ type: 'frame', seq, bytes: data.length, now: Date.now() });
  }

  private dispatch(event: ViewerEvent): void {
    if (this.finished && event.type !== 'ended') return;
    let result;
    try {
      result = step(this.state, event);
    } catch (err) {
      this.fail(toRsoError(err));
      return;
    }
    this.state = result.state;
    // Control lost (F12, let go, a reconnect): what a paste still had waiting is dropped.
    if (!isForwarding(this.state) && this.pacer.waiting > 0) this.pacer.clear();
    this.retime();
    this.syncPicture();
    for (const effect of result.effects) this.perform(effect);
    this.scheduleChrome();
  }

  /** The picture shows exactly while the customer shares; the chrome owns the area otherwise. */
  private syncPicture(): void {
    if (!this.live || this.picture === undefined) return;
    // Mouse reporting and the kitty keyboard protocol exactly while input goes to the customer.
    this.terminal.setControlModes(isForwarding(this.state));
    const want = isShared(this.state) && !this.state.paused;
    if (want === this.picture.shown) return;
    if (want) {
      this.writeSynced(this.picture.show());
    } else {
      this.writeSynced(this.picture.hide());
      // The placeholder must come back now, not at the next chrome slot.
      this.chrome.invalidate();
    }
    this.paintChrome();
  }

  /**
   * The clock ticks fast enough for the spinner while something waits (the spinner itself is
   * drawn from state.waitSince and state.now), and once a second otherwise.
   */
  private retime(): void {
    if (!this.live || this.finished) return;
    const every = waitKind(this.state) === null ? TICK_MS : SPINNER_INTERVAL_MS;
    if (every === this.tickEvery && this.tickTimer !== undefined) return;
    clearInterval(this.tickTimer);
    this.tickEvery = every;
    this.tickTimer = setInterval(() => this.dispatch({ type: 'tick', now: Date.now() }), every);
  }

  private perform(effect: ViewerEffect): void {
    switch (effect.type) {
      case 'send':
        // A failed send shows up as the session's close, which ends the viewer.
        this.session?.send(encodeJson(effect.msg)).catch(() => {});
        break;
      case 'end':
        if (effect.error) this.finish(effect.error);
        else this.finish(undefined, effect.message);
        break;
    }
  }

  private onClosed(info: CloseInfo): void {
    if (this.finished) return;
    if (info.by === 'peer' && info.error === undefined) {
      this.finish(undefined, 'The customer ended the session.');
      return;
    }
    this.finish(info.error ?? new RsoError('RSO_ERR_PEER_LEFT', 'The connection to the customer was lost.', `closed by ${info.by}`));
  }

  private fail(err: RsoError): void {
    this.finish(err);
  }

  private finish(error?: RsoError, message?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.state = step(this.state, error ? { type: 'ended', error, now: Date.now() } : { type: 'ended', now: Date.now() }).state;
    for (const t of [this.tickTimer, this.chromeTimer, this.resizeTimer, this.paceTimer]) if (t !== undefined) clearTimeout(t);
    clearInterval(this.tickTimer);
    this.abort.abort(error ?? new RsoError('RSO_ERR_PEER_LEFT', 'The session was ended.', 'ended before pairing'));
    const closing = this.session
      ? Promise.race([this.session.close().catch(() => {}), new Promise<void>((r) => setTimeout(r, CLOSE_GRACE_MS).unref())])
      : Promise.resolve();
    void closing.then(() => {
      this.terminal.restore();
      this.chrome.close();
      if (error) this.settle.reject(error);
      else this.settle.resolve(message ?? 'Session ended.');
    });
  }

  private scheduleChrome(): void {
    if (!this.live || this.chromeTimer !== undefined || this.finished) return;
    const wait = Math.max(0, this.lastChrome + CHROME_INTERVAL_MS - Date.now());
    this.chromeTimer = setTimeout(() => {
      this.chromeTimer = undefined;
      this.paintChrome();
    }, wait);
  }

  private paintChrome(): void {
    if (!this.live || this.finished) return;
    this.lastChrome = Date.now();
    const size = this.terminal.size();
    this.writeSynced(this.chrome.frame(this.state, size.cols, size.rows, this.picture?.shown === true));
  }

  private scheduleResize(): void {
    if (this.resizeTimer !== undefined) clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => {
      this.resizeTimer = undefined;
      this.onResize();
    }, RESIZE_DEBOUNCE_MS);
  }

  private onResize(): void {
    if (!this.live || this.finished || this.picture === undefined) return;
    // Everything moves: start from a blank screen, repaint the chrome and the picture at the
    // new place, and tell the daemon the new size (the layout event sends `ready`).
    this.chrome.invalidate();
    this.writeSynced('\x1b[0m\x1b[2J' + this.picture.setArea(this.area()));
    this.paintChrome();
    this.dispatch({ type: 'layout', ...this.picture.pixelSize(), now: Date.now() });
  }

  private writeSynced(bytes: string): void {
    if (bytes === '') return;
    this.terminal.write(BEGIN_SYNC + bytes + END_SYNC);
  }
}
