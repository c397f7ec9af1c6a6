// What the customer's panel (src/daemon/ui/render.ts) shows, read back from its text. The demo
// drives the real `rso share` through its real panel, as a person would, so it needs to know
// which screen the panel is on. Pure: text in, phase out, so it is unit-tested against the
// renderer's own output and breaks loudly if the panel's wording changes.

export type PanelPhase =
  | { phase: 'starting' }
  /** The opener's number, as shown (`482 913 705`). Kept in memory only, never printed. */
  | { phase: 'waiting'; number: string }
  /** Who asks to connect; `verified` only when the relay vouched for them. */
  | { phase: 'consent'; verified: boolean; who: string }
  | { phase: 'choose' }
  | { phase: 'sharing' }
  | { phase: 'ended' };

const NUMBER_RE = /Your session number: (\d{3} \d{3} \d{3})/;
const CONSENT_RE = /Let this person connect\?/;
const VERIFIED_RE = /^\s*(.+?) — verified by \S+/m;

export function readPanel(text: string): PanelPhase {
  const number = NUMBER_RE.exec(text);
  if (number) return { phase: 'waiting', number: number[1]! };
  if (CONSENT_RE.test(text)) {
    const v = VERIFIED_RE.exec(text);
    return v ? { phase: 'consent', verified: !/UNVERIFIED/.test(text), who: v[1]!.trim() } : { phase: 'consent', verified: false, who: '' };
  }
  if (/SHARING|PAUSED/.test(text)) return { phase: 'sharing' };
  if (/Nothing is shared yet\./.test(text)) return { phase: 'choose' };
  if (/You declined|You ended the session|The support engineer ended the session/.test(text)) return { phase: 'ended' };
  return { phase: 'starting' };
}
