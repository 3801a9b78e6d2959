/**
 * Measured sample quality: N sprites per class are drawn at each guidance value and judged
 *
 * - by the sprite classifier: class-consistency accuracy (it names the conditioning class);
 * - in the classifier's features: a sprite FID and a kernel distance (KID, unbiased) against
 *   half B of the real sprites of the class (all classes: every class weighted equally), each
 *   beside its floor, what the same number of real sprites from the other half A reach against
 *   the same half B;
 * - in pixel space: memorisation (the share within {@link MEMORISATION_THRESHOLD} of a sprite
 *   of the diffusion model's training set, mirror images included) and diversity (mean pairwise
 *   distance among a class's samples, beside the same for its real sprites).
 *
 * The real-side numbers do not depend on the samples and are computed once per run.
 */

import { InputError } from "../util/errors.ts";
import type { SpriteDataset } from "../data/dataset.ts";
import type { SamplerKind } from "../diffusion/schedule.ts";
import { previewEveryFor } from "../generate/defaults.ts";
import { Generator } from "../generate/generator.ts";
import { type PostOptions, postProcess } from "../generate/postprocess.ts";
import type { Gpu } from "../gpu/device.ts";
import { upload } from "../gpu/tensor.ts";
import { type RgbaImage, tensorFromImages } from "../io/image.ts";
import { IMAGE_SIZE } from "../model/config.ts";
import type { Weights } from "../model/weights.ts";
import { ParamStore } from "../nn/params.ts";
import { epochPermutation } from "../train/batch.ts";
import { classify, predictions, SpriteClassifier } from "./classifier.ts";
import type { ClassifierWeights } from "./classifier_io.ts";
import { gatherSprites, stratifiedSplit } from "./classifier_train.ts";
import {
  meanPairwiseDistance,
  MEMORISATION_THRESHOLD,
  type Nearest,
  nearestSprites,
} from "./distance.ts";
import { frechetDistance, type Moments, moments } from "./fid.ts";
import { kernelDistance, standardize, standardizer } from "./kid.ts";

export interface EvalOptions {
  /** Samples per class at each guidance value. */
  n: number;
  guidances: readonly number[];
  steps: number;
  sampler: SamplerKind;
  eta: number;
  thresholdPercentile?: number;
  guidanceInterval?: readonly [number, number];
  seed: number;
  /** Most sprites per sampling batch; all batches get one size, so the model compiles once. */
  batch: number;
  /** The post-processing users get (as `sample` applies it); default: alpha snapped. */
  post?: PostOptions;
  /** Score the raw model output (default) or the sprites after `post`, as users get them. */
  score?: "raw" | "delivered";
  /**
   * Post-processing pipelines scored beside the main score, each on the same samples (so one
   * sampling pass compares palettes and clean-ups); `auto:K` palettes are fitted from `seed`.
   */
  variants?: readonly PostVariant[];
}

/** A post-processing pipeline eval scores, with the label its report rows carry. */
export interface PostVariant {
  label: string;
  post: PostOptions;
}

export interface SampleMetrics {
  /** Share of samples the classifier assigns to their conditioning class. */
  accuracy: number;
  /** Fréchet distance to half B of the real sprites, in the classifier's features. */
  fid: number;
  /** Kernel distance (KID) to half B of the real sprites, in the same features. */
  kid: number;
  /** Share of samples within MEMORISATION_THRESHOLD of a training sprite. */
  memorised: number;
  /** Median distance to the nearest training sprite. */
  nearestMedian: number;
  /** Mean pairwise distance among the samples. */
  diversity: number;
}

export interface RealMetrics {
  /** Real sprites (labelled). */
  count: number;
  /** FID of min(n, |A|) sprites of half A against half B: what real sprites score. */
  fidFloor: number;
  /** KID of the same sprites against half B. */
  kidFloor: number;
  /** Mean pairwise distance among all real sprites. */
  diversity: number;
  /** Share of real sprites with another dataset sprite within MEMORISATION_THRESHOLD. */
  nearDuplicates: number;
  /** Median distance to the nearest other dataset sprite. */
  nearestMedian: number;
}

/** Metrics of one set of samples, per class and over all classes. */
export interface Scores {
  perClass: SampleMetrics[];
  /** All classes: FID against every class weighted equally; the rest are means or shares. */
  overall: SampleMetrics;
}

