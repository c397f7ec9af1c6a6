// State in, text out: the panel's content as blessed-tagged text. Pure, so what the customer
// reads (and which keys are offered) is unit-tested without a terminal. Every string that came
// from the other side or from another program (names, titles, chat) passes through `esc` so it
// cannot open a blessed tag or a terminal escape.
import type { UiState } from './state.js';

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

export function render(state: UiState): string {
  const lines: string[] = ['{bold}rso — remote support{/bold}', ''];
  const phase = state.phase;
  switch (phase.name) {
    case 'connecting':
      lines.push(phase.joining ? 'Joining the session…' : 'Connecting to the relay…', '', '{gray-fg}Esc or q: cancel{/gray-fg}');
      break;
    case 'waiting':
      lines.push(
        `Your session number: {bold}${esc(phase.number)}{/bold}`,
        '',
        'Read this number to the support engineer on the phone.',
        `It expires in ${formatCountdown(phase.expiresAt - state.now)}.`,
        '',
        '{gray-fg}Esc or q: cancel{/gray-fg}',
      );
      break;
    case 'consent': {
      const p = phase.peer;
      if (p.verified && p.name) {
        lines.push(`{bold}${esc(p.name)}, ${esc(p.org ?? '')}{/bold} — verified by ${esc(p.relayName)}`);
      } else {
        lines.push(`{red-bg}{white-fg}{bold} UNVERIFIED {/bold}{/white-fg}{/red-bg} {red-fg}The relay ${esc(p.relayName)} does not vouch for who is connecting.{/red-fg}`);
        lines.push('{red-fg}Only accept if you started this session with someone you trust.{/red-fg}');
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
      lines.push('Listing your applications…', '', '{gray-fg}Esc: back{/gray-fg}');
      break;
    case 'picker':
      lines.push('Choose the applications to share (only they will be visible):', '');
      if (phase.apps.length === 0) lines.push('{gray-fg}No application windows are open.{/gray-fg}');
      phase.apps.forEach((app, i) => {
        const mark = phase.selected.includes(app.key) ? '[x]' : '[ ]';
        const line = `${mark} ${esc(app.label)}`;
        lines.push(i === phase.cursor ? `{inverse}> ${line}{/inverse}` : `  ${line}`);
      });
      lines.push('', '{bold}Up/Down{/bold}: move   {bold}Space{/bold}: select   {bold}Enter{/bold}: share the selection   {bold}Esc{/bold}: back   {bold}q{/bold}: end');
      break;
    case 'sharing': {
      const v = state.policy.view;
      const what = v.kind === 'screen' ? 'your whole screen' : v.kind === 'apps' ? `only ${state.sharedLabels.map(esc).join(', ') || 'the chosen applications'}` : 'nothing';
      if (state.policy.control) {
        // Impossible to miss: someone else moves this mouse and types on this keyboard.
        lines.push(
          `{red-bg}{white-fg}{bold} CONTROL ON {/bold}{/white-fg}{/red-bg} {bold}${who(state)} controls your mouse and keyboard.{/bold}`,
          '{bold}Press F12 (anywhere) or c here to take control back at once.{/bold}',
          '',
        );
      }
      lines.push(
        state.policy.paused ? `{yellow-fg}{bold}PAUSED{/bold}{/yellow-fg}: ${who(state)} sees a frozen picture.` : `{green-fg}{bold}SHARING{/bold}{/green-fg} ${what} with ${who(state)}.`,
        `Shared: ${what}`,
        state.policy.control ? 'Control: {red-fg}{bold}ON{/bold}{/red-fg}' : 'Control: {bold}OFF{/bold} (view only)',
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
      `{yellow-fg}{bold}${asker.charAt(0).toUpperCase()}${asker.slice(1)} asks to control your mouse and keyboard. Allow? (y/N){/bold}{/yellow-fg}`,
      '{red-fg}Never allow control to someone who called you unexpectedly: real support does not call out of the blue.{/red-fg}',
      '{bold}y{/bold}: allow (F12 takes it back at any time)   {bold}n{/bold}/{bold}Enter{/bold}: no (default)',
    );
  } else if (state.prompt !== null && phase.name !== 'ended') {
    lines.push(
      '',
      `{yellow-fg}{bold}${who(state)} asks to see your screen.{/bold}{/yellow-fg}`,
      '{bold}s{/bold}: share the whole screen   {bold}a{/bold}: choose applications   {bold}Enter{/bold}/{bold}n{/bold}: no (default)',
    );
  }
  if (state.notices.length > 0) {
    lines.push('', ...state.notices.map((n) => `{gray-fg}${esc(n)}{/gray-fg}`));
  }
  return lines.join('\n');
}
