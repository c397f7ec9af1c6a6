// Pixel comparisons between an independent capture (BGRX, from xwd) and the agent's RGB picture.

/** Number of pixels whose colour differs (the BGRX fourth byte is ignored). */
export function diffPixels(bgrx: { width: number; height: number; data: Uint8Array }, rgb: { width: number; height: number; data: Uint8Array }): number {
  if (bgrx.width !== rgb.width || bgrx.height !== rgb.height) return bgrx.width * bgrx.height;
  let n = 0;
  for (let i = 0, j = 0; i < bgrx.data.length; i += 4, j += 3) {
    if (bgrx.data[i] !== rgb.data[j + 2] || bgrx.data[i + 1] !== rgb.data[j + 1] || bgrx.data[i + 2] !== rgb.data[j]) n++;
  }
  return n;
}

/** Pixels of colour 0xRRGGBB in an RGB buffer. */
export function countRgb(data: Uint8Array, color: number): number {
  const r = (color >>> 16) & 0xff;
  const g = (color >>> 8) & 0xff;
  const b = color & 0xff;
  let n = 0;
  for (let j = 0; j + 2 < data.length; j += 3) if (data[j] === r && data[j + 1] === g && data[j + 2] === b) n++;
  return n;
}
