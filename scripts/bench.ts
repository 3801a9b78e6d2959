/**
 * Speed of this project beside PyTorch on the same machine, in the same run.
 *
 *   deno run -A scripts/bench.ts [--configs reference,small] [--only train,forward,sample] [--reps 5]
 *                                [--no-torch] [--torch-device cpu|cuda] [--torch-threads N]
 *                                [--python /usr/bin/python3]
 *
 * Ours: medians of --reps timed runs after a warm-up (pipelines compiled first).
 * Training: `k` replayed steps per timed run, waited on once. Forward: `k`
 * forwards in one submission. Sampling: a full guided run of 20 DDIM steps
 * (one batched forward of 2N rows per step); its per-step time × 1000 (DDPM) or
 * × 50 (DDIM) is extrapolated, as the PyTorch side does. The PyTorch numbers come
 * from scripts/bench_torch.py (Debian's /usr/bin/python3 with python3-torch, or the
 * interpreter --python names), started after ours so the two never share the cores;
 * --torch-device cuda runs PyTorch on an NVIDIA GPU, --no-torch skips it. Nothing here
 * assumes a CPU adapter: on a GPU the same kernels run through whatever adapter Deno's
 * WebGPU finds (Vulkan on Linux), and the first line names it.
 */

import { parseArgs } from "node:util";
import { getGpu, type Gpu } from "../lib/gpu/device.ts";
import { Program } from "../lib/gpu/program.ts";
import { Generator } from "../lib/generate/generator.ts";
import { type ModelConfig, paramSpecs, PRESETS } from "../lib/model/config.ts";
import { initParams } from "../lib/model/init.ts";
import { ContextUNet } from "../lib/model/unet.ts";
import { ParamLayout, ParamStore } from "../lib/nn/params.ts";
import { upload } from "../lib/gpu/tensor.ts";
import { RECIPE, Trainer } from "../lib/train/trainer.ts";

