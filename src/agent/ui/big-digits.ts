// Digits five rows tall, so the session number can be read across a desk while on the phone.
// Each glyph is 3 cells wide; a space is a narrow gap between the groups.
const GLYPHS: Record<string, readonly string[]> = {
  '0': ['███', '█ █', '█ █', '█ █', '███'],
  '1': ['  █', '  █', '  █', '  █', '  █'],
  '2': ['███', '  █', '███', '█  ', '███'],
  '3': ['███', '  █', '███', '  █', '███'],
  '4': ['█ █', '█ █', '███', '  █', '  █'],
  '5': ['███', '█  ', '███', '  █', '███'],
  '6': ['███', '█  ', '███', '█ █', '███'],
  '7': ['███', '  █', '  █', '  █', '  █'],
  '8': ['███', '█ █', '███', '█ █', '███'],
  '9': ['███', '█ █', '███', '  █', '███'],
  ' ': ['  ', '  ', '  ', '  ', '  '],
};

export const BIG_ROWS = 5;

/** The text in big digits, one string per row; characters without a glyph are skipped. */
export function bigText(text: string): string[] {
  const rows = Array.from({ length: BIG_ROWS }, () => [] as string[]);
  for (const ch of text) {
    const g = GLYPHS[ch];
    if (!g) continue;
    for (let r = 0; r < BIG_ROWS; r++) rows[r]!.push(g[r]!);
  }
  return rows.map((parts) => parts.join(' '));
}
