import { deepStrictEqual, ok } from "node:assert/strict";
import { getGpu } from "../gpu/device.ts";
import { download } from "../gpu/tensor.ts";
import { assertClose, randn, tensorFrom } from "../nn/testing.ts";
import { KnownImage, startIndex } from "./known_image.ts";
import { GuidedUpdate } from "./sampler.ts";
import { cosineSchedule, samplerSteps } from "./schedule.ts";

const n = 3;
const chw = 4 * 256;

Deno.test("known image: strength selects the last round(S·L) steps", () => {
  deepStrictEqual([1, 0.5, 0.26, 0.01, 0.004].map((s) => startIndex(100, s)), [0, 50, 74, 99, 100]);
});

Deno.test("known image: the noised start is √ᾱ·x0 + √(1−ᾱ)·ε with ε the sampler's initial noise", async () => {
  const gpu = await getGpu();
  const x = tensorFrom(gpu, [2 * n, 4, 16, 16], new Float64Array(2 * n * chw), "x");
  const eps = tensorFrom(gpu, [2 * n, 4, 16, 16], new Float64Array(2 * n * chw), "eps");
  const seed = 5;
  // ε: what ordinary sampling starts from (init_noise), read back.
  const updates = new GuidedUpdate(gpu, { n, chw, seed });
  updates.programs(x, eps, true).init.run();
  const noise = await download(gpu, x);
  const image = Float32Array.from(randn(chw, 9), (v) => Math.tanh(v));
  const known = new KnownImage(gpu, { x, n, cfg: true, seed, init: { image, strength: 0.4 } });
  const steps = samplerSteps(cosineSchedule(), { sampler: "ddpm", steps: 50 });
  const s = steps[startIndex(steps.length, 0.4)];
  ok(s.t > 100 && s.t < 900, `t = ${s.t}`);
  known.setStart(s);
  known.start.run();
  const got = await download(gpu, x);
  const expected = new Float64Array(2 * n * chw).map((_, i) =>
    s.sqrtAlphaBar * image[i % chw] + s.sqrtOneMinusAlphaBar * noise[i]
  );
  assertClose(got, expected, { rtol: 1e-6, atol: 1e-6, label: "noised start" });
  updates.destroy();
  known.destroy();
});
