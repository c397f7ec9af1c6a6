// What the picture area says while there is no picture: the session number, big, with the time
// left (waiting), or that the customer has not shared yet. When the customer shares, the viewer
// stops drawing these rows and the graphics renderer owns them.
import { Box, Text } from 'ink';
import type { ViewerState } from '../state.js';
import { secondsLeft, waitKind } from '../state.js';
import { spinnerGlyph } from '../../cli/spinner.js';
import { BIG_ROWS, bigText } from './big-digits.js';
import { formatDuration } from './layout.js';

export function Placeholder({ state, rows, noColor = false }: { state: ViewerState; rows: number; noColor?: boolean }): React.JSX.Element {
  const glyph = waitKind(state) === null ? '' : spinnerGlyph(state.waitSince, state.now);
  const spin = (text: string): string => (glyph === '' ? text : `${text} ${glyph}`);
  let body: React.JSX.Element;
  if (state.phase === 'waiting' && state.number !== undefined) {
    const left = secondsLeft(state) ?? 0;
    const big = rows >= BIG_ROWS + 4 ? bigText(state.number) : [];
    body = (
      <Box flexDirection="column" alignItems="center">
        <Text>Read this session number to the customer:</Text>
        <Text> </Text>
        {big.map((line, i) => (
          <Text key={i} bold color={noColor ? undefined : 'cyan'}>
            {line}
          </Text>
        ))}
        {big.length > 0 ? <Text> </Text> : null}
        <Text bold>{`Session number: ${state.number}`}</Text>
        <Text dimColor>{`They run: npx -y rso share ${state.number.replace(/ /g, '')}   (expires in ${formatDuration(left).padStart(5)})`}</Text>
      </Box>
    );
  } else if (state.phase === 'connecting') {
    body = <Text>{spin('Connecting to the relay…')}</Text>;
  } else if (state.phase === 'connected' && state.view.kind === 'none') {
    body = (
      <Box flexDirection="column" alignItems="center">
        <Text>The customer has not shared their screen yet.</Text>
        <Text dimColor>{state.pendingRequest === 'view' ? spin('Waiting for their answer…') : 'Press v to ask them to show it.'}</Text>
      </Box>
    );
  } else if (state.phase === 'connected' && state.paused) {
    body = <Text>The customer paused sharing.</Text>;
  } else {
    body = <Text> </Text>;
  }
  return (
    <Box height={rows} overflow="hidden" justifyContent="center" alignItems="center" flexDirection="column">
      {body}
    </Box>
  );
}
