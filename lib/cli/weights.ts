/** The `--weights` option every command shares: a file, or the embedded default. */

import {
  DEFAULT_WEIGHTS_BYTES,
  DEFAULT_WEIGHTS_NAME,
  loadDefaultWeights,
} from "../model/default_weights.ts";
import { openUserWeights, type Weights } from "../model/weights.ts";

/** The weights file at `path` (errors as {@link openUserWeights} words them). */
export const readWeights = (path: string): Promise<Weights> =>
  openUserWeights(path, () => Deno.readFile(path));

/**
 * The weights at `path`, or the embedded default when `path` is undefined; `bytes` is the file
 * as read (what `serve` hands its static page, so the visitor's GPU runs the same weights).
 */
export async function openWeights(
  path: string | undefined,
): Promise<{ weights: Weights; name: string; bytes: Uint8Array<ArrayBuffer> }> {
  if (path === undefined) {
    return {
      weights: loadDefaultWeights(),
      name: DEFAULT_WEIGHTS_NAME,
      bytes: DEFAULT_WEIGHTS_BYTES,
    };
  }
  let bytes = new Uint8Array(0);
  const weights = await openUserWeights(path, async () => (bytes = await Deno.readFile(path)));
  return { weights, name: path, bytes };
}
