// One row of key hints; every key here is in man/rso-connect.1 too.
import { Box, Text } from 'ink';
import type { ViewerState } from '../state.js';
import { FOOTER_ROWS } from './layout.js';

export function Footer({ state }: { state: ViewerState }): React.JSX.Element {
  const canView = state.phase === 'connected' && state.view.kind === 'none';
  return (
    <Box height={FOOTER_ROWS} overflow="hidden">
      <Text wrap="truncate-end">
        <Text bold inverse>{' v '}</Text>
        <Text dimColor={!canView}>{' ask to view  '}</Text>
        <Text bold inverse>{' q '}</Text>
        <Text>{' end session  '}</Text>
        <Text bold inverse>{' Ctrl-C '}</Text>
        <Text>{' end session'}</Text>
      </Text>
    </Box>
  );
}
