// One row of key hints; every key here is in man/rso-connect.1 too. While the engineer's input
// goes to the customer, only the escape prefix is the viewer's, so that is what is shown.
import { Box, Text } from 'ink';
import type { ViewerState } from '../state.js';
import { isForwarding } from '../state.js';
import { FOOTER_ROWS } from './layout.js';

export function Footer({ state, noColor = false }: { state: ViewerState; noColor?: boolean }): React.JSX.Element {
  const canView = state.phase === 'connected' && state.view.kind === 'none';
  const canAskControl = state.phase === 'connected' && state.view.kind !== 'none' && !state.control;
  if (state.prefix) {
    return (
      <Box height={FOOTER_ROWS} overflow="hidden">
        <Text wrap="truncate-end">
          <Text bold inverse>{' Ctrl-] '}</Text>
          <Text>{' then '}</Text>
          <Text bold inverse>{' q '}</Text>
          <Text>{' end  '}</Text>
          <Text bold inverse>{' v '}</Text>
          <Text>{' ask to view  '}</Text>
          <Text bold inverse>{' c '}</Text>
          <Text>{state.control ? (state.handsOff ? ' take control again  ' : ' let go of control  ') : ' ask for control  '}</Text>
          <Text bold inverse>{' ] '}</Text>
          <Text>{' send Ctrl-]  (any other key: cancel)'}</Text>
        </Text>
      </Box>
    );
  }
  if (isForwarding(state)) {
    return (
      <Box height={FOOTER_ROWS} overflow="hidden">
        <Text wrap="truncate-end">
          {/* NO_COLOR: inverse carries the alarm the red carried. */}
          <Text bold inverse={noColor} color={noColor ? undefined : 'red'}>
            {' CONTROL: your keys and mouse go to the customer.  '}
          </Text>
          <Text bold inverse>{' Ctrl-] '}</Text>
          <Text>{' then q end · v view · c let go · ] send Ctrl-]'}</Text>
        </Text>
      </Box>
    );
  }
  return (
    <Box height={FOOTER_ROWS} overflow="hidden">
      <Text wrap="truncate-end">
        <Text bold inverse>{' v '}</Text>
        <Text dimColor={!canView}>{' ask to view  '}</Text>
        <Text bold inverse>{' c '}</Text>
        <Text dimColor={!canAskControl && !state.handsOff}>{state.handsOff ? ' take control again  ' : ' ask for control  '}</Text>
        <Text bold inverse>{' q '}</Text>
        <Text>{' end session  '}</Text>
        <Text bold inverse>{' Ctrl-C '}</Text>
        <Text>{' end session'}</Text>
      </Text>
    </Box>
  );
}
