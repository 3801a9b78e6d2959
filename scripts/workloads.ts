/**
 * The workloads the speed scripts time, built from the modules of a source tree: this
 * checkout, or another revision extracted by scripts/ab.ts, so old and new kernels run
 * side by side in one process (each tree gets a WebGPU device of its own).
 */

import type { Gpu } from "../lib/gpu/device.ts";
import type { DispatchInfo, Program } from "../lib/gpu/program.ts";
import type { ModelConfig } from "../lib/model/config.ts";

type Modules = {
  device: typeof import("../lib/gpu/device.ts");
  program: typeof import("../lib/gpu/program.ts");
  tensor: typeof import("../lib/gpu/tensor.ts");
  config: typeof import("../lib/model/config.ts");
  init: typeof import("../lib/model/init.ts");
  unet: typeof import("../lib/model/unet.ts");
  loss: typeof import("../lib/nn/loss.ts");
  optim: typeof import("../lib/nn/optim.ts");
  params: typeof import("../lib/nn/params.ts");
  trainer: typeof import("../lib/train/trainer.ts");
};

/** A source tree's modules and its own GPU device. */
export interface Tree extends Modules {
  root: string;
  gpu: Gpu;
}

const PATHS: Record<keyof Modules, string> = {
  device: "lib/gpu/device.ts",
  program: "lib/gpu/program.ts",
  tensor: "lib/gpu/tensor.ts",
  config: "lib/model/config.ts",
  init: "lib/model/init.ts",
  unet: "lib/model/unet.ts",
  loss: "lib/nn/loss.ts",
  optim: "lib/nn/optim.ts",
  params: "lib/nn/params.ts",
  trainer: "lib/train/trainer.ts",
};

/** Imports the workload modules under `root` (a directory URL ending in /). */
export async function loadTree(root: URL): Promise<Tree> {
  const entries = await Promise.all(
    Object.entries(PATHS).map(async ([k, p]) => [k, await import(new URL(p, root).href)]),
  );
  const modules = Object.fromEntries(entries) as Modules;
  return { ...modules, root: root.pathname, gpu: await modules.device.getGpu() };
}

/** Programs in replay order; `phase` says which part of a step each is. */
export interface Workload {
  parts: { prog: Program; phase: "fwd" | "bwd" | "step" }[];
  destroy(): void;
}

function storeFor(t: Tree, config: ModelConfig) {
  const layout = new t.params.ParamLayout(t.config.paramSpecs(config));
  const store = new t.params.ParamStore(t.gpu, layout);
  t.tensor.upload(t.gpu, store.flat("param"), t.init.initParams(layout, 0));
  return store;
}

/** A training step at `batch`: forward, MSE, backward, clip + AdamW + EMA (weights repacked). */
export function trainingStep(t: Tree, config: ModelConfig, batch: number): Workload {
  const gpu = t.gpu;
  const store = storeFor(t, config);
  const model = new t.unet.ContextUNet(gpu, config, store, batch);
  const target = t.tensor.createTensor(gpu, model.eps.shape, "target");
  const loss = t.tensor.createTensor(gpu, [1], "loss");
  const { program: backward, deps } = model.backward;
  const lossProg = new t.program.Program(gpu, "loss");
  t.loss.mseForwardBackward(lossProg, { pred: model.eps, target, dpred: deps, loss });
  const recipe = t.trainer.RECIPE;
  const optimizer = new t.optim.Optimizer(gpu, store, { ...recipe, maxGradNorm: 1 });
  const update = new t.program.Program(gpu, "update");
  optimizer.setStep(1, recipe.lr);
  optimizer.record(update);
  return {
    parts: [
      { prog: model.forward, phase: "fwd" },
      { prog: lossProg, phase: "step" },
      { prog: backward, phase: "bwd" },
      { prog: update, phase: "step" },
    ],
    destroy() {
      lossProg.destroy();
      model.destroy();
      store.destroy();
      target.buffer.destroy();
      loss.buffer.destroy();
    },
  };
}

/** The static-weights forward that sampling replays, at `rows` rows (weights repacked once). */
export function samplingForward(t: Tree, config: ModelConfig, rows: number): Workload {
  const store = storeFor(t, config);
  const model = new t.unet.ContextUNet(t.gpu, config, store, rows, { staticWeights: true });
  model.prepare.run();
  return {
    parts: [{ prog: model.forward, phase: "fwd" }],
    destroy() {
      model.destroy();
      store.destroy();
    },
  };
}

/** All parts of `w` as one program; only the dispatches of one family when `only` is given. */
export function whole(t: Tree, w: Workload, only?: string): Program {
  const all = new t.program.Program(t.gpu, "whole");
  for (const { prog, phase } of w.parts) {
    all.append(only === undefined ? prog : prog.select((d) => family(d, phase) === only));
  }
  return all;
}

/** The family a dispatch belongs to; `phase` tells forward from backward where the kernel cannot. */
export function family(d: DispatchInfo, phase: "fwd" | "bwd" | "step"): string {
  const c = d.consts;
  switch (d.kernel) {
    case "conv2d": {
      const k = `conv ${c.K}×${c.K}`;
      if (d.entry === "pack_weights") return `conv weight repack`;
      if (d.entry.startsWith("weight_grad")) return `${k} dw`;
      // A convolution in the backward pass is an input gradient (its constants say no more: it
      // shares the forward's pipeline).
      return `${k} ${phase === "bwd" ? "dx" : "fwd"}`;
    }
    case "groupnorm":
      return `groupnorm ${phase}`;
    case "attention":
      return `attention core ${phase}`;
    case "linear":
    case "embedding":
      return `linear+embedding ${phase}`;
    case "resample":
      return `resample/concat/add ${phase}`;
    case "loss":
      return "mse loss";
    case "optim":
      return "clip+AdamW+EMA";
    default:
      return `${d.kernel} ${phase}`;
  }
}

/** Multiply-adds × 2 of a dispatch (convolutions only; 0 for the rest). */
export function flops(d: DispatchInfo): number {
  const c = d.consts;
  if (d.kernel !== "conv2d" || !(d.entry === "conv" || d.entry === "weight_grad")) return 0;
  return 2 * Number(c.N) * Number(c.CIN) * Number(c.COUT) * Number(c.K) ** 2 * Number(c.H) *
    Number(c.W);
}
