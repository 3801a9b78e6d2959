/** The `--weights` option every command shares: a file, or the embedded default. */

import { DEFAULT_WEIGHTS_NAME, loadDefaultWeights } from "../model/default_weights.ts";
import { openUserWeights, type Weights } from "../model/weights.ts";
import { UserError } from "./errors.ts";

/** The weights file at `path` (errors as {@link openUserWeights} words them). */
export const readWeights = (path: string): Promise<Weights> =>
  openUserWeights(path, () => Deno.readFile(path));

/** The weights at `path`, or the embedded default when `path` is undefined. */
export async function openWeights(
  path: string | undefined,
): Promise<{ weights: Weights; name: string }> {
  if (path === undefined) return { weights: loadDefaultWeights(), name: DEFAULT_WEIGHTS_NAME };
  return { weights: await readWeights(path), name: path };
}

/** Resolves `--class` (a name, case-insensitive, or an index) against the weights' class names. */
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
  throw new UserError(`unknown class '${text}'; the weights have: ${list}`);
}
