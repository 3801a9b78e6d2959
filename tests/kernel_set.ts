/**
 * The kernel set of the program: every (kernel, entry point, constants) that sampling
 * and training create, collected by building their programs on the local adapter and
 * reading its kernel cache. Test-only (tests/kernels_chromium_test.ts recompiles the set
 * in Chromium).
 *
 * Built, not run: a first dispatch costs lavapipe a JIT compile per pipeline (minutes
 * for a training step), and what is recorded is the same either way. Covered: each
 * preset with the default dataset's RGBA and 8 classes, and the original's model
 * (reference, RGB, 5 classes); sampling builds what the generator builds for 1 sprite
 * without and with guidance and 8 sprites with guidance (1, 2 and 16 model rows; x0
 * clamped and dynamically thresholded), each with the variation/inpainting kernels, and
 * at 8 guided sprites the UNets of class mixing and of seamless tiles (x, y, both);
 * training builds the step of `Trainer` at the recipe's batch size.
 */

import type { Gpu } from "../lib/gpu/gpu.ts";
import { constHeader, kernelCode, type KernelVariant } from "../lib/gpu/kernel.ts";
import { KnownImage } from "../lib/diffusion/known_image.ts";
import { GuidedUpdate } from "../lib/diffusion/sampler.ts";
import { type ModelConfig, paramSpecs, PRESETS } from "../lib/model/config.ts";
import { ContextUNet } from "../lib/model/unet.ts";
import { ParamLayout, ParamStore } from "../lib/nn/params.ts";
import { RECIPE, Trainer } from "../lib/train/trainer.ts";

/** One shader module of the set: the code of one entry point with its constants. */
export interface KernelModule {
  name: string;
  entry: string;
  /** The constant header on one line (what names the module in errors). */
  consts: string;
  code: string;
}

/** The configurations checked. */
export function checkedConfigs(): { label: string; config: ModelConfig }[] {
  return [
    ...Object.entries(PRESETS).map(([name, preset]) => ({
      label: `${name} RGBA/8`,
      config: { ...preset, in_ch: 4, num_classes: 8 },
    })),
    { label: "reference RGB/5 (the original's)", config: PRESETS.reference },
  ];
}

/** The sampling builds: sprites, guidance, and the UNet's options (class mixing, tiles). */
const SAMPLING = [
  { n: 1, cfg: false, options: {} },
  { n: 1, cfg: true, options: {} },
  { n: 8, cfg: true, options: {} },
  { n: 8, cfg: true, options: { classMix: true } },
  { n: 8, cfg: true, options: { wrap: { x: true, y: false } } },
  { n: 8, cfg: true, options: { wrap: { x: false, y: true } } },
  { n: 8, cfg: true, options: { wrap: { x: true, y: true } } },
];

/** Builds the sampling and training programs of `config` on `gpu`, then frees their buffers. */
export async function buildPrograms(gpu: Gpu, config: ModelConfig): Promise<void> {
  const store = new ParamStore(gpu, new ParamLayout(paramSpecs(config)));
  for (const { n, cfg, options } of SAMPLING) {
    const rows = cfg ? 2 * n : n;
    const model = new ContextUNet(gpu, config, store, rows, { staticWeights: true, ...options });
    const chw = config.in_ch * 256;
    for (const thresholdPercentile of [undefined, 99.5]) {
      const updates = new GuidedUpdate(gpu, { n, chw, seed: 0, thresholdPercentile });
      updates.programs(model.x, model.eps, cfg);
      updates.destroy();
    }
    const init = { image: new Float32Array(chw), strength: 0.5 };
    const known = new KnownImage(gpu, { x: model.x, n, cfg, seed: 0, init });
    known.destroy();
    model.destroy();
  }
  const count = RECIPE.batch;
  const data = {
    images: new Float32Array(count * config.in_ch * 256),
    labels: new Int32Array(count),
    count,
    channels: config.in_ch,
    size: 16,
  };
  const trainer = new Trainer(gpu, config, data, { ...RECIPE, seed: 0, totalSteps: 1 });
  trainer.model.destroy();
  trainer.store.destroy();
  store.destroy();
  await gpu.sync();
}

/** The cache's variants as shader modules, one per entry point and constants (as the cache makes them). */
export function kernelModules(variants: readonly KernelVariant[]): KernelModule[] {
  const modules = new Map<string, KernelModule>();
  for (const v of variants) {
    const consts = constHeader(v.consts).replaceAll("\n", " ");
    const key = `${v.source.name}|${v.entry}|${consts}`;
    if (modules.has(key)) continue; // the same module bound with other slots
    const code = kernelCode(v.source, v.consts, v.entry);
    modules.set(key, { name: v.source.name, entry: v.entry, consts, code });
  }
  return [...modules.values()];
}
