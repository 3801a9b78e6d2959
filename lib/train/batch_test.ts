import { deepStrictEqual, ok } from "node:assert/strict";
import { getGpu } from "../gpu/device.ts";
import { Program } from "../gpu/program.ts";
import { createTensor, download, downloadInt } from "../gpu/tensor.ts";
import { cosineSchedule } from "../diffusion/schedule.ts";
import { BatchMaker, epochPermutation } from "./batch.ts";

Deno.test("batch: epochs are seeded permutations", () => {
  const p = epochPermutation(100, 3, 0);
  deepStrictEqual([...p].sort((a, b) => a - b), [...Array(100).keys()]);
  deepStrictEqual(epochPermutation(100, 3, 0), p);
  ok(epochPermutation(100, 3, 1).some((v, i) => v !== p[i]));
});

Deno.test("batch: x_t = √ᾱ x0 + √(1−ᾱ) ε from the GPU's own draws, flips, dropout, null class", async () => {
  const gpu = await getGpu();
  const count = 40;
  const c = 4;
  const chw = c * 256;
  // Each sprite is asymmetric (values depend on the column), so a flip is visible.
  const images = new Float32Array(count * chw).map((_, i) =>
    ((i % 16) - 7.5) / 8 + Math.floor(i / chw) / 100
  );
  const labels = Int32Array.from({ length: count }, (_, i) => (i % 5 === 4 ? -1 : i % 3));
  const batch = 32;
  const out = {
    x: createTensor(gpu, [batch, c, 16, 16], "x"),
    tfrac: createTensor(gpu, [batch, 1], "tfrac"),
    labels: createTensor(gpu, [batch], "labels"),
  };
  const sched = cosineSchedule();
  const prog = new Program(gpu, "batch-test");
  const maker = new BatchMaker(
    gpu,
    { images, labels, count, channels: c, size: 16 },
    sched,
    {
      batch,
      seed: 11,
      pUncond: 0.25,
      flip: true,
      nullClass: 3,
    },
    out,
    prog,
  );
  const draw = async (step: number) => {
    maker.prepare(step);
    prog.run();
    return {
      x: await download(gpu, out.x),
      eps: await download(gpu, maker.target),
      t: await download(gpu, out.tfrac),
      labels: await downloadInt(gpu, out.labels),
    };
  };
  const a = await draw(5);
  const rows = maker.rows(5);
  let flipped = 0;
  let dropped = 0;
  for (let n = 0; n < batch; n++) {
    const t = Math.round(a.t[n] * 1000);
    ok(Number.isInteger(t) && t >= 0 && t < 1000);
    const sa = Math.sqrt(sched.alphaBar[t]);
    const sb = Math.sqrt(1 - sched.alphaBar[t]);
    const x0 = (flip: boolean, e: number) => {
      const col = e % 16;
      return images[rows[n] * chw + e - col + (flip ? 15 - col : col)];
    };
    const err = (flip: boolean) => {
      let m = 0;
      for (let e = 0; e < chw; e++) {
        m = Math.max(m, Math.abs(a.x[n * chw + e] - (sa * x0(flip, e) + sb * a.eps[n * chw + e])));
      }
      return m;
    };
    const isFlipped = err(true) < err(false);
    ok(Math.min(err(true), err(false)) < 1e-5, `row ${n}: x_t does not match`);
    if (isFlipped) flipped++;
    const label = labels[rows[n]];
    if (label < 0) deepStrictEqual(a.labels[n], 3);
    else if (a.labels[n] === 3) dropped++;
    else deepStrictEqual(a.labels[n], label);
  }
  ok(flipped > 4 && flipped < batch - 4, `flips ${flipped}/${batch}`);
  ok(dropped >= 1, "no label was dropped to the null class at p = 0.25");
  // The same step draws the same batch; another step draws new noise.
  deepStrictEqual(await draw(5), a);
  ok((await draw(6)).eps.some((v, i) => v !== a.eps[i]));
  const eps = a.eps;
  const mean = eps.reduce((s, v) => s + v, 0) / eps.length;
  const variance = eps.reduce((s, v) => s + (v - mean) ** 2, 0) / eps.length;
  ok(
    Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05,
    `noise mean ${mean}, variance ${variance}`,
  );
});

/** Half-width of a bound four standard errors wide: a fair draw lands outside once in 16,000. */
const fourSigma = (variance: number, count: number) => 4 * Math.sqrt(variance / count);

/** What one batch row drew, as read back from make_batch's outputs. */
interface RowDraw {
  t: number;
  /** The sprite's own label, −1 when unlabelled. */
  label: number;
  /** The label the model is given. */
  given: number;
  /** Whether x_t holds the mirrored sprite; undefined where √ᾱ is too small to tell. */
  flipped?: boolean;
}

