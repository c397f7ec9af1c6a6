// The whole screen: header, picture area (placeholder text until there is a picture), footer.
// Rendered off-screen by the viewer, which copies only the rows it owns to the terminal.
import { Box } from 'ink';
import type { ViewerState } from '../state.js';
import { Footer } from './Footer.js';
import { Header } from './Header.js';
import { Placeholder } from './Placeholder.js';
import { pictureArea } from './layout.js';

export interface AppProps {
  state: ViewerState;
  cols: number;
  rows: number;
  /** NO_COLOR: the chrome uses no colour (the picture keeps the customer's colours). */
  noColor?: boolean;
}

export function App({ state, cols, rows, noColor = false }: AppProps): React.JSX.Element {
  const area = pictureArea(cols, rows);
  return (
    <Box flexDirection="column" width={cols} height={rows}>
      <Header state={state} noColor={noColor} />
      <Placeholder state={state} rows={area.rows} noColor={noColor} />
      <Footer state={state} noColor={noColor} />
    </Box>
  );
}
