/**
 * Clocks shared by the benchmark scripts: medians, and the CPU time of this
 * process (llvmpipe's worker threads included), which other processes on a
 * shared machine disturb far less than wall time.
 */

import type { Gpu } from "../lib/gpu/device.ts";
import type { Program } from "../lib/gpu/program.ts";

export const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Nanoseconds this process's threads have run (Linux; 0 elsewhere). */
export function cpuNanos(): number {
  let total = 0;
  try {
    for (const task of Deno.readDirSync("/proc/self/task")) {
      try {
        total += Number(
          Deno.readTextFileSync(`/proc/self/task/${task.name}/schedstat`).split(" ")[0],
        );
      } catch {
        // The thread exited between listing and reading.
      }
    }
  } catch {
    return 0;
  }
  return total;
}

/** Wall and CPU milliseconds (CPU time of this process divided by the core count). */
export interface Timing {
  wall: number;
  cpu: number;
}

/**
 * Times replays of a program on its device: `reps` replays in one compute pass, up to
 * onSubmittedWorkDone, minus the round trip of an empty submission (≈ 11 ms on llvmpipe).
 */
export class Timer {
  base: Timing = { wall: 0, cpu: 0 };

  constructor(readonly gpu: Gpu, readonly medianOf = 5, readonly targetMs = 300) {}

  /** ms per replay of one timed submission. */
  async once(prog: Program, reps: number): Promise<Timing> {
    const cpu0 = cpuNanos();
    const t0 = performance.now();
    this.gpu.submit((e) => {
      const pass = e.beginComputePass();
      for (let i = 0; i < reps; i++) prog.encode(pass);
      pass.end();
    });
    await this.gpu.sync();
    const wall = performance.now() - t0;
    const cpu = (cpuNanos() - cpu0) / 1e6 / navigator.hardwareConcurrency;
    return {
      wall: Math.max(0, wall - this.base.wall) / reps,
      cpu: Math.max(0, cpu - this.base.cpu) / reps,
    };
  }

  /** Measures the round trip of an empty submission. */
  async calibrate(empty: Program): Promise<void> {
    const runs: Timing[] = [];
    for (let i = 0; i < 7; i++) runs.push(await this.once(empty, 1));
    this.base = medianTiming(runs);
  }

  /** Replays per timed submission that make it last about targetMs; the first run warms up. */
  async repsFor(prog: Program): Promise<number> {
    await this.once(prog, 1); // shader compilation happens at the first dispatch
    const first = await this.once(prog, 1);
    return Math.max(1, Math.min(500, Math.round(this.targetMs / Math.max(first.wall, 0.05))));
  }

  /** Median ms per replay of `prog`. */
  async time(prog: Program): Promise<Timing> {
    const reps = await this.repsFor(prog);
    const runs: Timing[] = [];
    for (let i = 0; i < this.medianOf; i++) runs.push(await this.once(prog, reps));
    return medianTiming(runs);
  }
}

export const medianTiming = (runs: readonly Timing[]): Timing => ({
  wall: median(runs.map((r) => r.wall)),
  cpu: median(runs.map((r) => r.cpu)),
});
