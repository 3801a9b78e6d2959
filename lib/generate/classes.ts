/** Class choices as users write them: a class name (case-insensitive, or a unique prefix) or an index. */

import { type ClassMix, RequestError } from "./generator.ts";

/** The index of the class `text` names among `classNames`, or a RequestError listing them. */
export function resolveClass(text: string, classNames: readonly string[]): number {
  const index = Number(text);
  if (Number.isInteger(index) && index >= 0 && index < classNames.length && text.trim() !== "") {
    return index;
  }
  const wanted = text.trim().toLowerCase();
  const exact = classNames.findIndex((c) => c.toLowerCase() === wanted);
  if (exact >= 0) return exact;
  const partial = classNames.flatMap((c, i) => (c.toLowerCase().startsWith(wanted) ? [i] : []));
  if (partial.length === 1) return partial[0];
  const list = classNames.map((c, i) => `${i} "${c}"`).join(", ");
  throw new RequestError(`unknown class '${text}'; the weights have: ${list}`);
}

/**
 * The name a sprite of class `c` is labelled with: its class (`num_classes` is the unconditional
 * class), or a mix as `name:weight+name:weight` with the weights normalised.
 */
export function classLabel(c: number | ClassMix, classNames: readonly string[]): string {
  const name = (k: number) => (k === classNames.length ? "unconditional" : classNames[k]);
  if (typeof c === "number") return name(c);
  const sum = c.mix.reduce((a, [, w]) => a + w, 0);
  return c.mix.map(([k, w]) => `${name(k)}:${Number((w / sum).toFixed(3))}`).join("+");
}

/** The classes of `n` sprites: all `fixed`, or one per class in turn when `fixed` is null. */
export const classesFor = <C extends number | ClassMix>(
  n: number,
  fixed: C | null,
  numClasses: number,
): (C | number)[] => Array.from({ length: n }, (_, i) => fixed ?? i % numClasses);
