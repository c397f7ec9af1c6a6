// Truecolor half-block renderer: the fallback that works in any terminal with 24-bit colour.
// Each cell shows two vertical pixels with U+2580 UPPER HALF BLOCK: foreground = top pixel,
// background = bottom pixel. The frame is asked at cols x rows*2 (pixelSizeFor), so there is
// no scaling here. Colour changes dominate the byte count, so SGR is only emitted when the
// colour actually differs from the previous cell's.
import {
  type Placement,
  type Rect,
  type Renderer,
  type RgbFrame,
  RESTORE_CURSOR,
  SAVE_CURSOR,
  blankArea,
  dirtyCells,
  moveTo,
} from './renderer.js';

const UPPER_HALF = '\u2580';
/** Marks "no colour set yet" and "default colour" (a pixel the frame does not have). */
const UNSET = -1;
const DEFAULT = -2;

function pixel(frame: RgbFrame, x: number, y: number): number {
  if (x >= frame.width || y >= frame.height) return DEFAULT;
  const p = (y * frame.width + x) * 3;
  return (frame.data[p]! << 16) | (frame.data[p + 1]! << 8) | frame.data[p + 2]!;
}

function rgb(c: number): string {
  return `${(c >> 16) & 255};${(c >> 8) & 255};${c & 255}`;
}

/** Paints runs of cells and remembers the current colours across runs (CUP keeps SGR). */
class CellWriter {
  out = '';
  private fg = UNSET;
  private bg = UNSET;

  cell(top: number, bottom: number): void {
    // A cell whose two pixels are equal is a space in the current background when that
    // background already matches: no SGR at all for flat areas.
    if (top === bottom && bottom === this.bg) {
      this.out += ' ';
      return;
    }
    const sgr: string[] = [];
    if (top !== this.fg) sgr.push(top === DEFAULT ? '39' : `38;2;${rgb(top)}`);
    if (bottom !== this.bg) sgr.push(bottom === DEFAULT ? '49' : `48;2;${rgb(bottom)}`);
    if (sgr.length > 0) this.out += `\x1b[${sgr.join(';')}m`;
    this.fg = top;
    this.bg = bottom;
    this.out += UPPER_HALF;
  }
}

export class BlocksRenderer implements Renderer {
  readonly kind = 'blocks' as const;

  full(frame: RgbFrame, at: Placement): string {
    const all = new Uint8Array(at.cols * at.rows).fill(1);
    return this.paint(frame, at, all);
  }

  update(frame: RgbFrame, changed: readonly Rect[], at: Placement): string {
    // A cell is 1 pixel wide and 2 pixels tall.
    return this.paint(frame, at, dirtyCells(changed, 1, 2, at.cols, at.rows));
  }

  clear(at: Placement): string {
    return blankArea(at);
  }

  private paint(frame: RgbFrame, at: Placement, dirty: Uint8Array): string {
    const w = new CellWriter();
    for (let row = 0; row < at.rows; row++) {
      let col = 0;
      while (col < at.cols) {
        if (dirty[row * at.cols + col] === 0) {
          col++;
          continue;
        }
        w.out += moveTo(at.row + row, at.col + col);
        while (col < at.cols && dirty[row * at.cols + col] === 1) {
          w.cell(pixel(frame, col, row * 2), pixel(frame, col, row * 2 + 1));
          col++;
        }
      }
    }
    if (w.out === '') return '';
    return SAVE_CURSOR + w.out + '\x1b[0m' + RESTORE_CURSOR;
  }
}

export function createBlocksRenderer(): BlocksRenderer {
  return new BlocksRenderer();
}
