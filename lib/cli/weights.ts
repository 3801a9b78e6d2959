/** The `--weights` option every command shares: a file, or the embedded default. */

import { DEFAULT_WEIGHTS_NAME, loadDefaultWeights } from "../model/default_weights.ts";
import { readWeights, type Weights, WeightsError } from "../model/weights.ts";
import { UserError } from "./errors.ts";

export async function openWeights(
  path: string | undefined,
): Promise<{ weights: Weights; name: string }> {
  try {
    if (path === undefined) return { weights: loadDefaultWeights(), name: DEFAULT_WEIGHTS_NAME };
    return { weights: await readWeights(path), name: path };
  } catch (err) {
    if (err instanceof WeightsError) {
      throw new UserError(`${err.message}; pass a weights file written by 'train'`);
    }
    throw err;
  }
}