export interface GuidanceReport extends Scores {
  guidance: number;
  /** Sampling and measuring this guidance value. */
  seconds: number;
  /** The {@link EvalOptions.variants}' scores, in their order. */
  variants: (Scores & { label: string })[];
}

export interface EvalReport {
  classNames: string[];
  threshold: number;
  real: { perClass: RealMetrics[]; overall: RealMetrics };
  guidance: GuidanceReport[];
}

/** The samples of one guidance value, for pictures. */
export interface GuidanceSamples {
  guidance: number;
  /** What was scored, [K·n, C, 16, 16], class-major (n of class 0, then class 1 …). */
  images: Float32Array;
  /** The sprites as users get them (after post-processing), in the same order. */
  delivered: RgbaImage[];
  predicted: Int32Array;
  /** Nearest sprites in the dataset the CLI was given (indices into it). */
  nearest: Nearest;
}

export interface EvalHooks {
  /** Denoising steps done of all steps in the run, and the guidance value being sampled. */
  onProgress?: (done: number, total: number, guidance: number) => void;
  /** `variants` holds each variant's sprites, in {@link EvalOptions.variants} order. */
  onGuidance?: (
    report: GuidanceReport,
    samples: GuidanceSamples,
    variants: RgbaImage[][],
  ) => void | Promise<void>;
}

/** Fixed: the halves, and so the floors, stay the same whatever --seed samples with. */
const HALVES_SEED = 0x4a1f;
/** The classifier's batch size (any; one size compiles once). */
const CLASSIFIER_BATCH = 64;

