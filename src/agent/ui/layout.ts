// The screen's fixed layout, shared by the components (which draw the chrome) and the viewer
// (which puts the picture in the rows between). Fixed heights, so the picture area is known
// without measuring what Ink drew.
export const HEADER_ROWS = 3;
export const FOOTER_ROWS = 1;

/** The smallest terminal the layout works in; below it the picture area has no rows. */
export const MIN_ROWS = HEADER_ROWS + FOOTER_ROWS + 1;

/** The picture area in cells (0-based row), between header and footer, full width. */
export function pictureArea(cols: number, rows: number): { row: number; col: number; cols: number; rows: number } {
  return { row: HEADER_ROWS, col: 0, cols: Math.max(1, cols), rows: Math.max(1, rows - HEADER_ROWS - FOOTER_ROWS) };
}

/** `12.3 KB/s`: bandwidth for people (decimal units, like network tools). */
export function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond < 1000) return `${bytesPerSecond} B/s`;
  if (bytesPerSecond < 1_000_000) return `${(bytesPerSecond / 1000).toFixed(1)} KB/s`;
  return `${(bytesPerSecond / 1_000_000).toFixed(1)} MB/s`;
}

/** `9:05` for 545 seconds. */
export function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}
