// The key vocabulary of `input` key events: one place that says which key names exist, shared
// by the viewer (which produces them from terminal input) and the daemon (which maps them to
// its injector). Names follow X keysym names (`Return`, `BackSpace`, `Page_Up`, `F5`, `a`,
// `minus`) because they are the best known portable names and X11 is the first target; the
// wire format only allows [A-Za-z0-9_]{1,32}, which every name here fits.
//
// Printable text does not travel as key names: it goes as `text` events, so the customer's
// keyboard layout decides which keys and Shift levels produce it. Key events are for keys
// without text (Return, arrows, F-keys) and for combinations (Ctrl-U, Alt-F4).

/** Keys that have a name but no text. */
const NAMED = [
  'Return', 'BackSpace', 'Tab', 'Escape', 'Delete', 'Insert', 'Home', 'End', 'Page_Up', 'Page_Down',
  'Left', 'Right', 'Up', 'Down', 'space', 'Print', 'Menu',
  'F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8', 'F9', 'F10', 'F11', 'F12',
] as const;

/**
 * US-layout punctuation as keysym names, for combinations like Ctrl-minus. The character each
 * one stands for is given so the viewer can name a modified symbol key.
 */
export const PUNCTUATION: Readonly<Record<string, string>> = Object.freeze({
  '-': 'minus', '=': 'equal', '[': 'bracketleft', ']': 'bracketright', '\\': 'backslash', ';': 'semicolon',
  "'": 'apostrophe', ',': 'comma', '.': 'period', '/': 'slash', '`': 'grave',
});

const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');
const DIGITS = '0123456789'.split('');

export const KEY_NAMES: ReadonlySet<string> = new Set<string>([...NAMED, ...LETTERS, ...DIGITS, ...Object.values(PUNCTUATION)]);

/**
 * F12 is the customer's way to take control back: it is in the vocabulary (so a viewer can
 * say what was pressed) but the daemon never injects it (policy.ts, and the injector again).
 */
export const RESERVED_KEY = 'F12';

export function isKeyName(name: string): boolean {
  return KEY_NAMES.has(name);
}