const median = (values: ArrayLike<number>): number => {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const share = (values: ArrayLike<number>, within: number): number =>
  Array.prototype.filter.call(values, (d: number) => d <= within).length / values.length;

const mean = (values: readonly number[]): number =>
  values.reduce((a, b) => a + b, 0) / values.length;

/** Rows of `features` ([*, F]) at `rows`, packed. */
function pickRows(features: Float32Array, rows: readonly number[], f: number): Float32Array {
  const out = new Float32Array(rows.length * f);
  rows.forEach((r, i) => out.set(features.subarray(r * f, (r + 1) * f), i * f));
  return out;
}

/** Moments of `rows` of `features`, or null when there are fewer than 2 (no covariance). */
function momentsOf(features: Float32Array, rows: readonly number[], f: number): Moments | null {
  return rows.length >= 2 ? moments(pickRows(features, rows, f), rows.length, f) : null;
}

/** Moments of the rows in `groups` (one list per class), every class weighted equally. */
function balancedMoments(features: Float32Array, groups: number[][], f: number): Moments | null {
  const rows = groups.flat();
  const weights = groups.flatMap((g) => g.map(() => 1 / g.length));
  return rows.length >= 2 ? moments(pickRows(features, rows, f), rows.length, f, weights) : null;
}

const fidOf = (a: Moments | null, b: Moments | null): number =>
  a && b ? frechetDistance(a, b) : NaN;

/** Checks that the model, the classifier and the data agree on channels and classes. */
function checkCompatible(
  weights: Weights,
  classifier: ClassifierWeights,
  data: SpriteDataset,
): void {
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const names = (list: string[]) => JSON.stringify(list);
  if (!same(weights.classNames, classifier.classNames)) {
    throw new InputError(
      `the classifier knows classes ${names(classifier.classNames)}, the weights ` +
        `${names(weights.classNames)}; train one for this data with ` +
        "scripts/train_classifier.ts and pass it as --classifier",
    );
  }
  if (!same(weights.classNames, data.classNames)) {
    throw new InputError(
      `the dataset ${data.source} has classes ${names(data.classNames)}, the weights ` +
        `${names(weights.classNames)}; pass the --data the model was trained on`,
    );
  }
  if (classifier.config.in_ch !== weights.config.in_ch || data.channels !== weights.config.in_ch) {
    throw new InputError(
      `channels differ: weights ${weights.config.in_ch}, classifier ${classifier.config.in_ch}, ` +
        `data ${data.channels}`,
    );
  }
}

/** The real-data side: reference moments of half B, floors, diversity, near-duplicates. */
async function measureReal(
  model: SpriteClassifier,
  data: SpriteDataset,
  n: number,
) {
  const k = data.classNames.length;
  const f = model.config.features;
  const chw = data.channels * IMAGE_SIZE ** 2;
  const halves = stratifiedSplit(data.labels, k, 0.5, HALVES_SEED);
  const labelled = [...halves.train, ...halves.test].sort((a, b) => a - b);
  const rowOf = new Map(labelled.map((index, row) => [index, row]));
  const sprites = gatherSprites(data, labelled);
  const { features } = await classify(model, sprites, labelled.length);
  const rowsOf = (indices: number[], c: number) =>
    indices.filter((i) => data.labels[i] === c).map((i) => rowOf.get(i)!);
  const halfB = Array.from({ length: k }, (_, c) => rowsOf(halves.train, c));
  // n sprites of half A per class (all when it has fewer), the same count as the samples.
  const halfA = Array.from({ length: k }, (_, c) => {
    const rows = rowsOf(halves.test, c);
    const order = epochPermutation(rows.length, HALVES_SEED, c);
    return Array.from(order.slice(0, Math.min(n, rows.length)), (j) => rows[j]);
  });
  const referenceOf = halfB.map((rows) => momentsOf(features, rows, f));
  const referenceAll = balancedMoments(features, halfB, f);
  // KID compares features standardised by all the real sprites' statistics (see kid.ts).
  const scale = standardizer(features, labelled.length, f);
  const kidFeatures = standardize(features, scale);
  const halfBFeatures = { rows: kidFeatures, dim: f, groups: halfB };
  const kidOf = (groups: number[][]) =>
    kernelDistance({ rows: kidFeatures, dim: f, groups }, halfBFeatures);
  const near = nearestSprites(sprites, labelled.length, data.images, data.count, chw, labelled);
  const perClass: RealMetrics[] = data.classNames.map((_, c) => {
    const members = labelled.filter((i) => data.labels[i] === c);
    const distances = members.map((i) => near.distance[rowOf.get(i)!]);
    return {
      count: members.length,
      fidFloor: fidOf(momentsOf(features, halfA[c], f), referenceOf[c]),
      kidFloor: kernelDistance({ rows: kidFeatures, dim: f, groups: [halfA[c]] }, {
        ...halfBFeatures,
        groups: [halfB[c]],
      }),
      diversity: meanPairwiseDistance(gatherSprites(data, members), members.length, chw),
      nearDuplicates: share(distances, MEMORISATION_THRESHOLD),
      nearestMedian: median(distances),
    };
  });
  const overall: RealMetrics = {
    count: labelled.length,
    fidFloor: fidOf(balancedMoments(features, halfA, f), referenceAll),
    kidFloor: kidOf(halfA),
    diversity: mean(perClass.map((m) => m.diversity)),
    nearDuplicates: share(near.distance, MEMORISATION_THRESHOLD),
    nearestMedian: median(near.distance),
  };
  return { perClass, overall, referenceOf, referenceAll, halfBFeatures, scale };
}

/** Splits `total` sprites into equal batches of at most `batch` (the last one padded). */
export function batchPlan(total: number, batch: number): { batches: number; size: number } {
  const batches = Math.ceil(total / batch);
  return { batches, size: Math.ceil(total / batches) };
}

/** The noise seed of sampling batch j: the same for every guidance value, so they compare. */
const batchSeed = (seed: number, j: number) => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + j) >>> 0;

