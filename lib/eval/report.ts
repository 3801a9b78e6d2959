/**
 * The evaluation written down: report.json (every number), report.md (tables per measure,
 * what each one means, and the pictures), the two charts (guidance vs accuracy and FID), and
 * per guidance value a sample sheet and the closest sample / training sprite pairs.
 */

import { imageFromTensor, type RgbaImage } from "../io/image.ts";
import { composeSheet } from "../io/sheet.ts";
import { IMAGE_SIZE, type ModelConfig } from "../model/config.ts";
import { BLACK, drawLineChart, PALETTE } from "./chart.ts";
import type { ClassifierTraining } from "./classifier_io.ts";
import { mirrored } from "./distance.ts";
import type {
  EvalOptions,
  EvalReport,
  GuidanceReport,
  GuidanceSamples,
  RealMetrics,
  SampleMetrics,
} from "./evaluate.ts";

/** Everything about the run that is not a measurement. */
export interface ReportContext {
  weights: string;
  config: ModelConfig;
  provenance: Record<string, unknown>;
  classifier: string;
  classifierTraining: ClassifierTraining;
  /** Width of the classifier's feature layer (the FID's space). */
  classifierFeatures: number;
  data: string;
  options: EvalOptions;
  adapter: string;
  seconds: number;
}

/** The file stem of a guidance value's pictures: 7.5 → "g7.5". */
const guidanceTag = (g: number): string => `g${g}`;

export const FILES = {
  json: "report.json",
  markdown: "report.md",
  accuracyChart: "accuracy.png",
  fidChart: "fid.png",
  samples: (g: number) => `samples-${guidanceTag(g)}.png`,
  /** The sample sheet of post-processing variant `v` (0-based) at guidance `g`. */
  variantSamples: (g: number, v: number) => `samples-${guidanceTag(g)}-post${v + 1}.png`,
  nearest: (g: number) => `nearest-${guidanceTag(g)}.png`,
};

export function reportJson(report: EvalReport, ctx: ReportContext): string {
  return JSON.stringify({ ...ctx, ...report }, (_, v) => (Number.isNaN(v) ? null : v), 2) + "\n";
}

/** KID is shown ×1000, as is usual. */
export const KID_SCALE = 1000;

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : "–");
const num = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "–");

