// Three rows: what matters most first, so a narrow terminal cuts the least important (phase,
// VIEW/CONTROL, what is shared, verification code, customer host and OS),
// the figures (fps, bandwidth, latency, renderer), and the latest notice. Props in, text out.
import { Box, Text } from 'ink';
import type { ViewerState } from '../state.js';
import { isShared } from '../state.js';
import { HEADER_ROWS, formatRate } from './layout.js';

function phaseLabel(s: ViewerState): { text: string; color: string } {
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

export function Header({ state }: { state: ViewerState }): React.JSX.Element {
  const phase = phaseLabel(state);
  const connected = state.phase === 'connected' || state.phase === 'ending';
  const notice = state.notice;
  const noticeColor = notice?.level === 'error' ? 'red' : notice?.level === 'warn' ? 'yellow' : undefined;
  return (
    <Box flexDirection="column" height={HEADER_ROWS} overflow="hidden">
      <Box height={1} overflow="hidden">
        <Text wrap="truncate-end">
          <Text bold inverse>{' rso '}</Text>
          <Text bold color={phase.color}>{` ${phase.text} `}</Text>
          {connected ? (
            <Text bold color={state.control ? 'red' : 'cyan'}>{state.control ? ' CONTROL ' : ' VIEW ONLY '}</Text>
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
        <Text color={noticeColor} wrap="truncate-end">{notice ? ` ${notice.text}` : ''}</Text>
      </Box>
    </Box>
  );
}
