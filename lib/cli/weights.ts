/** The `--weights` option every command shares: a file, or the embedded default. */

import { DEFAULT_WEIGHTS_NAME, loadDefaultWeights } from "../model/default_weights.ts";
import { openUserWeights, type Weights } from "../model/weights.ts";

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
