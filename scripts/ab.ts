/**
 * A/B speed comparison in one process: the same workload built from another revision's
 * source tree (A, the base) and from this checkout (B), timed alternately (A B B A …)
 * so that the load of a shared machine falls on both alike.
 *
 *   deno run -A scripts/ab.ts --base REV [--work forward|train] [--config small] [--batch 2]
 *                             [--rounds 9] [--family NAME]
 *
 * REV is any git revision (extracted to a temporary folder), or `.` for this checkout
 * itself. --family times only the dispatches of one layer family
 * (a row name of scripts/profile.ts, e.g. "conv 1×1 dw"; both trees must have
 * Program.select). Prints the medians of both and the median of the
 * per-round ratios A/B (> 1: B is faster), on wall time and on CPU time ÷ cores.
 */

import { parseArgs } from "node:util";
import { PRESETS } from "../lib/model/config.ts";
import { median, medianTiming, Timer, type Timing } from "./timing.ts";
import { loadTree, samplingForward, trainingStep, type Tree, whole } from "./workloads.ts";

function fail(message: string): never {
  console.error(`error: ${message}`);
  Deno.exit(2);
}

async function extract(rev: string): Promise<URL> {
  if (rev === ".") return new URL("../", import.meta.url);
  const dir = await Deno.makeTempDir({ prefix: "ab-base-" });
  const repo = new URL("../", import.meta.url).pathname;
  const archive = new Deno.Command("git", {
    args: ["-C", repo, "archive", "--format=tar", rev],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!archive.success) fail(`git archive ${rev}: ${new TextDecoder().decode(archive.stderr)}`);
  const tar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped" }).spawn();
  const writer = tar.stdin.getWriter();
  await writer.write(archive.stdout);
  await writer.close();
  if (!(await tar.status).success) fail(`could not unpack ${rev}`);
  return new URL(`file://${dir}/`);
}

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    work: { type: "string", default: "forward" },
    config: { type: "string", default: "small" },
    batch: { type: "string", default: "2" },
    rounds: { type: "string", default: "9" },
    "target-ms": { type: "string", default: "400" },
    family: { type: "string" },
  },
});
if (!values.base) fail("--base REV is required (a git revision, or . for this checkout)");
const config = PRESETS[values.config];
if (!config) fail(`unknown config ${values.config}; use ${Object.keys(PRESETS).join(", ")}`);
if (values.work !== "forward" && values.work !== "train") fail("--work must be forward or train");
const batch = Number(values.batch);
const rounds = Number(values.rounds);
const targetMs = Number(values["target-ms"]);
if (!Number.isInteger(batch) || batch < 1) fail(`--batch must be a positive integer`);
if (!Number.isInteger(rounds) || rounds < 1 || !(targetMs > 0)) {
  fail("--rounds must be a positive integer and --target-ms positive");
}

const baseRoot = await extract(values.base);
const trees: Tree[] = [
  await loadTree(baseRoot),
  await loadTree(new URL("../", import.meta.url)),
];
const sides = trees.map((t) => {
  const w = values.work === "train"
    ? trainingStep(t, config, batch)
    : samplingForward(t, config, batch);
  const timer = new Timer(t.gpu);
  const prog = whole(t, w, values.family);
  if (prog.length === 0) fail(`no dispatches of family "${values.family}" in ${t.root}`);
  return { tree: t, w, prog, timer };
});
for (const s of sides) await s.timer.calibrate(new s.tree.program.Program(s.tree.gpu, "empty"));
const reps = await sides[0].timer.repsFor(sides[0].prog);
await sides[1].timer.repsFor(sides[1].prog); // warm-up
const runs: Timing[][] = [[], []];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? [0, 1] : [1, 0];
  for (const i of order) runs[i].push(await sides[i].timer.once(sides[i].prog, reps));
}
const [a, b] = runs.map(medianTiming);
const ratio = (k: keyof Timing) => median(runs[0].map((x, i) => x[k] / runs[1][i][k]));
const label = `${values.work} ${values.config} batch ${batch}` +
  (values.family ? ` (${values.family} only)` : "");
console.log(
  `${label}: A = ${values.base}, B = this checkout; ` +
    `${rounds} rounds × ${reps} replays; ms per replay, medians`,
);
console.log(`| | A | B | A/B |`);
console.log(`|---|---|---|---|`);
console.log(`| wall | ${a.wall.toFixed(2)} | ${b.wall.toFixed(2)} | ${ratio("wall").toFixed(3)} |`);
console.log(
  `| CPU ÷ cores | ${a.cpu.toFixed(2)} | ${b.cpu.toFixed(2)} | ${ratio("cpu").toFixed(3)} |`,
);
for (const s of sides) s.w.destroy();
if (values.base !== ".") await Deno.remove(baseRoot, { recursive: true });
