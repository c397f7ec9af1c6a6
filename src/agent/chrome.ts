// Ink draws the chrome (header, placeholder, footer) into an off-screen stream; this file copies
// the rows the chrome owns onto the terminal at absolute positions, and only the rows whose text
// changed. Why not let Ink write to the terminal: Ink repaints its whole output (and clears the
// whole terminal when its output fills the screen), which would erase and tear the picture.
// Here Ink never sees the terminal, so it cannot touch the picture area.
import { EventEmitter } from 'node:events';
import { createElement } from 'react';
import { render, type Instance } from 'ink';
import type { ViewerState } from './state.js';
import { App } from './ui/App.js';
import { FOOTER_ROWS, HEADER_ROWS } from './ui/layout.js';

/** Just enough of a WriteStream for Ink: it reads the size and writes whole frames. */
class OffscreenStream extends EventEmitter {
  columns: number;
  rows: number;
  readonly isTTY = false;
  last = '';
  constructor(cols: number, rows: number) {
    super();
    this.columns = cols;
    this.rows = rows;
  }
  write(data: string): boolean {
    this.last = data;
    return true;
  }
}

/** A stdin Ink may hold without ever reading the real one (the viewer owns key input). */
class SilentInput extends EventEmitter {
  readonly isTTY = false;
  setEncoding(): this {
    return this;
  }
  setRawMode(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  read(): null {
    return null;
  }
}

export interface ChromeOptions {
  /** NO_COLOR: the chrome rows carry no colour (bold, inverse and dim stay). */
  noColor?: boolean;
}

export class Chrome {
  private readonly noColor: boolean;
  constructor(opts: ChromeOptions = {}) {
    this.noColor = opts.noColor === true;
  }
  private readonly out = new OffscreenStream(80, 24);
  private instance: Instance | undefined;
  private painted: string[] = [];
  private cols = 80;
  private rows = 24;

  /**
   * The terminal bytes that bring the chrome rows up to date with `state`. Rows of the picture
   * area are included only when `pictureRows` is false (no picture: the placeholder shows).
   */
  frame(state: ViewerState, cols: number, rows: number, pictureOwnsArea: boolean): string {
    if (cols !== this.cols || rows !== this.rows) {
      this.cols = cols;
      this.rows = rows;
      this.out.columns = cols;
      this.out.rows = rows;
      // Everything moved: repaint every row.
      this.painted = [];
    }
    const element = createElement(App, { state, cols, rows, noColor: this.noColor });
    if (this.instance === undefined) {
      this.instance = render(element, {
        stdout: this.out as unknown as NodeJS.WriteStream,
        stdin: new SilentInput() as unknown as NodeJS.ReadStream,
        stderr: this.out as unknown as NodeJS.WriteStream,
        // debug: every render is written whole to our stream and never erased; we diff it.
        debug: true,
        exitOnCtrlC: false,
        patchConsole: false,
      });
    } else {
      this.instance.rerender(element);
    }
    const lines = this.out.last.split('\n');
    let bytes = '';
    for (let r = 0; r < rows; r++) {
      const inPicture = r >= HEADER_ROWS && r < rows - FOOTER_ROWS;
      if (inPicture && pictureOwnsArea) {
        // The picture owns this row now; what we painted there before is gone.
        this.painted[r] = '\u0000';
        continue;
      }
      const line = lines[r] ?? '';
      if (this.painted[r] === line) continue;
      this.painted[r] = line;
      // Erase first (default colours) and then write: erasing after the text would wipe the last
      // column of a full-width row, where the cursor waits with a pending wrap.
      bytes += `\x1b[${r + 1};1H\x1b[0m\x1b[2K${line}\x1b[0m`;
    }
    return bytes;
  }

  /** Forget what is on the terminal (after something else painted over the chrome rows). */
  invalidate(): void {
    this.painted = [];
  }

  close(): void {
    this.instance?.unmount();
    this.instance = undefined;
  }
}