/** A markdown table: one row per class and one for all classes. */
function table(
  head: string[],
  classNames: string[],
  cells: (c: number) => string[],
  overall: string[],
): string {
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "--:")).join("|")}|`,
    ...classNames.map((name, c) => `| ${name} | ${cells(c).join(" | ")} |`),
    `| **all classes** | ${overall.join(" | ")} |`,
  ];
  return lines.join("\n");
}

export function reportMarkdown(report: EvalReport, ctx: ReportContext): string {
  const o = ctx.options;
  const k = report.classNames.length;
  const gs = report.guidance;
  const head = (last: string) => ["class", ...gs.map((g) => `w = ${g.guidance}`), last];
  const metric = (pick: (m: SampleMetrics) => string, real: (m: RealMetrics) => string) =>
    table(
      head("real"),
      report.classNames,
      (c) => [...gs.map((g) => pick(g.perClass[c])), real(report.real.perClass[c])],
      [...gs.map((g) => pick(g.overall)), real(report.real.overall)],
    );
  const test = ctx.classifierTraining.testAccuracy;
  const threshold = report.threshold;
  const lines = [
    `# Sample quality of ${ctx.weights}`,
    "",
    `${o.n} samples per class at each guidance value w (${o.sampler}, ${o.steps} steps` +
    `${o.sampler === "ddim" ? `, eta ${o.eta}` : ""}` +
    `${o.thresholdPercentile ? `, threshold ${o.thresholdPercentile} %` : ""}` +
    `${o.guidanceInterval ? `, guidance at t/T in [${o.guidanceInterval.join(", ")}]` : ""}` +
    `, seed ${o.seed}), judged against the real ` +
    `sprites of ${ctx.data}. ${ctx.adapter}, ${(ctx.seconds / 60).toFixed(1)} min ` +
    `(${gs.map((g) => `w = ${g.guidance}: ${g.seconds.toFixed(0)} s`).join(", ")}).`,
    "",
    `Model: \`${JSON.stringify(ctx.config)}\`; provenance \`${JSON.stringify(ctx.provenance)}\`.`,
    "",
    `Judge: the sprite classifier ${ctx.classifier} (trained with this project's kernels on ` +
    `${pct(1 - ctx.classifierTraining.recipe.testFraction)} of the labelled sprites, split seed ` +
    `${ctx.classifierTraining.recipe.seed}): held-out accuracy ${pct(test.overall)}, ` +
    `${pct(test.balanced)} averaged over classes.`,
    "",
    "## Class-consistency accuracy",
    "",
    `The share of samples the classifier assigns to the class they were conditioned on ` +
    `(chance: ${pct(1 / k)}). The last column is the classifier's accuracy on held-out real ` +
    "sprites (their count in parentheses): samples cannot be expected to score higher.",
    "",
    table(
      head("real (held-out)"),
      report.classNames,
      (c) => [
        ...gs.map((g) => pct(g.perClass[c].accuracy)),
        `${pct(test.perClass[c])} (${test.counts[c]})`,
      ],
      [...gs.map((g) => pct(g.overall.accuracy)), pct(test.balanced)],
    ),
    "",
    `![guidance vs accuracy](${FILES.accuracyChart})`,
    "",
    "## Sprite FID",
    "",
    "Fréchet distance between the samples and the real sprites in the classifier's " +
    `${ctx.classifierFeatures} penultimate features (lower is better). The real ` +
    "sprites of each class are split in two fixed halves A and B; samples are compared with " +
    `half B, and the floor ("real") is the FID of ${o.n} sprites of half A (all of it when ` +
    "smaller) against the same half B, i.e. what real sprites of the same number score. " +
    "All classes: every class weighs the same on both sides. With few sprites FID is biased " +
    "upwards and noisy, so compare numbers of equal n only.",
    "",
    metric((m) => num(m.fid), (m) => num(m.fidFloor)),
    "",
    `![guidance vs FID](${FILES.fidChart})`,
    "",
    "## Kernel distance (KID)",
    "",
    "The squared maximum mean discrepancy between samples and half B in the same features, " +
    "each standardised by the real sprites' mean and standard deviation, under the cubic " +
    "polynomial kernel k(x, y) = (xᵀy / d + 1)³, estimated without bias, " +
    "×1000 (lower is better; it can dip below 0). Unlike FID its expected value does not " +
    "depend on n. The floor (half A against half B at the same n, as for FID) would be 0 on " +
    "average for independent draws; the halves are fixed disjoint parts of a small set, so " +
    "its size shows the estimate's noise at this n rather than a bias to subtract.",
    "",
    metric((m) => num(KID_SCALE * m.kid, 2), (m) => num(KID_SCALE * m.kidFloor, 2)),
    "",
    "## Memorisation",
    "",
    `The share of samples within ${threshold} of a sprite of the training set or its mirror ` +
    "image, in root-mean-square difference per value in [−1, 1] RGBA units: closer than one " +
    "completely changed pixel (0.125), i.e. a copy up to faint noise. Median distance to the " +
    "nearest training sprite in parentheses. The real column is the same for each real " +
    "sprite against the other sprites of the dataset (duplicates and palette swaps in the " +
    "data itself). The pictures pair each class's closest samples (left) with their nearest " +
    "training sprite (right).",
    "",
    metric(
      (m) => `${pct(m.memorised)} (${num(m.nearestMedian, 3)})`,
      (m) => `${pct(m.nearDuplicates)} (${num(m.nearestMedian, 3)})`,
    ),
    "",
    ...gs.flatMap((g) => [`w = ${g.guidance}: ![nearest pairs](${FILES.nearest(g.guidance)})`, ""]),
    "## Diversity",
    "",
    "Mean pairwise distance (same units) among the samples of a class, and among the real " +
    "sprites of the class: far below the real value means the samples look alike.",
    "",
    metric((m) => num(m.diversity, 3), (m) => num(m.diversity, 3)),
    "",
    ...postProcessed(report, ctx),
    "## Samples",
    "",
    "One row per class (the first 16 samples).",
    "",
    ...gs.flatMap((
      g,
    ) => [`w = ${g.guidance}:`, "", `![samples](${FILES.samples(g.guidance)})`, ""]),
  ];
  return lines.join("\n");
}

