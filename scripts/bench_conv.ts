/**
 * Micro-benchmark of the conv2d kernels: GFLOP/s of the forward pass, the input
 * gradient and the weight gradient at the model's shapes.
 *
 *   deno run -A scripts/bench_conv.ts [reps]
 *
 * A submission replays the recorded dispatches `reps` times in one pass (weight
 * repack and reduce passes included) and is timed up to onSubmittedWorkDone; each
 * figure is the best of 5 submissions after a warm-up. Two clocks: wall time, and
 * the CPU time of this process (llvmpipe's worker threads included) divided by the
 * core count, which other processes on a shared machine disturb far less. The
 * input gradient is backward with dx minus backward without.
 */

import { getGpu, type Gpu } from "../lib/gpu/device.ts";
import { Program } from "../lib/gpu/program.ts";
import { createTensor } from "../lib/gpu/tensor.ts";
import { conv2dBackward, conv2dForward } from "../lib/nn/conv2d.ts";
import { cpuNanos } from "./timing.ts";

interface BenchShape {
  n: number;
  cin: number;
  cout: number;
  hw: number;
  k: number;
}

interface Timing {
  wall: number;
  cpu: number;
}

const CORES = navigator.hardwareConcurrency;

/** Seconds per replay of `prog`, best of 5 on each clock. */
async function time(gpu: Gpu, prog: Program, reps: number): Promise<Timing> {
  const submit = () =>
    gpu.submit((e) => {
      const pass = e.beginComputePass();
      for (let i = 0; i < reps; i++) prog.encode(pass);
      pass.end();
    });
  submit();
  await gpu.sync();
  const best = { wall: Infinity, cpu: Infinity };
  for (let i = 0; i < 5; i++) {
    const cpu0 = cpuNanos();
    const t0 = performance.now();
    submit();
    await gpu.sync();
    best.wall = Math.min(best.wall, (performance.now() - t0) / 1e3 / reps);
    best.cpu = Math.min(best.cpu, (cpuNanos() - cpu0) / 1e9 / CORES / reps);
  }
  return best;
}

function rate(flop: number, t: Timing): string {
  const g = (s: number) => (flop / s / 1e9).toFixed(1).padStart(5);
  return `${g(t.cpu)} (wall ${g(t.wall)}) GFLOP/s ${(t.wall * 1e3).toFixed(2).padStart(7)} ms`;
}

async function bench(gpu: Gpu, s: BenchShape, reps: number, backward: boolean): Promise<string> {
  const x = createTensor(gpu, [s.n, s.cin, s.hw, s.hw], "x");
  const w = createTensor(gpu, [s.cout, s.cin, s.k, s.k], "w");
  const b = createTensor(gpu, [s.cout], "b");
  const y = createTensor(gpu, [s.n, s.cout, s.hw, s.hw], "y");
  const flop = 2 * s.n * s.cout * s.cin * s.k * s.k * s.hw * s.hw;
  const label = `N=${s.n} ${s.cin}→${s.cout} ${s.hw}×${s.hw} K${s.k}`.padEnd(24);
  const fwd = new Program(gpu, "forward");
  conv2dForward(fwd, { x, w, b, y });
  const lines = [`${label} fwd ${rate(flop, await time(gpu, fwd, reps))}`];
  if (!backward) {
    // Sampling replays the forward with the weights repacked once.
    const prepared = new Program(gpu, "forward, weights packed once");
    const prepare = new Program(gpu, "repack");
    conv2dForward(prepared, { x, w, b, y, prepare });
    prepare.run();
    lines.push(`${"".padEnd(24)} fwd, prepacked ${rate(flop, await time(gpu, prepared, reps))}`);
    return lines.join("\n");
  }
  const dw = createTensor(gpu, w.shape, "dw");
  const db = createTensor(gpu, b.shape, "db");
  const dx = createTensor(gpu, x.shape, "dx");
  const weights = new Program(gpu, "dw");
  conv2dBackward(weights, { x, w, dy: y, dw, db });
  const both = new Program(gpu, "dx+dw");
  conv2dBackward(both, { x, w, dy: y, dx, dw, db });
  const tw = await time(gpu, weights, reps);
  const tb = await time(gpu, both, reps);
  const tx = { wall: tb.wall - tw.wall, cpu: tb.cpu - tw.cpu };
  const pad = "".padEnd(24);
  lines.push(
    `${pad} dw  ${rate(flop, tw)}`,
    `${pad} dx  ${rate(flop, tx)} (dx+dw ${rate(2 * flop, tb)})`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const reps = Number(Deno.args[0] ?? 2);
  const gpu = await getGpu();
  console.log(
    `${gpu.adapter.description}; ${CORES} cores; GFLOP/s by CPU time / cores (and by wall time)`,
  );
  const training: BenchShape[] = [
    { n: 128, cin: 64, cout: 64, hw: 16, k: 3 },
    { n: 128, cin: 128, cout: 128, hw: 8, k: 3 },
    { n: 128, cin: 256, cout: 128, hw: 4, k: 3 },
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
