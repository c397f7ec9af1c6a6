// Three rows: what matters most first, so a narrow terminal cuts the least important (phase,
// VIEW/CONTROL, what is shared, verification code, customer host and OS),
// the figures (fps, bandwidth, latency, renderer), and the latest notice. Props in, text out.
import { Box, Text } from 'ink';
import type { ViewerState } from '../state.js';
import { isShared, waitKind } from '../state.js';
import { HEADER_ROWS, formatRate } from './layout.js';
import { spinnerGlyph } from '../../cli/spinner.js';

function phaseLabel(s: ViewerState): { text: string; color: string } {
  if (s.resuming && s.phase === 'connected') return { text: 'RECONNECTING', color: 'yellow' };
  switch (s.phase) {
    case 'connecting':
      return { text: 'CONNECTING', color: 'yellow' };
    case 'waiting':
      return { text: 'WAITING FOR CUSTOMER', color: 'yellow' };
    case 'connected':
      return { text: 'CONNECTED', color: 'green' };
    case 'ending':
      return { text: 'ENDING', color: 'yellow' };
    case 'ended':
      return { text: 'ENDED', color: 'red' };
  }
}

function sharedLabel(s: ViewerState): string {
  switch (s.view.kind) {
    case 'none':
      return 'not shared';
    case 'screen':
      return s.paused ? 'whole screen (paused)' : 'whole screen';
    case 'apps':
      return `${s.view.apps.length === 1 ? s.view.apps[0] : `${s.view.apps.length} apps`}${s.paused ? ' (paused)' : ''}`;
  }
}

/** `noColor` (NO_COLOR): no colour at all; CONTROL keeps its weight in inverse, errors and warnings in bold. */
export function Header({ state, noColor = false }: { state: ViewerState; noColor?: boolean }): React.JSX.Element {
  const phase = phaseLabel(state);
  const connected = state.phase === 'connected' || state.phase === 'ending';
  const notice = state.notice;
  const noticeColor = noColor ? undefined : notice?.level === 'error' ? 'red' : notice?.level === 'warn' ? 'yellow' : undefined;
  const wait = waitKind(state);
  const glyph = wait === null ? '' : spinnerGlyph(state.waitSince, state.now);
  // Pairing and reconnecting spin next to the phase; a request to the customer next to its notice.
  const phaseGlyph = glyph !== '' && (wait === 'connecting' || wait === 'waiting' || wait === 'resuming') ? `${glyph} ` : '';
  const noticeGlyph = glyph !== '' && wait === 'control-answer' ? ` ${glyph}` : '';
  return (
    <Box flexDirection="column" height={HEADER_ROWS} overflow="hidden">
      <Box height={1} overflow="hidden">
        <Text wrap="truncate-end">
          <Text bold inverse>{' rso '}</Text>
          <Text bold color={noColor ? undefined : phase.color}>{` ${phase.text} ${phaseGlyph}`}</Text>
          {connected ? (
            <Text bold inverse={noColor && state.control} color={noColor ? undefined : state.control ? 'red' : 'cyan'}>
              {state.control ? ' CONTROL ' : ' VIEW ONLY '}
            </Text>
          ) : null}
          {connected ? <Text>{` shared: ${sharedLabel(state)} `}</Text> : null}
          {state.verificationCode ? <Text>{` code ${state.verificationCode} `}</Text> : null}
          {state.customer ? <Text>{` ${state.customer.host} (${state.customer.os}) `}</Text> : null}
        </Text>
      </Box>
      <Box height={1} overflow="hidden">
        <Text dimColor wrap="truncate-end">
          {` ${state.stats.fps} fps  ${formatRate(state.stats.bytesPerSecond)}  latency ${state.stats.latencyMs === undefined ? '-' : `${Math.round(state.stats.latencyMs)} ms`}`}
          {state.graphics ? `  ${state.graphics.kind}` : ''}
          {isShared(state) && state.customer ? `  ${state.customer.screen.width}x${state.customer.screen.height}` : ''}
        </Text>
      </Box>
      <Box height={1} overflow="hidden">
        <Text color={noticeColor} bold={noColor && (notice?.level === 'error' || notice?.level === 'warn')} wrap="truncate-end">
          {notice ? ` ${notice.text}${noticeGlyph}` : ''}
        </Text>
      </Box>
    </Box>
  );
}
