// State in, text out: the panel's content as blessed-tagged text. Pure, so what the customer
// reads (and which keys are offered) is unit-tested without a terminal. Every string that came
// from the other side or from another program (names, titles, chat) passes through `esc` so it
// cannot open a blessed tag or a terminal escape.
import type { UiState } from './state.js';
import { spinnerGlyph } from '../../cli/spinner.js';

export interface RenderOptions {
  /**
   * NO_COLOR (https://no-color.org): no colour tag at all. What colour stressed (UNVERIFIED,
   * CONTROL ON, the control prompt) keeps its weight through words, bold and inverse.
   */
  noColor?: boolean;
  /**
   * The wait on screen (see waitKind) began at `since`; `now` is the clock to draw it at. The
   * panel keeps both because the session stops ticking once paired; render stays a pure function.
   */
  wait?: { since: number; now: number };
}

/**
 * Which wait the customer is looking at, or null when nothing is pending: a change of kind
 * restarts the spinner's clock.
 */
export function waitKind(state: UiState): string | null {
  // Whatever else is on screen, a lost relay connection is what the customer waits for.
  if (state.reconnecting && state.phase.name !== 'ended') return 'reconnecting';
  switch (state.phase.name) {
    case 'connecting':
      return state.phase.joining ? 'joining' : 'connecting';
    case 'waiting':
      return 'waiting';
    case 'loading-apps':
      return 'loading-apps';
    case 'loading-monitors':
      return 'loading-monitors';
    default:
      return null;
  }
}

/** Blessed tags for the styles the panel uses; with NO_COLOR, colour tags become emphasis or nothing. */
function styles(noColor: boolean) {
  const fg = (color: string, text: string): string => (noColor ? text : `{${color}-fg}${text}{/${color}-fg}`);
  return {
    fg,
    /** Secondary text (key hints, notices): grey, or plain. */
    dim: (text: string): string => fg('gray', text),
    /** A banner that must not be missed: white on red, or inverse bold. */
    alarm: (text: string): string => (noColor ? `{inverse}{bold}${text}{/bold}{/inverse}` : `{red-bg}{white-fg}{bold}${text}{/bold}{/white-fg}{/red-bg}`),
    /** A warning sentence: red, or bold. */
    warn: (text: string): string => (noColor ? `{bold}${text}{/bold}` : `{red-fg}${text}{/red-fg}`),
  };
}

