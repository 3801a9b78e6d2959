/**
 * Micro-benchmark of the conv2d kernels: GFLOP/s of the forward pass, the input
 * gradient and the weight gradient at the model's shapes.
 *
 *   deno run -A scripts/bench_conv.ts [reps]
 *
 * Each figure is the median of 5 timed submissions after a warm-up; a submission
 * replays the recorded dispatches `reps` times in one pass (the weight repack and
 * reduce passes included), timed up to onSubmittedWorkDone. The input gradient is
 * timed as backward with dx minus backward without.
 */

import { getGpu, type Gpu } from "../lib/gpu/device.ts";
import { Program } from "../lib/gpu/program.ts";
import { createTensor } from "../lib/gpu/tensor.ts";
import { conv2dBackward, conv2dForward } from "../lib/nn/conv2d.ts";

interface BenchShape {
  n: number;
  cin: number;
  cout: number;
  hw: number;
  k: number;
}

async function seconds(gpu: Gpu, prog: Program, reps: number): Promise<number> {
  const submit = () =>
    gpu.submit((e) => {
      const pass = e.beginComputePass();
      for (let i = 0; i < reps; i++) prog.encode(pass);
      pass.end();
    });
  submit();
  await gpu.sync();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    submit();
    await gpu.sync();
    times.push((performance.now() - t0) / 1000 / reps);
  }
  return times.sort((a, b) => a - b)[2];
}

async function bench(gpu: Gpu, s: BenchShape, reps: number, backward: boolean): Promise<string> {
  const x = createTensor(gpu, [s.n, s.cin, s.hw, s.hw], "x");
  const w = createTensor(gpu, [s.cout, s.cin, s.k, s.k], "w");
  const b = createTensor(gpu, [s.cout], "b");
  const y = createTensor(gpu, [s.n, s.cout, s.hw, s.hw], "y");
  const flop = 2 * s.n * s.cout * s.cin * s.k * s.k * s.hw * s.hw;
  const rate = (t: number) =>
    `${(flop / t / 1e9).toFixed(1).padStart(5)} GFLOP/s ${(t * 1e3).toFixed(2).padStart(7)} ms`;
  const fwd = new Program(gpu, "forward");
  conv2dForward(fwd, { x, w, b, y });
  const tf = await seconds(gpu, fwd, reps);
  const label = `N=${s.n} ${s.cin}→${s.cout} ${s.hw}×${s.hw} K${s.k}`.padEnd(26);
  if (!backward) return `${label} fwd ${rate(tf)}`;
  const dw = createTensor(gpu, w.shape, "dw");
  const db = createTensor(gpu, b.shape, "db");
  const dx = createTensor(gpu, x.shape, "dx");
  const weights = new Program(gpu, "dw");
  conv2dBackward(weights, { x, w, dy: y, dw, db });
  const both = new Program(gpu, "dx+dw");
  conv2dBackward(both, { x, w, dy: y, dx, dw, db });
  const tw = await seconds(gpu, weights, reps);
  const tb = await seconds(gpu, both, reps);
  return `${label} fwd ${rate(tf)} | dx ${rate(tb - tw)} | dw ${rate(tw)}`;
}

if (import.meta.main) {
  const reps = Number(Deno.args[0] ?? 3);
  const gpu = await getGpu();
  console.log(`adapter: ${gpu.adapter.description}, ${reps} reps per submission`);
  const training: BenchShape[] = [
    { n: 128, cin: 64, cout: 64, hw: 16, k: 3 },
    { n: 128, cin: 128, cout: 128, hw: 8, k: 3 },
    { n: 128, cin: 128, cout: 128, hw: 4, k: 3 },
    { n: 128, cin: 128, cout: 128, hw: 8, k: 1 },
  ];
  for (const s of training) console.log(await bench(gpu, s, reps, true));
  const sampling: BenchShape[] = [
    { n: 2, cin: 64, cout: 64, hw: 16, k: 3 },
    { n: 2, cin: 128, cout: 128, hw: 8, k: 3 },
    { n: 2, cin: 128, cout: 128, hw: 4, k: 3 },
    { n: 32, cin: 64, cout: 64, hw: 16, k: 3 },
  ];
  for (const s of sampling) console.log(await bench(gpu, s, reps * 10, false));
}
