/**
 * The shipped sprite classifier (trained by scripts/train_classifier.ts on the default
 * dataset), embedded in the module graph so `eval` works offline and in a compiled binary.
 */

import bytes from "../../weights/classifier.safetensors" with { type: "bytes" };
import { type ClassifierWeights, parseClassifier } from "./classifier_io.ts";

export const DEFAULT_CLASSIFIER_NAME = "weights/classifier.safetensors";

export const loadDefaultClassifier = (): ClassifierWeights =>
  parseClassifier(bytes, DEFAULT_CLASSIFIER_NAME);
