/**
 * Classifier weights as safetensors: F32 tensors named as in {@link classifierSpecs}, and
 * `__metadata__` with `kind` ("sprite-classifier"), `config` and `class_names` (JSON), and
 * `training` (JSON: dataset, split seed, recipe, held-out accuracy …) so a report can say
 * how far the classifier itself is to be trusted.
 */

import { numel } from "../gpu/tensor.ts";
import { encodeSafetensors, parseSafetensors } from "../io/safetensors.ts";
import { flattenTensors, parseJson, WeightsError } from "../model/weights.ts";
import { ParamLayout } from "../nn/params.ts";
import { type ClassifierConfig, classifierSpecs } from "./classifier.ts";
import type { ClassifierRecipe } from "./classifier_train.ts";

export const CLASSIFIER_KIND = "sprite-classifier";

/** Per-class and overall accuracy on a labelled set. */
export interface Accuracy {
  /** Correct / all. */
  overall: number;
  /** The mean of the per-class accuracies (each class counts the same). */
  balanced: number;
  perClass: number[];
  /** Sprites per class in the set. */
  counts: number[];
}

/** What the shipped file records about how the classifier was made. */
export interface ClassifierTraining {
  dataset: string;
  datasetHash: string;
  /** Its seed is also the split's. */
  recipe: ClassifierRecipe;
  seconds: number;
  adapter: string;
  /** On the held-out split. */
  testAccuracy: Accuracy;
  trainAccuracy: Accuracy;
}

export interface ClassifierWeights {
  config: ClassifierConfig;
  classNames: string[];
  training: ClassifierTraining;
  /** One flat f32 array in {@link ParamLayout} order. */
  flat: Float32Array;
  layout: ParamLayout;
}

/** A required JSON metadata entry. */
function json<T>(text: string | undefined, what: string, source: string): T {
  const value = parseJson<T>(text, what, source);
  if (value === undefined) throw new WeightsError(`${source}: metadata ${what} is missing`);
  return value;
}

export function encodeClassifier(w: ClassifierWeights): Uint8Array {
  const tensors = w.layout.entries.map((e) => ({
    name: e.name,
    dtype: "F32" as const,
    shape: [...e.shape],
    data: w.flat.subarray(e.offset, e.offset + numel(e.shape)),
  }));
  return encodeSafetensors(tensors, {
    kind: CLASSIFIER_KIND,
    config: JSON.stringify(w.config),
    class_names: JSON.stringify(w.classNames),
    training: JSON.stringify(w.training),
  });
}

export function parseClassifier(bytes: Uint8Array, source: string): ClassifierWeights {
  let file;
  try {
    file = parseSafetensors(bytes, source);
  } catch (err) {
    throw new WeightsError((err as Error).message);
  }
  if (file.metadata.kind !== CLASSIFIER_KIND) {
    throw new WeightsError(
      `${source}: not a sprite classifier (metadata kind is not ${CLASSIFIER_KIND})`,
    );
  }
  const config = json<ClassifierConfig>(file.metadata.config, "config", source);
  let layout: ParamLayout;
  try {
    layout = new ParamLayout(classifierSpecs(config));
  } catch (err) {
    throw new WeightsError(`${source}: ${(err as Error).message}`);
  }
  const flat = flattenTensors(file, layout, source, config);
  const classNames = json<string[]>(file.metadata.class_names, "class_names", source);
  if (classNames.length !== config.num_classes) {
    throw new WeightsError(
      `${source}: ${classNames.length} class names for ${config.num_classes} classes`,
    );
  }
  const training = json<ClassifierTraining>(file.metadata.training, "training", source);
  return { config, classNames, training, flat, layout };
}

export async function readClassifier(path: string): Promise<ClassifierWeights> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new WeightsError(`${path}: cannot read the classifier (${(err as Error).message})`);
  }
  return parseClassifier(bytes, path);
}
