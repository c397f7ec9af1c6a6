// The customer daemon's boss: builds the machines (UI reducer, policy, frame flow) and wires
// them to the outside (the encrypted session, the capture backend, the window list, the
// panel). It decides nothing itself: every decision is a step of one of the pure machines, and
// this file only performs their effects and owns the clean exit.
//
// Order of consent, enforced here by construction: the display is not even opened before the
// customer accepted the engineer AND chose what to share; `openCaptureOnce` is only reachable
// from a share effect of the UI reducer. See docs/daemon.md.
import { appendFileSync } from 'node:fs';
import { hostname, release, type as osType } from 'node:os';
import { RsoError, toRsoError } from '../errors.js';
import { formatSessionNumber } from '../crypto/code.js';
import { joinSession, openSession, type CloseInfo, type ResumeEvent, type SecureSession } from '../client/session.js';
import { encodeFrame, encodeJson, parseFromAgent, type AgentMessage, type CustomerMessage, type ViewState } from '../protocol/app.js';
import type { Rect } from '../codec/framebuffer.js';
import { openCapture, type CaptureBackend, type Monitor } from './capture/backend.js';
import { queryMonitors } from './capture/monitors.js';
import { XConn } from './capture/xconn.js';
import { admit, INITIAL_POLICY, step as policyStep, type DecideContext, type Policy, type PolicyAction, type View } from './policy/policy.js';
import { INPUT_RATE, fullBucket, type Bucket } from './policy/rate.js';
import type { InputEvent } from '../protocol/app.js';
import { startInputHost, type InputHost } from './input/host.js';
import { listWindows } from './windows/list.js';
import { findPanelWindow, focusOnPanel, protectedRegion } from './windows/protected.js';
import { INITIAL_FRAMES, step as framesStep, FramesError, type FramesEffect, type FramesEvent, type FramesState } from './frames.js';
import { EncoderClosedError, FrameEncoder, type SentBatch } from './frame-encoder.js';
import { appKeyOf, readShared, type ShareTarget } from './shared-capture.js';
import { groupApps, watchWindows, type WindowWatcher } from './windows/list.js';
import { matchesApp, type AppSpec } from './windows/match.js';
import { initialUi, step as uiStep, type AppChoice, type Suggestion, type UiAction, type UiEffect, type UiState } from './ui/state.js';
import type { Panel } from './ui/panel.js';

export interface ShareOptions {
  relay: string;
  /** Join this session (the engineer read it out); without it, open one and show its number. */
  number?: string;
  insecure?: boolean;
  /** Extra trusted CA (PEM) for wss:// (--ca / RSO_CA). */
  ca?: string;
  /** `--share`: a suggestion the customer still confirms. */
  suggestion: { kind: 'screen' } | { kind: 'apps'; specs: AppSpec[] } | null;
  capture: 'auto' | 'x11' | 'screenshot-desktop';
  display?: string;
  monitor?: number;
  panel: Panel;
  /** Test and diagnostics channel: one JSON line per lifecycle event (never pixels or secrets). */
  debugFile?: string;
}

/** What the daemon tells the person after the panel is gone, and the exit status. */
export interface ShareOutcome {
  exitCode: number;
  message: string;
}

const CURSOR_POLL_MS = 100;
/** The portable backend reports no damage: poll it this often while sharing. */
const POLL_MS = 500;
const ENDED_TEXT = {
  declined: 'You declined. Nothing was shared.',
  customer: 'You ended the session.',
  peer: 'The support engineer ended the session.',
};

/** What the panel says when control ends other than by the engineer letting go. */
const REVOKE_TEXT = {
  f12: 'You took back control (F12).',
  panel: 'You took back control.',
  'host-exit': 'Control is off: the input helper stopped.',
};

export async function runShare(opts: ShareOptions): Promise<ShareOutcome> {
  const boss = new ShareBoss(opts);
  return boss.run();
}