export async function evaluate(
  gpu: Gpu,
  weights: Weights,
  classifier: ClassifierWeights,
  data: SpriteDataset,
  opts: EvalOptions,
  hooks: EvalHooks = {},
): Promise<EvalReport> {
  checkCompatible(weights, classifier, data);
  const k = weights.config.num_classes;
  const chw = data.channels * IMAGE_SIZE ** 2;
  const f = classifier.config.features;
  const total = k * opts.n;
  const plan = batchPlan(total, opts.batch);
  const generator = Generator.fromWeights(gpu, weights);
  const fit = Math.min(...opts.guidances.map((g) => generator.maxSprites(g)));
  if (plan.size > fit) {
    generator.destroy();
    throw new InputError(
      `a sampling batch of ${plan.size} sprites is more than this adapter fits (${fit}); ` +
        "lower --batch",
    );
  }

  const classifierStore = new ParamStore(gpu, classifier.layout);
  upload(gpu, classifierStore.flat("param"), classifier.flat);
  const model = new SpriteClassifier(gpu, classifier.config, classifierStore, CLASSIFIER_BATCH);
  const real = await measureReal(model, data, opts.n);

  const stepsTotal = opts.guidances.length * plan.batches * opts.steps;
  const previewEvery = previewEveryFor(opts.steps);
  const classes = Array.from(
    { length: plan.batches * plan.size },
    (_, i) => i < total ? Math.floor(i / opts.n) : 0,
  );
  const rowsOf = (c: number) => Array.from({ length: opts.n }, (_, i) => c * opts.n + i);
  /** Class-major samples [K·n, C, 16, 16] judged: metrics, predictions, nearest sprites. */
  const score = async (images: Float32Array) => {
    const judged = await classify(model, images, total);
    const predicted = predictions(judged.logits, k);
    const nearest = nearestSprites(images, total, data.images, data.count, chw);
    const standardized = standardize(judged.features, real.scale);
    const sampleFeatures = (groups: number[][]) => ({ rows: standardized, dim: f, groups });
    const halfB = real.halfBFeatures;
    const perClass: SampleMetrics[] = Array.from({ length: k }, (_, c) => {
      const rows = rowsOf(c);
      const distances = rows.map((r) => nearest.distance[r]);
      return {
        accuracy: rows.filter((r) => predicted[r] === c).length / opts.n,
        fid: fidOf(momentsOf(judged.features, rows, f), real.referenceOf[c]),
        kid: kernelDistance(sampleFeatures([rows]), { ...halfB, groups: [halfB.groups[c]] }),
        memorised: share(distances, MEMORISATION_THRESHOLD),
        nearestMedian: median(distances),
        diversity: meanPairwiseDistance(images.subarray(c * opts.n * chw), opts.n, chw),
      };
    });
    const byClass = Array.from({ length: k }, (_, c) => rowsOf(c));
    const overall: SampleMetrics = {
      accuracy: mean(perClass.map((m) => m.accuracy)),
      fid: fidOf(balancedMoments(judged.features, byClass, f), real.referenceAll),
      kid: kernelDistance(sampleFeatures(byClass), halfB),
      memorised: share(nearest.distance, MEMORISATION_THRESHOLD),
      nearestMedian: median(nearest.distance),
      diversity: mean(perClass.map((m) => m.diversity)),
    };
    return { perClass, overall, predicted, nearest };
  };
  const reports: GuidanceReport[] = [];
  for (const [g, guidance] of opts.guidances.entries()) {
    const started = performance.now();
    const raw = new Float32Array(total * chw);
    const delivered: RgbaImage[] = [];
    for (let j = 0; j < plan.batches; j++) {
      const done = (g * plan.batches + j) * opts.steps;
      hooks.onProgress?.(done, stepsTotal, guidance);
      const result = await generator.generate({
        classes: classes.slice(j * plan.size, (j + 1) * plan.size),
        guidance,
        steps: opts.steps,
        sampler: opts.sampler,
        eta: opts.eta,
        thresholdPercentile: opts.thresholdPercentile,
        guidanceInterval: opts.guidanceInterval,
        seed: batchSeed(opts.seed, j),
        post: opts.post,
        previewEvery,
        onPreview: ({ step }) => hooks.onProgress?.(done + step, stepsTotal, guidance),
      });
      const keep = Math.min(plan.size, total - j * plan.size);
      raw.set(result.raw.subarray(0, keep * chw), j * plan.size * chw);
      delivered.push(...result.images.slice(0, keep));
    }
    const images = opts.score === "delivered" ? tensorFromImages(delivered, data.channels) : raw;
    const main = await score(images);
    const rawImages = generator.toImages(raw, total);
    const variantImages = (opts.variants ?? []).map((v) =>
      postProcess(rawImages, { seed: opts.seed, ...v.post })
    );
    const variants = [];
    for (const [i, v] of (opts.variants ?? []).entries()) {
      const { perClass, overall } = await score(tensorFromImages(variantImages[i], data.channels));
      variants.push({ label: v.label, perClass, overall });
    }
    const report = {
      guidance,
      seconds: (performance.now() - started) / 1000,
      perClass: main.perClass,
      overall: main.overall,
      variants,
    };
    reports.push(report);
    await hooks.onGuidance?.(
      report,
      { guidance, images, delivered, predicted: main.predicted, nearest: main.nearest },
      variantImages,
    );
  }
  generator.destroy();
  model.destroy();
  classifierStore.destroy();
  return {
    classNames: weights.classNames,
    threshold: MEMORISATION_THRESHOLD,
    real: { perClass: real.perClass, overall: real.overall },
    guidance: reports,
  };
}
