// The one interface every input backend implements, and the translation from the protocol's
// key vocabulary (src/protocol/keys.ts) that they share. The session boss calls inject() only
// for events the policy allowed; the injector still refuses F12 on its own, so the customer's
// way out cannot be taken away by a bug above it.
import type { InputEvent, Modifier } from '../../protocol/app.js';
import { RESERVED_KEY, isKeyName } from '../../protocol/keys.js';
import { RsoError } from '../../errors.js';

export interface Injector {
  readonly name: string;
  /**
   * Performs one allowed event. Coordinates are in the shared area (what the engineer sees);
   * the injector adds the area's origin. Synchronous on purpose: once inject() returns the X
   * server has the event, so a revoke that runs next cannot be overtaken by an earlier event.
   */
  inject(event: InputEvent): void;
  /** Releases every key and button this injector holds down (control ended mid-drag or mid-combo). */
  releaseAll(): void;
  close(): void;
}

export interface InjectorOptions {
  display?: string;
  /** Top-left corner of the shared area on the desktop (a monitor's origin). */
  origin: { x: number; y: number };
}

/** Refuses what must never be injected, whatever the caller says. */
export function checkKey(key: string): void {
  if (key === RESERVED_KEY) throw new RsoError('RSO_ERR_INTERNAL', undefined, 'injector asked to inject the reserved key');
  if (!isKeyName(key)) throw new RsoError('RSO_ERR_PROTOCOL', undefined, 'unknown key name');
}

export function sortedMods(mods: readonly Modifier[]): Modifier[] {
  const order: Modifier[] = ['control', 'alt', 'shift', 'meta'];
  return order.filter((m) => mods.includes(m));
}