class ShareBoss {
  private ui: UiState;
  private policy: Policy = INITIAL_POLICY;
  // Prepare-ahead: the next update is read and encoded while the agent draws the last one
  // (frames.ts; measured with bench/e2e-latency.ts, the fast-changing region).
  private frames: FramesState = { ...INITIAL_FRAMES, prepareAhead: true };
  /** The batch frames.ts holds until the agent's ready (prepare-ahead). */
  private heldBatch: SentBatch | null = null;
  private session: SecureSession | null = null;
  private capture: CaptureBackend | null = null;
  private capturing: Promise<CaptureBackend> | null = null;
  /** Packs and deflates on a thread of its own (frame-encoder.ts). */
  private encoder: FrameEncoder | null = null;
  private watcher: WindowWatcher | null = null;
  private regionConn: XConn | null = null;
  /** App key -> what the customer and the engineer read (from the last listing). */
  private appNames = new Map<string, { label: string; name: string }>();
  private lastRegion = '';
  private timers: NodeJS.Timeout[] = [];
  /** Timers that belong to the open capture (cursor poll, polling backends): stopped with it. */
  private captureTimers: NodeJS.Timeout[] = [];
  /** The monitor the open capture covers (undefined: the whole display). */
  private captureMonitor: number | undefined;
  /** Unsubscribes from the open capture's damage and loss reports. */
  private offCapture: (() => void)[] = [];
  private readonly abort = new AbortController();
  private finished = false;
  private resolveDone!: (o: ShareOutcome) => void;
  private readonly done = new Promise<ShareOutcome>((r) => (this.resolveDone = r));
  private droppedInputs = 0;
  private injectedInputs = 0;
  /** The input host (injector + F12 hook in a child process), from the first grant on. */
  private injector: InputHost | null = null;
  private injectorStarting: Promise<InputHost> | null = null;
  /** The X window of the terminal showing this panel (null: none on this display). */
  private panelWindow: number | null = null;
  private bucket: Bucket = fullBucket(INPUT_RATE, Date.now());
  /** Input messages are handled one after the other, in arrival order (see onInput). */
  private inputChain: Promise<void> = Promise.resolve();
  private readonly signalHandlers: Array<[NodeJS.Signals, () => void]> = [];

  constructor(private readonly opts: ShareOptions) {
    const suggestion: Suggestion = opts.suggestion === null ? null : opts.suggestion.kind === 'screen' ? { kind: 'screen' } : { kind: 'apps', names: opts.suggestion.specs.map((s) => s.name) };
    this.ui = initialUi({ joining: opts.number !== undefined, suggestion, policy: this.policy, now: Date.now() });
  }

