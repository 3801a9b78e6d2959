/**
 * The shipped default weights, embedded in the module graph so a compiled
 * binary carries them (no read relative to the source tree).
 */

import bytes from "../../weights/default.safetensors" with { type: "bytes" };
import { parseWeights, type Weights } from "./weights.ts";

export const DEFAULT_WEIGHTS_NAME = "weights/default.safetensors";

/** The file's bytes, as `serve` hands them to its static page. */
export const DEFAULT_WEIGHTS_BYTES: Uint8Array<ArrayBuffer> = bytes;

export const loadDefaultWeights = (): Weights => parseWeights(bytes, DEFAULT_WEIGHTS_NAME);
