/**
 * A UNet built with circular padding on both axes is equivariant to cyclic shifts of its
 * input (by a multiple of the pooling factor): the sprite has no edge, so tiles repeat
 * without a seam. With zero padding the same check fails (the control).
 */

import { ok } from "node:assert/strict";
import { getGpu } from "../gpu/device.ts";
import { download, upload } from "../gpu/tensor.ts";
import { randn } from "../nn/testing.ts";
import { type ModelConfig, paramSpecs } from "./config.ts";
import { initParams } from "./init.ts";
import { ContextUNet } from "./unet.ts";
import { storeFromWeights } from "./weights.ts";
import { ParamLayout } from "../nn/params.ts";

const CONFIG: ModelConfig = {
  in_ch: 4,
  base_ch: 8,
  channel_mults: [1, 2, 2],
  num_res_blocks: 1,
  use_attention: [false, true, false],
  num_classes: 3,
};

/** Every [C, 16, 16] plane of `x` shifted cyclically by (dx, dy). */
function shifted(x: Float32Array, dx: number, dy: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let plane = 0; plane < x.length; plane += 256) {
    for (let y = 0; y < 16; y++) {
      for (let xx = 0; xx < 16; xx++) {
        out[plane + ((y + dy) % 16) * 16 + ((xx + dx) % 16)] = x[plane + y * 16 + xx];
      }
    }
  }
  return out;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

Deno.test("unet: with wrap on both axes, forward(shift(x)) = shift(forward(x))", async () => {
  const gpu = await getGpu();
  const layout = new ParamLayout(paramSpecs(CONFIG));
  const store = storeFromWeights(gpu, {
    config: CONFIG,
    classNames: ["a", "b", "c"],
    provenance: {},
    layout,
    flat: initParams(layout, 5),
  });
  const n = 2;
  const x = Float32Array.from(randn(n * 4 * 256, 3));
  const errors: Record<string, number> = {};
  for (const wrap of [{ x: true, y: true }, undefined]) {
    const model = new ContextUNet(gpu, CONFIG, store, n, { staticWeights: true, wrap });
    model.prepare.run();
    upload(gpu, model.tfrac, new Float32Array([0.3, 0.7]));
    upload(gpu, model.labels, new Uint32Array([0, 2]));
    const run = async (input: Float32Array) => {
      upload(gpu, model.x, input);
      model.forward.run();
      return await download(gpu, model.eps);
    };
    // Shifts by multiples of 4: the two 2 × 2 poolings see the same blocks.
    const direct = shifted(await run(x), 4, 8);
    const viaShift = await run(shifted(x, 4, 8));
    errors[wrap ? "wrap" : "zero"] = maxAbsDiff(direct, viaShift);
    model.destroy();
  }
  store.destroy();
  ok(errors.wrap < 1e-4, `wrapped UNet: max |difference| ${errors.wrap}`);
  ok(errors.zero > 1e-2, `zero-padded UNet should not be shift-equivariant: ${errors.zero}`);
});