  async run(): Promise<ShareOutcome> {
    this.opts.panel.onKey((key) => this.dispatch({ type: 'key', key }));
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const h = (): void => void this.finish('customer');
      process.on(sig, h);
      this.signalHandlers.push([sig, h]);
    }
    this.render();
    this.debug('start', { mode: this.opts.number !== undefined ? 'join' : 'open' });
    void this.pair();
    return this.done;
  }

  // ---- pairing -------------------------------------------------------------------------

  private async pair(): Promise<void> {
    const base = { relay: this.opts.relay, role: 'customer' as const, insecure: this.opts.insecure === true, ...(this.opts.ca !== undefined ? { ca: this.opts.ca } : {}), signal: this.abort.signal };
    let session: SecureSession;
    try {
      session =
        this.opts.number !== undefined
          ? await joinSession({ ...base, number: this.opts.number })
          : await openSession({
              ...base,
              onOpened: (n, ttl) => {
                const now = Date.now();
                // The clock the countdown is drawn against starts at the same instant as the expiry.
                this.dispatch({ type: 'tick', now });
                this.dispatch({ type: 'opened', number: formatSessionNumber(n), expiresAt: now + ttl * 1000 });
                this.every(1000, () => this.dispatch({ type: 'tick', now: Date.now() }));
              },
            });
    } catch (err) {
      // Cancelled by the customer while waiting: a normal end, not an error.
      if (this.finished) return;
      void this.fail(toRsoError(err));
      return;
    }
    if (this.finished) {
      void session.close();
      return;
    }
    this.session = session;
    this.clearTimers();
    const agent = session.peer.agent;
    this.debug('paired', { verified: agent?.verified === true });
    session.onMessage((data) => this.onPeerData(data));
    session.onClose((info) => this.onSessionClosed(info));
    session.onResume((event) => this.onResume(event));
    this.dispatch({
      type: 'paired',
      code: session.verificationCode,
      peer: agent ? { verified: agent.verified, name: agent.name, org: agent.org, relayName: session.relayName } : { verified: false, relayName: session.relayName },
    });
  }

  private onPeerData(data: Uint8Array): void {
    if (this.finished) return;
    let msg: AgentMessage;
    try {
      msg = parseFromAgent(data);
    } catch (err) {
      void this.fail(toRsoError(err));
      return;
    }
    switch (msg.type) {
      case 'ready':
        this.feedFrames({ type: 'ready', width: msg.width, height: msg.height, seq: msg.seq });
        return;
      case 'request':
        this.dispatch({ type: 'request', what: msg.what });
        return;
      case 'input': {
        const events = msg.events;
        this.inputChain = this.inputChain.then(() => this.onInput(events)).catch((err: unknown) => void this.fail(toRsoError(err)));
        return;
      }
      case 'chat':
        this.dispatch({ type: 'notice', text: `Engineer: ${msg.text}` });
        return;
      case 'bye':
        void this.finish('peer');
        return;
    }
  }

  /**
   * The relay connection dropped and the session resumes under fresh keys (docs/resume.md).
   * Control goes off at the first sign of trouble, as after any reconnect (DESIGN: a reconnect
   * resets control); what is shared stays shared; after the resume the engineer gets the state
   * and a full picture again, since whatever was sent during the outage is lost.
   */
  private onResume(event: ResumeEvent): void {
    if (this.finished) return;
    if (event.type === 'resuming') {
      this.debug('resuming');
      const hadControl = this.policy.control;
      if (hadControl) {
        this.policy = policyStep(this.policy, { type: 'revoke-control' });
        this.injector?.releaseAll();
        this.dispatch({ type: 'policy', policy: this.policy, sharedLabels: this.sharedLabels() });
      }
      // The panel shows the outage (with a spinner) until the session resumes or ends.
      this.dispatch({ type: 'link', up: false });
      if (hadControl) this.dispatch({ type: 'notice', text: 'Connection to the relay lost: control is off.' });
      return;
    }
    this.debug('resumed', { outageMs: event.outageMs, control: this.policy.control });
    this.dispatch({ type: 'link', up: true });
    this.dispatch({ type: 'notice', text: 'Connection to the relay lost — resumed; control is off.' });
    this.sendState();
    this.encoder?.resetAgent();
    this.feedFrames({ type: 'resync' });
  }

  private onSessionClosed(info: CloseInfo): void {
    if (this.finished) return;
    if (info.by === 'peer') void this.finish('peer');
    else void this.fail(info.error ?? new RsoError('RSO_ERR_PEER_LEFT', undefined, `closed by ${info.by}`));
  }

  // ---- UI ------------------------------------------------------------------------------

  private dispatch(action: UiAction): void {
    if (this.finished) return;
    const out = uiStep(this.ui, action);
    this.ui = out.state;
    this.render();
    for (const e of out.effects) void this.perform(e);
  }

  private render(): void {
    this.opts.panel.show(this.ui);
  }

  private async perform(effect: UiEffect): Promise<void> {
    try {
      switch (effect.type) {
        case 'quit':
          await this.finish('customer');
          return;
        case 'accept':
          this.debug('accepted');
          this.sendState();
          return;
        case 'decline':
          await this.finish('declined');
          return;
        case 'answer':
          this.send({ type: 'answer', request: effect.request, granted: effect.granted });
          return;
        case 'list-apps':
          await this.listApps();
          return;
        case 'list-monitors':
          await this.listMonitors();
          return;
        case 'share-screen':
          await this.applyPolicy(effect.monitor === undefined ? { type: 'share-screen' } : { type: 'share-screen', monitor: effect.monitor });
          return;
        case 'share-apps':
          await this.applyPolicy({ type: 'share-apps', apps: effect.keys });
          return;
        case 'pause':
          await this.applyPolicy({ type: 'pause' });
          return;
        case 'resume':
          await this.applyPolicy({ type: 'resume' });
          return;
        case 'grant-control':
          await this.grantControl();
          return;
        case 'revoke-control':
          this.revokeControl('panel');
          return;
      }
    } catch (err) {
      await this.fail(toRsoError(err));
    }
  }

  private async listApps(): Promise<void> {
    if (!this.watcher) {
      this.watcher = await watchWindows(this.opts.display !== undefined ? { display: this.opts.display } : {});
      // A window moved, raised, mapped or closed: what is shown may have changed without any
      // pixel of the damaged rectangles telling us, so the whole area is read again (the tile
      // diff keeps the wire cost to what really changed).
      this.watcher.onChange(() => {
        if (this.policy.view.kind === 'apps' && this.capture) this.feedFrames({ type: 'damage', rects: [{ x: 0, y: 0, w: this.capture.area.w, h: this.capture.area.h }] });
      });
    }
    const windows = await this.watcher.list();
    const apps = groupApps(windows.filter((w) => w.visible || w.hidden));
    this.appNames = new Map(apps.map((a) => [a.key, { label: a.label, name: a.class || 'application' }]));
    const choices: AppChoice[] = apps.map((a) => ({ key: a.key, label: a.label }));
    const s = this.opts.suggestion;
    const suggested = s?.kind === 'apps' ? [...new Set(windows.filter((w) => matchesApp(s.specs, w)).map((w) => appKeyOf(w)))] : [];
    this.dispatch({ type: 'apps-listed', apps: choices, suggested });
  }

  // ---- policy and capture --------------------------------------------------------------

  /**
   * With several monitors and no --monitor, the panel offers a choice when the customer shares
   * the screen. Asked when the customer first presses `s` (the display is not opened before
   * the customer chose to share); it reads geometry only (RandR/Xinerama), no pixel.
   */
  private async listMonitors(): Promise<void> {
    let list: Monitor[] = [];
    if (this.opts.monitor === undefined) {
      try {
        list = await queryMonitors(await this.xconn());
      } catch {
        // No X display to ask (the portable backend elsewhere): it shares its primary display.
      }
    }
    this.dispatch({ type: 'monitors-listed', monitors: list.map((m) => ({ index: m.index, label: `${m.width}x${m.height} at ${m.x},${m.y}`, primary: m.primary })) });
  }

  /** The monitor a view needs captured: the one chosen in the panel, else --monitor's (or all). */
  private monitorFor(view: View): number | undefined {
    return view.kind === 'screen' && view.monitor !== undefined ? view.monitor : this.opts.monitor;
  }

  private async applyPolicy(action: PolicyAction): Promise<void> {
    const next = policyStep(this.policy, action);
    let reopened = false;
    if (next.view.kind !== 'none') {
      const monitor = this.monitorFor(next.view);
      if (this.capturing && monitor !== this.captureMonitor) {
        await this.closeCapture();
        reopened = true;
      }
      await this.openCaptureOnce(monitor);
    }
    if (this.finished) return;
    const before = this.policy;
    this.policy = next;
    // Stopping the share also ends control (policy.ts): nothing may stay pressed.
    if (before.control && !next.control) this.injector?.releaseAll();
    this.dispatch({ type: 'policy', policy: next, sharedLabels: this.sharedLabels() });
    this.debug('policy', { view: next.view.kind, paused: next.paused });
    this.sendState();
    const on = next.view.kind !== 'none' && !next.paused;
    const wasOn = before.view.kind !== 'none' && !before.paused;
    if (!reopened && on && wasOn && JSON.stringify(before.view) !== JSON.stringify(next.view)) this.feedFrames({ type: 'region-changed' });
    else this.feedFrames({ type: 'share', on });
  }

  private sharedLabels(): string[] {
    const v = this.policy.view;
    return v.kind === 'apps' ? v.apps.map((k) => this.appNames.get(k)?.label ?? k) : [];
  }

  // ---- control -------------------------------------------------------------------------

  /**
   * The customer pressed y. The way out (F12) is armed before control exists: if no global
   * hook can be had, control is refused rather than granted without an exit.
   */
  private async grantControl(): Promise<void> {
    const capture = this.capture;
    if (this.policy.control || this.policy.view.kind === 'none' || !capture) {
      this.send({ type: 'answer', request: 'control', granted: this.policy.control });
      return;
    }
    let injector: InputHost;
    try {
      injector = this.injector ?? (await this.startInputHost(capture.area));
    } catch (err) {
      const e = toRsoError(err);
      this.debug('control-unavailable', { code: e.code });
      this.dispatch({ type: 'notice', text: `${e.message} Control was not given.` });
      this.send({ type: 'answer', request: 'control', granted: false });
      return;
    }
    // Found before control exists, so the first event is already checked against it.
    this.panelWindow ??= await this.findPanel();
    if (this.finished) return;
    const now: Policy = this.policy;
    if (now.control || now.view.kind === 'none' || this.injector !== injector) {
      // Sharing stopped, or the host ended, while the host started: nothing to grant.
      this.send({ type: 'answer', request: 'control', granted: this.policy.control });
      return;
    }
    injector.arm();
    this.bucket = fullBucket(INPUT_RATE, Date.now());
    this.policy = policyStep(this.policy, { type: 'grant-control' });
    this.debug('control-on', { injector: injector.name, hotkey: injector.hotkeyName, panelWindow: this.panelWindow !== null });
    this.dispatch({ type: 'policy', policy: this.policy, sharedLabels: this.sharedLabels() });
    this.send({ type: 'answer', request: 'control', granted: true });
    this.sendState();
  }

  /** Starts the input host once (concurrent grants share the start); it lives until the end. */
  private async startInputHost(area: Rect): Promise<InputHost> {
    this.injectorStarting ??= startInputHost(
      { ...(this.opts.display !== undefined ? { display: this.opts.display } : {}), origin: { x: area.x, y: area.y } },
      {
        onF12: () => this.revokeControl('f12'),
        onInjectFailed: (code) => this.debug('inject-failed', { code }),
        onExit: () => {
          this.injector = null;
          this.injectorStarting = null;
          this.revokeControl('host-exit');
        },
      },
    );
    try {
      const host = await this.injectorStarting;
      if (this.finished) host.close();
      else this.injector ??= host;
      return host;
    } catch (err) {
      this.injectorStarting = null;
      throw err;
    }
  }

  /**
   * F12 (reported by the input host, which has already stopped injecting), c in the panel, or
   * the host's end. The policy changes first, before any network step, so the next event that
   * reaches onInput is already denied; then held keys are released, and only then are the
   * panel and the engineer told.
   */
  private revokeControl(by: 'f12' | 'panel' | 'host-exit'): void {
    if (this.finished || !this.policy.control) return;
    this.policy = policyStep(this.policy, { type: 'revoke-control' });
    this.injector?.releaseAll();
    this.debug('control-off', { by, injected: this.injectedInputs });
    this.dispatch({ type: 'policy', policy: this.policy, sharedLabels: this.sharedLabels() });
    this.dispatch({ type: 'notice', text: REVOKE_TEXT[by] });
    this.sendState();
  }

  /**
   * Every event passes the gate (policy, then rate limit) at the moment it would be injected;
   * what is denied is dropped and counted, never kept for later.
   */
  private async onInput(events: InputEvent[]): Promise<void> {
    if (this.finished) return;
    const ctx = await this.decideContext(events);
    if (this.finished) return;
    let dropped = 0;
    let injected = 0;
    const reasons: Record<string, number> = {};
    for (const event of events) {
      const gate = admit(this.policy, this.bucket, event, ctx, Date.now());
      this.bucket = gate.bucket;
      let reason: string | null = gate.decision.allow ? null : gate.decision.reason;
      if (reason === null) {
        if (!this.injector) reason = 'no-injector';
        else {
          try {
            this.injector.inject(event);
            injected++;
          } catch (err) {
            // A key name outside the vocabulary: that event is dropped, the session goes on.
            reason = toRsoError(err).code === 'RSO_ERR_PROTOCOL' ? 'unknown-key' : 'inject-failed';
          }
        }
      }
      if (reason !== null) {
        dropped++;
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      }
    }
    this.injectedInputs += injected;
    this.droppedInputs += dropped;
    if (dropped > 0) this.debug('input-dropped', { total: this.droppedInputs, reasons });
    if (injected > 0) this.debug('input-injected', { total: this.injectedInputs });
  }

  /** What decide() needs to know about the desktop for these events (only asked when sharing apps). */
  private async decideContext(events: readonly InputEvent[]): Promise<DecideContext> {
    const area = this.capture?.area ?? { x: 0, y: 0 };
    const region = this.lastRegion === '' ? [] : (JSON.parse(this.lastRegion) as Rect[]);
    const pointInShared = (x: number, y: number): boolean => {
      const ax = area.x + x;
      const ay = area.y + y;
      return region.some((r) => ax >= r.x && ay >= r.y && ax < r.x + r.w && ay < r.y + r.h);
    };
    let focus = false;
    const typing = events.some((e) => e.t === 'key' || e.t === 'text');
    if (this.policy.control && this.policy.view.kind === 'apps' && typing) {
      focus = await this.focusInSharedApp().catch(() => false);
    }
    // The panel's window, read for every batch while control is on: a rectangle kept from an
    // earlier read would let a click through right after the customer moved the terminal.
    // When it cannot be read, everything is treated as protected (denied, never injected).
    let panelRegion: Rect[] = [];
    let panelFocus = false;
    let unreadable = false;
    const panel = this.panelWindow;
    if (this.policy.control && panel !== null) {
      try {
        const conn = await this.xconn();
        if (events.some((e) => e.t !== 'key' && e.t !== 'text')) panelRegion = protectedRegion(await listWindows(conn), panel);
        if (typing) panelFocus = await focusOnPanel(conn, panel);
      } catch {
        unreadable = true;
      }
    }
    const pointInProtected = (x: number, y: number): boolean => {
      const ax = area.x + x;
      const ay = area.y + y;
      return unreadable || panelRegion.some((r) => ax >= r.x && ay >= r.y && ax < r.x + r.w && ay < r.y + r.h);
    };
    return { pointInShared, focusShared: () => focus, pointInProtected, focusProtected: () => unreadable || panelFocus };
  }

  private async xconn(): Promise<XConn> {
    return this.regionConn ?? (this.regionConn = await XConn.open(this.opts.display));
  }

  /** The terminal window of this panel, when it is on the shared display (see windows/protected.ts). */
  private async findPanel(): Promise<number | null> {
    try {
      return await findPanelWindow(await this.xconn());
    } catch {
      // No X connection to be had: then the panel is not on this display either.
      return null;
    }
  }

  /** Whether the window with keyboard focus is (inside) a window of a shared application. */
  private async focusInSharedApp(): Promise<boolean> {
    const conn = await this.xconn();
    const target = this.target();
    if (target.kind !== 'apps') return true;
    const focus = await conn.req<{ focus: number }>('GetInputFocus');
    const chosen = new Set((await listWindows(conn)).filter((w) => target.isChosen(w)).map((w) => w.id));
    // Walk up from the focused window: the focus is often a child of the application's window.
    let wid = focus.focus;
    for (let depth = 0; depth < 32 && wid > 1 && wid !== conn.root; depth++) {
      if (chosen.has(wid)) return true;
      const tree = await conn.req<{ parent: number }>('QueryTree', wid);
      wid = tree.parent;
    }
    return false;
  }

  /**
   * Another monitor was chosen: the open capture stops (sharing off for the frame flow, a read
   * in progress finishes first so it never meets a closed connection) and is closed.
   */
  private async closeCapture(): Promise<void> {
    this.feedFrames({ type: 'share', on: false });
    for (let waited = 0; this.frames.busy && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    for (const t of this.captureTimers) clearInterval(t);
    this.captureTimers = [];
    for (const off of this.offCapture.splice(0)) off();
    const capture = this.capture;
    this.capture = null;
    this.capturing = null;
    const encoder = this.encoder;
    this.encoder = null;
    await encoder?.close();
    await capture?.close().catch(() => undefined);
  }

  /** Opens the display for reading. Only ever called after the customer chose what to share. */
  private openCaptureOnce(monitor: number | undefined): Promise<CaptureBackend> {
    if (this.capturing) return this.capturing;
    this.captureMonitor = monitor;
    this.capturing = (async () => {
      this.debug('capture-open', { backend: this.opts.capture, monitor: monitor ?? 'all' });
      const capture = await openCapture({
        backend: this.opts.capture,
        ...(this.opts.display !== undefined ? { display: this.opts.display } : {}),
        ...(monitor !== undefined ? { monitor } : {}),
      });
      if (this.finished) {
        await capture.close();
        throw new RsoError('RSO_ERR_INTERNAL', undefined, 'capture opened after the end');
      }
      this.capture = capture;
      // Control may be on across a change of monitor: the engineer's pointer follows the picture.
      this.injector?.setOrigin({ x: capture.area.x, y: capture.area.y });
      if (capture.name !== 'x11') this.regionConn ??= await XConn.open(this.opts.display).catch(() => null);
      const size = capture.size();
      this.encoder = new FrameEncoder(size);
      this.offCapture.push(
        capture.onDamage((rects) => this.feedFrames({ type: 'damage', rects })),
        // The customer's display is gone (X server stopped, session logged out): nothing more
        // can be shown or controlled, so the session ends and both sides are told why.
        capture.onLost((err) => void this.fail(err)),
      );
      if (!capture.damageDriven) this.captureTimers.push(setInterval(() => this.feedFrames({ type: 'damage', rects: [{ x: 0, y: 0, w: size.width, h: size.height }] }), POLL_MS));
      this.captureTimers.push(setInterval(() => void this.pollCursor(), CURSOR_POLL_MS));
      this.send({ type: 'info', host: hostname().slice(0, 128), os: `${osType()} ${release()}`.slice(0, 128), screen: size });
      this.feedFrames({ type: 'screen', width: size.width, height: size.height });
      return capture;
    })();
    return this.capturing;
  }

  private async pollCursor(): Promise<void> {
    const capture = this.capture;
    if (!capture || !this.frames.sharing || this.finished) return;
    const c = await capture.cursor().catch(() => null);
    if (!c || this.finished) return;
    let visible = true;
    if (this.policy.view.kind === 'apps') {
      // Only where the customer shares: the pointer over a hidden window is not the engineer's business.
      const region = this.lastRegion === '' ? [] : (JSON.parse(this.lastRegion) as Rect[]);
      const x = capture.area.x + c.x;
      const y = capture.area.y + c.y;
      visible = region.some((r) => x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h);
    }
    this.feedFrames({ type: 'cursor', x: c.x, y: c.y, visible });
  }

  private target(): ShareTarget {
    const view = this.policy.view;
    if (view.kind === 'apps') {
      const keys = new Set(view.apps);
      return { kind: 'apps', isChosen: (w) => keys.has(appKeyOf(w)) };
    }
    return { kind: 'screen' };
  }

  // ---- frames --------------------------------------------------------------------------

  private feedFrames(event: FramesEvent): void {
    if (this.finished) return;
    let out: ReturnType<typeof framesStep>;
    try {
      out = framesStep(this.frames, event);
    } catch (err) {
      const e = err instanceof FramesError ? new RsoError('RSO_ERR_PROTOCOL', undefined, err.message) : toRsoError(err);
      void this.fail(e);
      return;
    }
    this.frames = out.state;
    for (const e of out.effects) void this.performFrames(e);
  }

  private async performFrames(effect: FramesEffect): Promise<void> {
    if (effect.type === 'send-cursor') {
      this.send({ type: 'cursor', ...effect.cursor });
      return;
    }
    if (effect.type === 'drop-held') {
      // The agent will never get it: the encoder must not count on it (next read is full).
      this.heldBatch = null;
      this.encoder?.resetAgent();
      return;
    }
    if (effect.type === 'send-held') {
      const batch = this.heldBatch;
      this.heldBatch = null;
      if (!batch || batch.lastSeq !== effect.lastSeq) {
        await this.fail(new RsoError('RSO_ERR_INTERNAL', undefined, `held batch ${batch?.lastSeq ?? 'none'}, asked to send ${effect.lastSeq}`));
        return;
      }
      try {
        await this.sendBatch(batch);
      } catch (err) {
        if (!this.finished) await this.fail(toRsoError(err));
      }
      return;
    }
    let lastSeq: number | null = null;
    let regionChanged = false;
    try {
      const capture = this.capture!;
      const encoder = this.encoder!;
      const target = this.target();
      const read = await readShared(capture, effect.full ? 'full' : effect.rects, target, this.regionConn, {
        onRead: (n) => this.debug('read', { rects: n, full: effect.full, seq: effect.seq }),
      });
      // The customer changed the choice while we read: these pixels belong to the old choice.
      if (this.finished || this.frames.generation !== effect.generation) {
        this.feedFrames({ type: 'captured', generation: effect.generation, lastSeq: null });
        return;
      }
      const region = read.region === null ? '' : JSON.stringify(read.region);
      regionChanged = region !== this.lastRegion;
      this.lastRegion = region;
      const epoch = encoder.epoch;
      const batch = await encoder.encode(read.grabs, effect.out, effect.full ? 'full' : effect.rects, effect.seq);
      // Encoding takes its time on its own thread. If the agent's model was reset meanwhile (a
      // resume, a dropped held batch) or the choice changed, this batch continues a picture the
      // agent no longer has: it must not go out, and the encoder's model, which counts it as
      // sent, starts over too.
      if (this.finished || this.frames.generation !== effect.generation || encoder.epoch !== epoch || this.encoder !== encoder) {
        if (batch) encoder.resetAgent();
        this.feedFrames({ type: 'captured', generation: effect.generation, lastSeq: null });
        return;
      }
      if (batch) {
        lastSeq = batch.lastSeq;
        if (effect.hold) this.heldBatch = batch;
        else await this.sendBatch(batch);
      }
    } catch (err) {
      if (this.finished) return;
      if (err instanceof EncoderClosedError) {
        // The capture closed (sharing stopped) while this batch was encoded: nothing to send.
        this.feedFrames({ type: 'captured', generation: effect.generation, lastSeq: null });
        return;
      }
      const e = toRsoError(err);
      await this.fail(e.code === 'RSO_ERR_INTERNAL' ? new RsoError('RSO_ERR_CAPTURE', undefined, e.detail) : e);
      return;
    }
    this.feedFrames({ type: 'captured', generation: effect.generation, lastSeq, ...(effect.hold ? { held: true } : {}) });
    // Parts that were not re-read may now be covered or uncovered: read everything once more.
    if (regionChanged && !effect.full && this.capture) this.feedFrames({ type: 'damage', rects: [{ x: 0, y: 0, w: this.capture.area.w, h: this.capture.area.h }] });
  }

  /** Sends the updates of one batch in order; a failure ends the session (its close reports why). */
  private async sendBatch(batch: SentBatch): Promise<void> {
    for (const u of batch.updates) await this.session!.send(encodeFrame(u));
    this.debug('update', { seq: batch.lastSeq, tiles: batch.tiles, bytes: batch.updates.reduce((n, u) => n + u.length, 0) });
  }

  // ---- output --------------------------------------------------------------------------

  private viewState(): ViewState {
    const v = this.policy.view;
    if (v.kind === 'apps') return { kind: 'apps', apps: v.apps.map((k) => (this.appNames.get(k)?.name ?? 'application').slice(0, 128)) };
    return v.kind === 'screen' ? { kind: 'screen' } : { kind: 'none' };
  }

  private sendState(): void {
    this.send({ type: 'state', view: this.viewState(), control: this.policy.control, paused: this.policy.paused });
  }

  private send(msg: CustomerMessage): void {
    if (!this.session || this.finished) return;
    // A failed send means the session is ending; its close event reports why.
    this.session.send(encodeJson(msg)).catch(() => undefined);
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  private clearTimers(): void {
    for (const t of [...this.timers, ...this.captureTimers]) clearInterval(t);
    this.timers = [];
    this.captureTimers = [];
  }

  private debug(event: string, fields: Record<string, unknown> = {}): void {
    if (!this.opts.debugFile) return;
    try {
      appendFileSync(this.opts.debugFile, `${JSON.stringify({ event, t: Date.now(), ...fields })}\n`);
    } catch {
      // A diagnostics file that cannot be written must not end a support session.
    }
  }

  // ---- the end -------------------------------------------------------------------------

  private async fail(err: RsoError): Promise<void> {
    if (this.finished) return;
    this.debug('error', { code: err.code });
    await this.teardown({ type: 'bye', reason: err.code === 'RSO_ERR_NO_DISPLAY' ? 'display lost' : 'error' });
    this.resolveDone({ exitCode: err.exitCode, message: `rso: ${err.message} (${err.code})` });
  }

  private async finish(how: 'declined' | 'customer' | 'peer'): Promise<void> {
    if (this.finished) return;
    await this.teardown(how === 'peer' ? null : { type: 'bye', reason: how === 'declined' ? 'declined' : 'customer ended the session' });
    this.resolveDone({ exitCode: 0, message: ENDED_TEXT[how] });
  }

  /** Tells the peer (when it is still there), then frees every resource, each exactly once. */
  private async teardown(bye: CustomerMessage | null): Promise<void> {
    this.finished = true;
    this.clearTimers();
    this.abort.abort(new RsoError('RSO_ERR_PEER_LEFT', 'Cancelled.', 'cancelled by the customer'));
    for (const [sig, h] of this.signalHandlers) process.off(sig, h);
    // Control ends with the session: a next session starts view only, and nothing stays pressed.
    this.policy = policyStep(this.policy, { type: 'reset' });
    try {
      this.injector?.releaseAll();
    } catch {
      // The display may be gone already; nothing can be pressed on a display that is gone.
    }
    this.injector?.close();
    for (const off of this.offCapture.splice(0)) off();
    const session = this.session;
    if (session) {
      if (bye) await session.send(encodeJson(bye)).catch(() => undefined);
      await session.close().catch(() => undefined);
    }
    const capture = this.capture ?? (await this.capturing?.catch(() => null)) ?? null;
    await Promise.all([capture?.close(), this.encoder?.close(), this.watcher?.close(), this.regionConn?.close()].map((p) => p?.catch(() => undefined)));
    this.debug('exit', { droppedInputs: this.droppedInputs, injectedInputs: this.injectedInputs });
    this.opts.panel.destroy();
  }
}