interface Row {
  what: string;
  config: string;
  batch: number;
  ms: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(reps: number, run: () => Promise<void>): Promise<number> {
  await run(); // warm-up: compiles every pipeline
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function syntheticData(config: ModelConfig, count: number) {
  const chw = config.in_ch * 256;
  const images = new Float32Array(count * chw).map((_, i) => Math.sin(i * 0.37) * 0.9);
  const labels = Int32Array.from({ length: count }, (_, i) => i % config.num_classes);
  return { images, labels, count, channels: config.in_ch, size: 16 };
}

async function benchTrain(gpu: Gpu, name: string, config: ModelConfig, reps: number): Promise<Row> {
  const batch = RECIPE.batch;
  const trainer = new Trainer(gpu, config, syntheticData(config, 2 * batch), {
    ...RECIPE,
    seed: 0,
    totalSteps: 1e9,
  });
  const k = 2;
  const ms = await timed(reps, async () => {
    for (let i = 0; i < k; i++) trainer.runStep();
    await trainer.drainLog();
  });
  return { what: "train_step", config: name, batch, ms: ms / k };
}

function paramsFor(gpu: Gpu, config: ModelConfig): ParamStore {
  const layout = new ParamLayout(paramSpecs(config));
  const store = new ParamStore(gpu, layout);
  upload(gpu, store.flat("param"), initParams(layout, 0));
  return store;
}

async function benchForward(
  gpu: Gpu,
  name: string,
  config: ModelConfig,
  batch: number,
  reps: number,
) {
  const store = paramsFor(gpu, config);
  const model = new ContextUNet(gpu, config, store, batch, { staticWeights: true });
  model.prepare.run();
  const k = batch <= 4 ? 20 : 4;
  const all = new Program(gpu, "bench.forward");
  for (let i = 0; i < k; i++) all.append(model.forward);
  const ms = await timed(reps, async () => {
    all.run();
    await gpu.sync();
  });
  model.destroy();
  store.destroy();
  return { what: "forward", config: name, batch, ms: ms / k };
}

async function benchSample(
  gpu: Gpu,
  name: string,
  config: ModelConfig,
  sprites: number,
  reps: number,
) {
  const classNames = Array.from({ length: config.num_classes }, (_, i) => `class ${i}`);
  const generator = new Generator(gpu, config, classNames, paramsFor(gpu, config));
  const steps = 20;
  const classes = Array.from({ length: sprites }, (_, i) => i % config.num_classes);
  const ms = await timed(reps, async () => {
    await generator.generate({ classes, guidance: 7.5, steps, sampler: "ddim", seed: 1 });
  });
  generator.destroy();
  return { what: "sample_step_batched", config: name, batch: sprites, ms: ms / steps };
}

interface TorchOptions {
  python: string;
  device: string;
  threads: number;
}

function torchRows(configs: string[], only: string[], reps: number, o: TorchOptions): Row[] {
  const torchName = (c: string) => (c === "reference" ? "ref" : c);
  const script = new URL("./bench_torch.py", import.meta.url).pathname;
  const args = [
    script,
    "--configs",
    configs.map(torchName).join(","),
    "--reps",
    String(reps),
    "--device",
    o.device,
    "--threads",
    String(o.threads),
  ];
  for (const w of only) args.push("--only", w);
  let out: Deno.CommandOutput;
  try {
    out = new Deno.Command(o.python, { args, stderr: "inherit" }).outputSync();
  } catch {
    console.error(
      `PyTorch side skipped: ${o.python} not found (apt-get install python3-torch, or --python)`,
    );
    return [];
  }
  if (!out.success) {
    console.error(`PyTorch side failed (does ${o.python} have torch?)`);
    return [];
  }
  return new TextDecoder().decode(out.stdout).trim().split("\n").filter(Boolean).map((l) => {
    const r = JSON.parse(l);
    return {
      what: r.what,
      config: r.config === "ref" ? "reference" : r.config,
      batch: r.batch,
      ms: r.ms,
    };
  });
}

const { values } = parseArgs({
  options: {
    configs: { type: "string", default: "reference,small" },
    only: { type: "string", default: "train,forward,sample" },
    reps: { type: "string", default: "5" },
    "no-torch": { type: "boolean" },
    "torch-device": { type: "string", default: "cpu" },
    "torch-threads": { type: "string", default: "2" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
});
const torchOptions: TorchOptions = {
  python: values.python,
  device: values["torch-device"],
  threads: Number(values["torch-threads"]),
};
if (torchOptions.device !== "cpu" && torchOptions.device !== "cuda") {
  console.error(`error: --torch-device must be cpu or cuda, not ${torchOptions.device}`);
  Deno.exit(2);
}
if (!Number.isInteger(torchOptions.threads) || torchOptions.threads < 1) {
  console.error(`error: --torch-threads must be a positive integer`);
  Deno.exit(2);
}
const configs = values.configs.split(",");
const only = values.only.split(",");
const reps = Number(values.reps);
const badConfig = configs.find((c) => !PRESETS[c]);
const badWork = only.find((w) => !["train", "forward", "sample"].includes(w));
if (badConfig || badWork || !Number.isInteger(reps) || reps < 1) {
  console.error(
    `error: ${
      badConfig
        ? `unknown config ${badConfig}`
        : badWork
        ? `unknown --only ${badWork}`
        : "--reps must be a positive integer"
    }` +
      " (configs: reference, small, tiny; --only: train, forward, sample)",
  );
  Deno.exit(2);
}
const gpu = await getGpu();
const ours: Row[] = [];
for (const name of configs) {
  const config = { ...PRESETS[name] };
  if (only.includes("forward")) {
    for (const b of [2, 32]) ours.push(await benchForward(gpu, name, config, b, reps));
  }
  if (only.includes("sample")) {
    for (const n of [1, 16]) ours.push(await benchSample(gpu, name, config, n, reps));
  }
  if (only.includes("train")) ours.push(await benchTrain(gpu, name, config, Math.min(reps, 3)));
}
const theirs = values["no-torch"] ? [] : torchRows(configs, only, reps, torchOptions);
const a = gpu.adapter;
console.log(
  `adapter: ${a.description} (vendor ${a.vendor || "?"}, ${a.architecture || "?"}` +
    `${a.isFallbackAdapter ? ", fallback" : ""}); ${navigator.hardwareConcurrency} CPU cores; ` +
    (values["no-torch"]
      ? "PyTorch not run"
      : `PyTorch: ${torchOptions.python} scripts/bench_torch.py --device ${torchOptions.device}, ` +
        "same machine"),
);
console.log(
  "| work | config | batch | ours ms | PyTorch ms | PyTorch/ours (speed ratio) | ours images/s |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of ours) {
  const t = theirs.find((x) => x.what === r.what && x.config === r.config && x.batch === r.batch);
  const images = r.what === "sample_step_batched"
    ? r.batch / (r.ms * 1000 / 1000)
    : (r.batch / r.ms) * 1000;
  console.log(
    `| ${r.what} | ${r.config} | ${r.batch} | ${r.ms.toFixed(1)} | ${
      t ? t.ms.toFixed(1) : "–"
    } | ` +
      `${t ? (t.ms / r.ms).toFixed(2) : "–"} | ${
        r.what === "sample_step_batched" ? "–" : images.toFixed(1)
      } |`,
  );
}
for (const r of theirs.filter((x) => x.what === "sample_step")) {
  console.log(
    `| original sampler (2 passes) | ${r.config} | ${r.batch} | – | ${r.ms.toFixed(1)} | – | – |`,
  );
}