Deno.test("batch: over 16,384 rows t is uniform on {0…T−1}, labels drop at p_uncond, half flip, all independent", async () => {
  const gpu = await getGpu();
  // Many rows of tiny 1×4×4 sprites: the statistics need rows, not pixels.
  const batch = 4096;
  const steps = 4;
  const size = 4;
  const chw = size * size;
  const T = 1000;
  const pUncond = 0.1;
  const nullClass = 3;
  // Every sprite is −½ in its left half and +½ in its right half: a flip negates it.
  const images = new Float32Array(batch * chw).map((_, i) => (i % size < size / 2 ? -0.5 : 0.5));
  const labels = Int32Array.from({ length: batch }, (_, i) => (i % 4 === 3 ? -1 : i % 3));
  const out = {
    x: createTensor(gpu, [batch, 1, size, size], "x"),
    tfrac: createTensor(gpu, [batch, 1], "tfrac"),
    labels: createTensor(gpu, [batch], "labels"),
  };
  const sched = cosineSchedule(T);
  const prog = new Program(gpu, "batch-stats");
  const maker = new BatchMaker(
    gpu,
    { images, labels, count: batch, channels: 1, size },
    sched,
    { batch, seed: 5, pUncond, flip: true, nullClass },
    out,
    prog,
  );
  const draw = async (step: number): Promise<RowDraw[]> => {
    maker.prepare(step);
    prog.run();
    const tfrac = await download(gpu, out.tfrac);
    const x = await download(gpu, out.x);
    const eps = await download(gpu, maker.target);
    const given = await downloadInt(gpu, out.labels);
    const rows = maker.rows(step);
    return Array.from({ length: batch }, (_, n) => {
      const t = Math.round(tfrac[n] * T);
      ok(t >= 0 && t < T && Math.abs(tfrac[n] * T - t) < 1e-3, `row ${n}: t/T = ${tfrac[n]}`);
      // x_t − √(1−ᾱ) ε = ±√ᾱ x0: the sign says whether the row was mirrored.
      const sa = Math.sqrt(sched.alphaBar[t]);
      const sb = Math.sqrt(1 - sched.alphaBar[t]);
      let flipped: boolean | undefined;
      if (sa >= 0.01) {
        let projection = 0;
        for (let e = 0; e < chw; e++) {
          const x0 = images[rows[n] * chw + e];
          projection += ((x[n * chw + e] - sb * eps[n * chw + e]) * x0) / (sa * 0.25 * chw);
        }
        ok(Math.abs(Math.abs(projection) - 1) < 1e-3, `row ${n}: x_t is not ±√ᾱ x0 + √(1−ᾱ) ε`);
        flipped = projection < 0;
      }
      return { t, label: labels[rows[n]], given: given[n], flipped };
    });
  };
  const byStep: RowDraw[][] = [];
  for (let step = 0; step < steps; step++) byStep.push(await draw(step));
  const all = byStep.flat();

  // t spreads over the whole range: χ² over 20 bins of 50 below the 0.1 % critical value
  // for 19 degrees of freedom (43.8), and both ends reached.
  const bins = new Array(20).fill(0);
  for (const { t } of all) bins[Math.floor(t / 50)]++;
  const expected = all.length / bins.length;
  const chi2 = bins.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
  ok(chi2 < 43.8, `t is not uniform: χ² ${chi2.toFixed(1)} over bins ${bins}`);
  const ts = all.map((r) => r.t);
  ok(
    Math.min(...ts) < 5 && Math.max(...ts) >= T - 5,
    `t spans ${Math.min(...ts)}…${Math.max(...ts)}`,
  );
  // The next step draws another t for (almost) every row: the same one for 1 row in T by chance.
  const same = byStep[0].filter((r, n) => r.t === byStep[1][n].t).length;
  ok(same < 0.01 * batch, `${same} of ${batch} rows keep their t from step 0 to step 1`);

  // Unlabelled rows always take the null class; labelled ones keep their label or drop to the
  // null class at p_uncond.
  for (const r of all) {
    if (r.label < 0 || r.given !== r.label) deepStrictEqual(r.given, nullClass, JSON.stringify(r));
  }
  const labelled = all.filter((r) => r.label >= 0);
  const dropped = labelled.filter((r) => r.given === nullClass);
  const dropRate = dropped.length / labelled.length;
  const dropBound = fourSigma(pUncond * (1 - pUncond), labelled.length);
  ok(
    Math.abs(dropRate - pUncond) <= dropBound,
    `${dropped.length} of ${labelled.length} labels dropped (${dropRate.toFixed(4)}), ` +
      `p_uncond ${pUncond} ± ${dropBound.toFixed(4)}`,
  );

  // Flips: half of the rows whose √ᾱ tells (all but t near T).
  const judged = all.filter((r) => r.flipped !== undefined);
  ok(judged.length > 0.95 * all.length, `only ${judged.length} rows have √ᾱ ≥ 0.01`);
  const flipped = judged.filter((r) => r.flipped);
  const flipRate = flipped.length / judged.length;
  const flipBound = fourSigma(0.25, judged.length);
  ok(
    Math.abs(flipRate - 0.5) <= flipBound,
    `${flipped.length} of ${judged.length} rows flipped (${flipRate.toFixed(4)}), ` +
      `½ ± ${flipBound.toFixed(4)}`,
  );

  // Independent draws: the rows that dropped their label, and those that flipped, have t
  // spread as all rows do (mean (T − 1) / 2, variance (T² − 1) / 12), and the dropped rows
  // flip as often as the others.
  const tVariance = (T * T - 1) / 12;
  for (const [what, subset] of [["dropped", dropped], ["flipped", flipped]] as const) {
    const mean = subset.reduce((s, r) => s + r.t, 0) / subset.length;
    const bound = fourSigma(tVariance, subset.length);
    ok(
      Math.abs(mean - (T - 1) / 2) <= bound,
      `mean t of the ${what} rows is ${mean.toFixed(1)}, not ${(T - 1) / 2} ± ${bound.toFixed(1)}`,
    );
  }
  const droppedJudged = dropped.filter((r) => r.flipped !== undefined);
  const flippedShare = droppedJudged.filter((r) => r.flipped).length / droppedJudged.length;
  const bound = fourSigma(0.25, droppedJudged.length);
  ok(
    Math.abs(flippedShare - 0.5) <= bound,
    `${flippedShare.toFixed(3)} of the dropped rows flipped, not ½ ± ${bound.toFixed(3)}`,
  );
});
