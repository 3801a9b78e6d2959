/**
 * A model small enough to build and sample in seconds on the CPU fallback, for
 * the tests of the generation core and of what serves it. Test-only; the
 * product never imports this module.
 */

import { type ModelConfig, paramSpecs } from "../model/config.ts";
import { initParams } from "../model/init.ts";
import type { Weights } from "../model/weights.ts";
import { ParamLayout } from "../nn/params.ts";

/** RGBA, two levels, three classes. */
export const TINY_CONFIG: ModelConfig = {
  in_ch: 4,
  base_ch: 8,
  channel_mults: [1, 2],
  num_res_blocks: 1,
  use_attention: [false, true],
  num_classes: 3,
};

/** Seeded untrained weights for {@link TINY_CONFIG}, classes "a", "b", "c". */
export function tinyWeights(seed = 3): Weights {
  const layout = new ParamLayout(paramSpecs(TINY_CONFIG));
  return {
    config: TINY_CONFIG,
    classNames: ["a", "b", "c"],
    provenance: {},
    layout,
    flat: initParams(layout, seed),
  };
}
