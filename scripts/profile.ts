/**
 * Per-layer profile: where a training step and a sampling forward spend their time,
 * by layer family (conv 3×3 / 1×1 forward, input gradient, weight gradient, GroupNorm,
 * attention core, linear, resample, loss, optimizer …), on this machine's adapter.
 *
 *   deno run -A scripts/profile.ts [--configs small,reference] [--batches 128,2,32] [--reps 5]
 *                                  [--target-ms 300] [--json FILE]
 *
 * Batch 128 profiles the training step (forward, MSE, backward, clip + AdamW + EMA,
 * the weights repacked every step as training does); other batches profile the
 * static-weights forward that sampling replays (2 rows = one guided sprite, 32 = 16).
 * Each family's dispatches are replayed on their real buffers, `reps` times in one
 * pass, so a median covers ≥ --target-ms of work; the queue round trip (measured
 * with an empty submission) is subtracted. Families are timed one after another, so
 * the sum differs a little from the whole program, which is timed as well. Medians
 * of --reps; wall time, and this process's CPU time (llvmpipe's threads included)
 * divided by the core count, which other processes on a shared machine disturb less.
 */

import { parseArgs } from "node:util";
import { PRESETS } from "../lib/model/config.ts";
import { RECIPE } from "../lib/train/trainer.ts";
import { Timer, type Timing } from "./timing.ts";
import {
  family,
  flops,
  loadTree,
  samplingForward,
  trainingStep,
  type Tree,
  whole,
  type Workload,
} from "./workloads.ts";

const TRAIN_BATCH = RECIPE.batch;

interface ProfileRow {
  family: string;
  dispatches: number;
  wall: number;
  cpu: number;
  gflop: number;
}

async function profile(
  t: Tree,
  timer: Timer,
  w: Workload,
): Promise<{ rows: ProfileRow[]; total: Timing }> {
  const rows: ProfileRow[] = [];
  for (const { prog, phase } of w.parts) {
    const families = [...new Set(prog.dispatches.map((d) => family(d, phase)))];
    for (const f of families) {
      const sub = prog.select((d) => family(d, phase) === f, f);
      const time = await timer.time(sub);
      const gflop = sub.dispatches.reduce((a, d) => a + flops(d), 0) / 1e9;
      rows.push({ family: f, dispatches: sub.length, ...time, gflop });
    }
  }
  return { rows, total: await timer.time(whole(t, w)) };
}

function table(
  columns: string[],
  results: { rows: ProfileRow[]; total: Timing }[],
): string {
  const families: string[] = [];
  for (const r of results) {
    for (const row of r.rows) if (!families.includes(row.family)) families.push(row.family);
  }
  const cell = (row: ProfileRow | undefined, total: Timing) => {
    if (!row) return "–";
    const share = (100 * row.wall / total.wall).toFixed(0);
    const rate = row.gflop > 0 ? `, ${(row.gflop / (row.wall / 1e3)).toFixed(1)} GF/s` : "";
    return `${row.wall.toFixed(row.wall < 10 ? 2 : 1)} (${share} %${rate})`;
  };
  const lines = [
    `| family | ${columns.join(" | ")} |`,
    `|---|${columns.map(() => "---").join("|")}|`,
  ];
  for (const f of families) {
    lines.push(
      `| ${f} | ${
        results.map((r) => cell(r.rows.find((x) => x.family === f), r.total)).join(" | ")
      } |`,
    );
  }
  const sum = (r: { rows: ProfileRow[] }) => r.rows.reduce((a, x) => a + x.wall, 0);
  lines.push(`| sum of families | ${results.map((r) => sum(r).toFixed(1)).join(" | ")} |`);
  lines.push(
    `| whole program (wall / CPU÷cores) | ${
      results.map((r) => `${r.total.wall.toFixed(1)} / ${r.total.cpu.toFixed(1)}`).join(" | ")
    } |`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      configs: { type: "string", default: "small,reference" },
      batches: { type: "string", default: `${TRAIN_BATCH},2,32` },
      reps: { type: "string", default: "5" },
      "target-ms": { type: "string", default: "300" },
      json: { type: "string" },
    },
  });
  const configs = values.configs.split(",");
  const batches = values.batches.split(",").map(Number);
  const reps = Number(values.reps);
  const targetMs = Number(values["target-ms"]);
  for (const c of configs) {
    if (!PRESETS[c]) {
      console.error(`error: unknown config ${c}; use ${Object.keys(PRESETS).join(", ")}`);
      Deno.exit(2);
    }
  }
  if (batches.some((b) => !Number.isInteger(b) || b < 1)) {
    console.error(`error: --batches must be positive integers, got ${values.batches}`);
    Deno.exit(2);
  }
  if (!(Number.isInteger(reps) && reps >= 1) || !(targetMs > 0)) {
    console.error("error: --reps must be an integer ≥ 1 and --target-ms positive");
    Deno.exit(2);
  }
  const tree = await loadTree(new URL("../", import.meta.url));
  const gpu = tree.gpu;
  const timer = new Timer(gpu, reps, targetMs);
  await timer.calibrate(new tree.program.Program(gpu, "empty"));
  console.log(
    `adapter: ${gpu.adapter.description}; ${navigator.hardwareConcurrency} cores; ` +
      `queue round trip ${
        timer.base.wall.toFixed(1)
      } ms (subtracted); ms per step, median of ${reps}`,
  );
  const columns: string[] = [];
  const results: { rows: ProfileRow[]; total: Timing }[] = [];
  for (const b of batches) {
    for (const name of configs) {
      const config = PRESETS[name];
      const built = b === TRAIN_BATCH
        ? trainingStep(tree, config, b)
        : samplingForward(tree, config, b);
      const label = b === TRAIN_BATCH ? `${name} train b${b}` : `${name} fwd b${b}`;
      console.error(`profiling ${label} …`);
      results.push(await profile(tree, timer, built));
      columns.push(label);
      built.destroy();
    }
  }
  console.log(table(columns, results));
  if (values.json) {
    await Deno.writeTextFile(
      values.json,
      JSON.stringify(columns.map((c, i) => ({ column: c, ...results[i] })), null, 1),
    );
  }
}
