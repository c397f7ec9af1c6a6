// Where a terminal mouse report lands on the customer's screen. The picture is the customer's
// screen (or shared monitor) scaled into the frame the daemon sends, and the frame sits on the
// terminal at a placement; this inverts both. Pure geometry, table-tested.
import type { GraphicsKind, Placement } from '../graphics/renderer.js';

export interface PictureGeometry {
  kind: GraphicsKind;
  placement: Placement;
  /** Size of the frame the daemon sent (its pixels). */
  frame: { width: number; height: number };
  /** Size of the customer's screen area those pixels show (from `info`). */
  screen: { width: number; height: number };
}

/**
 * Maps a 1-based report (cells, or pixels under mode 1016) to customer screen coordinates;
 * null when it is outside the picture (a click on the header is not a click on the desktop).
 * Without pixel reports the centre of the cell is used: the best guess within one cell.
 */
export function toRemote(g: PictureGeometry, x: number, y: number, pixels: boolean): { x: number; y: number } | null {
  const p = g.placement;
  if (g.frame.width < 1 || g.frame.height < 1 || p.cellWidth < 1 || p.cellHeight < 1) return null;
  // Position in cells (fractional), relative to the placement's top-left corner.
  const cx = pixels ? (x - 1) / p.cellWidth - p.col : x - 1 + 0.5 - p.col;
  const cy = pixels ? (y - 1) / p.cellHeight - p.row : y - 1 + 0.5 - p.row;
  let fx: number;
  let fy: number;
  if (g.kind === 'blocks') {
    // One frame pixel per column, two per row.
    fx = cx;
    fy = cy * 2;
  } else if (g.kind === 'kitty') {
    // Kitty stretches the image over the placement's cells (c=, r=).
    fx = (cx / p.cols) * g.frame.width;
    fy = (cy / p.rows) * g.frame.height;
  } else {
    // Sixel draws one frame pixel per screen pixel from the top-left cell.
    fx = cx * p.cellWidth;
    fy = cy * p.cellHeight;
  }
  if (fx < 0 || fy < 0 || fx >= g.frame.width || fy >= g.frame.height) return null;
  const sx = Math.floor((fx * g.screen.width) / g.frame.width);
  const sy = Math.floor((fy * g.screen.height) / g.frame.height);
  return { x: Math.min(g.screen.width - 1, sx), y: Math.min(g.screen.height - 1, sy) };
}