/** The variants' section: accuracy and FID over all classes beside the main score's. */
function postProcessed(report: EvalReport, ctx: ReportContext): string[] {
  const gs = report.guidance;
  const labels = gs[0]?.variants.map((v) => v.label) ?? [];
  if (labels.length === 0) return [];
  const main = ctx.options.score === "delivered" ? "as delivered (alpha snapped)" : "raw output";
  const head = [
    "sprites",
    ...gs.flatMap((g) => [`accuracy w = ${g.guidance}`, `FID w = ${g.guidance}`]),
  ];
  const row = (label: string, pick: (g: GuidanceReport) => SampleMetrics) =>
    `| ${label} | ${gs.flatMap((g) => [pct(pick(g).accuracy), num(pick(g).fid)]).join(" | ")} |`;
  return [
    "## Post-processed sprites",
    "",
    "The same samples through each post-processing pipeline (`sample`'s palette options, " +
    "written without dashes), " +
    "scored as above over all classes; the first row is the scores above. Per-class numbers " +
    `are in ${FILES.json}.`,
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "--:")).join("|")}|`,
    row(main, (g) => g.overall),
    ...labels.map((label, v) => row(`\`${label}\``, (g) => g.variants[v].overall)),
    "",
    ...labels.flatMap((label, v) => [
      `\`${label}\`: ${
        gs.map((g) => `w = ${g.guidance} ![${label}](${FILES.variantSamples(g.guidance, v)})`)
          .join(" ")
      }`,
      "",
    ]),
  ];
}

/** One line per class over the guidance values, plus all classes (black, thick). */
function guidanceChart(
  report: EvalReport,
  title: string,
  value: (m: SampleMetrics) => number,
  reference: { name: string; value: number },
  range: { yMin?: number; yMax?: number },
): RgbaImage {
  return drawLineChart({
    title,
    xLabel: "guidance",
    x: report.guidance.map((g) => g.guidance),
    series: [
      ...report.classNames.map((name, c) => ({
        name,
        color: PALETTE[c % PALETTE.length],
        values: report.guidance.map((g) => value(g.perClass[c])),
      })),
      {
        name: "all classes",
        color: BLACK,
        values: report.guidance.map((g) => value(g.overall)),
        width: 3,
      },
    ],
    references: [{ ...reference, color: BLACK }],
    ...range,
  });
}

export const accuracyChart = (report: EvalReport, ctx: ReportContext): RgbaImage =>
  guidanceChart(
    report,
    `class-consistency accuracy (${ctx.options.sampler}, ${ctx.options.steps} steps)`,
    (m) => m.accuracy,
    { name: "real held-out", value: ctx.classifierTraining.testAccuracy.balanced },
    { yMin: 0, yMax: 1 },
  );

export const fidChart = (report: EvalReport, ctx: ReportContext): RgbaImage =>
  guidanceChart(
    report,
    `sprite FID (${ctx.options.sampler}, ${ctx.options.steps} steps, n = ${ctx.options.n})`,
    (m) => m.fid,
    { name: "real floor", value: report.real.overall.fidFloor },
    {},
  );

/** Samples shown per class in a sheet, and closest pairs per class in the pairs picture. */
const SHEET_COLUMNS = 16;
const PAIRS_PER_CLASS = 4;

/** One row per class: its first samples as users get them, 4× upscaled over the checkerboard. */
export function samplesSheet(s: GuidanceSamples, classes: number, n: number): RgbaImage {
  const rows = Array.from(
    { length: classes },
    (_, c) => s.delivered.slice(c * n, c * n + Math.min(n, SHEET_COLUMNS)),
  );
  return composeSheet(rows, { scale: 4, gap: 2, checker: true });
}

/**
 * One row per class: its samples closest to a training sprite, each beside that sprite (as
 * compared: mirrored when the mirror image was nearer), closest first.
 */
export function nearestPairs(
  s: GuidanceSamples,
  training: Float32Array,
  classes: number,
  n: number,
  channels: number,
): RgbaImage {
  const chw = channels * IMAGE_SIZE ** 2;
  const rows = Array.from({ length: classes }, (_, c) => {
    const closest = Array.from({ length: n }, (_, i) => c * n + i)
      .sort((a, b) => s.nearest.distance[a] - s.nearest.distance[b])
      .slice(0, PAIRS_PER_CLASS);
    return closest.map((row) => {
      const index = s.nearest.index[row];
      const sprite = training.subarray(index * chw, (index + 1) * chw);
      const nearest = s.nearest.flipped[row] ? mirrored(sprite, 1, chw) : sprite;
      const pair = [s.delivered[row], imageFromTensor(nearest, channels, IMAGE_SIZE, IMAGE_SIZE)];
      return composeSheet([pair], { scale: 4, gap: 2, checker: true });
    });
  });
  return composeSheet(rows, { scale: 1, gap: 12, checker: false });
}