/** Removes control characters and neutralises blessed tags in untrusted text. */
export function esc(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

export function formatCountdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function who(state: UiState): string {
  const p = state.peer;
  if (!p) return 'the engineer';
  return p.verified && p.name ? esc(p.name) : 'the engineer';
}

export function render(state: UiState, opts: RenderOptions = {}): string {
  const st = styles(opts.noColor === true);
  // The glyph goes after the sentence it belongs to, with a space even before it appears, so
  // the sentence does not move when the spinner starts.
  const glyph = opts.wait !== undefined && waitKind(state) !== null ? spinnerGlyph(opts.wait.since, opts.wait.now) : '';
  const spin = (text: string): string => (glyph === '' ? text : `${text} ${glyph}`);
  const lines: string[] = ['{bold}rso — remote support{/bold}', ''];
  const phase = state.phase;
  if (state.reconnecting && phase.name !== 'ended') {
    // The phase's own wait (if any) has no glyph meanwhile: one spinner, on the wait that matters.
    lines.push(st.warn(spin('Connection to the relay lost — reconnecting…')), '');
  }
  const spinPhase = (text: string): string => (state.reconnecting ? text : spin(text));
  switch (phase.name) {
    case 'connecting':
      lines.push(spinPhase(phase.joining ? 'Joining the session…' : 'Connecting to the relay…'), '', st.dim('Esc or q: cancel'));
      break;
    case 'waiting':
      lines.push(
        `Your session number: {bold}${esc(phase.number)}{/bold}`,
        '',
        'Read this number to the support engineer on the phone.',
        `It expires in ${formatCountdown(phase.expiresAt - state.now)}.`,
        '',
        spinPhase('Waiting for the engineer to join…'),
        '',
        st.dim('Esc or q: cancel'),
      );
      break;
    case 'consent': {
      const p = phase.peer;
      if (p.verified && p.name) {
        lines.push(`{bold}${esc(p.name)}, ${esc(p.org ?? '')}{/bold} — verified by ${esc(p.relayName)}`);
      } else {
        lines.push(`${st.alarm(' UNVERIFIED ')} ${st.warn(`The relay ${esc(p.relayName)} does not vouch for who is connecting.`)}`);
        lines.push(st.warn('Only accept if you started this session with someone you trust.'));
      }
      lines.push(
        '',
        `Verification code: {bold}${esc(phase.code)}{/bold}  (the engineer sees the same 4 digits)`,
        '',
        'Let this person connect? Nothing is shown until you choose what to share.',
        '',
        '{bold}Enter{/bold}: accept    {bold}Esc{/bold}: decline',
      );
      break;
    }
    case 'choose':
      lines.push(`Connected to ${who(state)}. {bold}Nothing is shared yet.{/bold}`, '');
      if (state.suggestion?.kind === 'screen') lines.push('The support page suggests sharing your whole screen. {bold}Enter{/bold}: confirm', '');
      lines.push('{bold}s{/bold}: share the whole screen', '{bold}a{/bold}: choose applications to share', '{bold}q{/bold}: end the session');
      break;
    case 'loading-apps':
      lines.push(spinPhase('Listing your applications…'), '', st.dim('Esc: back'));
      break;
    case 'picker':
      lines.push('Choose the applications to share (only they will be visible):', '');
      if (phase.apps.length === 0) lines.push(st.dim('No application windows are open.'));
      phase.apps.forEach((app, i) => {
        const mark = phase.selected.includes(app.key) ? '[x]' : '[ ]';
        const line = `${mark} ${esc(app.label)}`;
        lines.push(i === phase.cursor ? `{inverse}> ${line}{/inverse}` : `  ${line}`);
      });
      lines.push('', '{bold}Up/Down{/bold}: move   {bold}Space{/bold}: select   {bold}Enter{/bold}: share the selection   {bold}Esc{/bold}: back   {bold}q{/bold}: end');
      break;
    case 'loading-monitors':
      lines.push(spinPhase('Looking at your monitors…'), '', st.dim('Esc: back'));
      break;
    case 'monitor': {
      const monitors = state.monitors ?? [];
      lines.push('This computer has several monitors. Which one do you want to share?', '');
      [...monitors.map((m, i) => `${i + 1}: monitor ${i + 1}, ${esc(m.label)}${m.primary ? ' (primary)' : ''}`), 'all monitors'].forEach((label, i) => {
        lines.push(i === phase.cursor ? `{inverse}> ${label}{/inverse}` : `  ${label}`);
      });
      lines.push('', `{bold}1{/bold}-{bold}${monitors.length}{/bold} or {bold}Up/Down{/bold} + {bold}Enter{/bold}: share it   {bold}Esc{/bold}: back   {bold}q{/bold}: end`);
      break;
    }
    case 'sharing': {
      const v = state.policy.view;
      const what = v.kind === 'screen' ? (v.monitor !== undefined && state.monitors !== null && state.monitors.length > 0 ? `monitor ${v.monitor + 1} of ${state.monitors.length}` : 'your whole screen') : v.kind === 'apps' ? `only ${state.sharedLabels.map(esc).join(', ') || 'the chosen applications'}` : 'nothing';
      if (state.policy.control) {
        // Impossible to miss: someone else moves this mouse and types on this keyboard.
        lines.push(
          `${st.alarm(' CONTROL ON ')} {bold}${who(state)} controls your mouse and keyboard.{/bold}`,
          '{bold}Press F12 (anywhere) or c here to take control back at once.{/bold}',
          '',
        );
      }
      lines.push(
        state.policy.paused ? `${st.fg('yellow', '{bold}PAUSED{/bold}')}: ${who(state)} sees a frozen picture.` : `${st.fg('green', '{bold}SHARING{/bold}')} ${what} with ${who(state)}.`,
        `Shared: ${what}`,
        state.policy.control ? `Control: ${opts.noColor === true ? '{inverse}{bold}ON{/bold}{/inverse}' : '{red-fg}{bold}ON{/bold}{/red-fg}'}` : 'Control: {bold}OFF{/bold} (view only)',
        '',
        `{bold}s{/bold}: share whole screen   {bold}a{/bold}: choose applications   {bold}p{/bold}: ${state.policy.paused ? 'resume' : 'pause'}   ${state.policy.control ? '{bold}c{/bold}/{bold}F12{/bold}: take back control   ' : ''}{bold}q{/bold}: end the session`,
      );
      break;
    }
    case 'ended':
      lines.push(esc(phase.message));
      break;
  }
  if (state.prompt === 'control' && phase.name !== 'ended') {
    const asker = who(state);
    lines.push(
      '',
      st.fg('yellow', `{bold}${asker.charAt(0).toUpperCase()}${asker.slice(1)} asks to control your mouse and keyboard. Allow? (y/N){/bold}`),
      st.warn('Never allow control to someone who called you unexpectedly: real support does not call out of the blue.'),
      '{bold}y{/bold}: allow (F12 takes it back at any time)   {bold}n{/bold}/{bold}Enter{/bold}: no (default)',
    );
  } else if (state.prompt !== null && phase.name !== 'ended') {
    lines.push(
      '',
      st.fg('yellow', `{bold}${who(state)} asks to see your screen.{/bold}`),
      '{bold}s{/bold}: share the whole screen   {bold}a{/bold}: choose applications   {bold}Enter{/bold}/{bold}n{/bold}: no (default)',
    );
  }
  if (state.notices.length > 0) {
    lines.push('', ...state.notices.map((n) => st.dim(esc(n))));
  }
  return lines.join('\n');
}
