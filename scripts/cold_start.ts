/**
 * Where the time goes before the first sampling step, and end to end.
 *
 *   deno run -A scripts/cold_start.ts [--runs 3] [--n 1,8] [--root DIR] [--e2e ARGS] [--cache …]
 *
 * Phases (each in fresh processes, once with Mesa's shader cache as it is and once with
 * MESA_SHADER_CACHE_DISABLE=true, the first run on a new machine): process start to the
 * first line, imports of the `sample` command's module graph, the WebGPU device, decoding
 * the default weights and uploading them, building the UNet (creating its pipelines), the
 * first 1-step request (weight repacks, the update kernels, the first dispatches: llvmpipe
 * compiles a shader to machine code on its first dispatch), and the same request again.
 * Wall time and the process's CPU time (all threads) are printed as medians over --runs; on a
 * shared machine CPU time is the steadier of the two.
 *
 * `--root DIR` measures another checkout (for a before/after table), `--e2e ARGS` times
 * `main.ts sample ARGS --no-preview` end to end instead (process start to PNGs written), with
 * its CPU time where GNU time is installed. `--cache as-is|disabled` runs one cache setting.
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    n: { type: "string", default: "1,8" },
    root: { type: "string", default: fileURLToPath(new URL("..", import.meta.url)) },
    e2e: { type: "string" },
    cache: { type: "string", default: "both" },
    child: { type: "string" },
  },
});
const root = values.root.replace(/\/$/, "");
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Mark {
  phase: string;
  wall: number;
  cpu: number;
}

/** One fresh process: times each phase of a `sample` run of `n` sprites up to its first step. */
async function child(n: number, spawnedAt: number): Promise<Mark[]> {
  const marks: Mark[] = [{ phase: "process start", wall: Date.now() - spawnedAt, cpu: cpuMs() }];
  let [wall, cpu] = [performance.now(), cpuMs()];
  const mark = (phase: string) => {
    marks.push({ phase, wall: performance.now() - wall, cpu: cpuMs() - cpu });
    [wall, cpu] = [performance.now(), cpuMs()];
  };
  // What main.ts loads for `sample`: the command table, then (where it is deferred) the command.
  const { commands } = await import(`${root}/lib/cli/commands.ts`);
  await commands.sample.load?.();
  const { getGpu } = await import(`${root}/lib/gpu/device.ts`);
  const { openWeights } = await import(`${root}/lib/cli/weights.ts`);
  const { Generator } = await import(`${root}/lib/generate/generator.ts`);
  const { ContextUNet } = await import(`${root}/lib/model/unet.ts`);
  const { storeFromWeights } = await import(`${root}/lib/model/weights.ts`);
  const { GENERATE_DEFAULTS } = await import(`${root}/lib/generate/defaults.ts`);
  mark("imports");
  const gpu = await getGpu();
  mark("device");
  const { weights } = await openWeights(undefined);
  mark("weights decode");
  const store = storeFromWeights(gpu, weights);
  await gpu.sync();
  mark("weights upload");
  // The UNet the request builds, built first on its own: its pipelines land in the shared cache.
  const rows = GENERATE_DEFAULTS.guidance === 1 || GENERATE_DEFAULTS.guidance === 0 ? n : 2 * n;
  new ContextUNet(gpu, weights.config, store, rows, { staticWeights: true }).destroy();
  mark("pipelines");
  const generator = new Generator(gpu, weights.config, weights.classNames, store);
  const request = {
    ...GENERATE_DEFAULTS,
    classes: Array.from({ length: n }, (_, i) => i % weights.config.num_classes),
    steps: 1,
    seed: 0,
  };
  await generator.generate(request);
  mark("first request (1 step)");
  await generator.generate(request);
  mark("same again");
  generator.destroy();
  return marks;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** GNU time, when installed, gives a child's CPU time (user + system, all threads). */
const gnuTime = await Deno.stat("/usr/bin/time").then(() => true, () => false);

async function spawn(args: string[], env: Record<string, string>) {
  const started = Date.now();
  const [cmd, all] = gnuTime
    ? ["/usr/bin/time", ["-f", "cpu %U %S", Deno.execPath(), ...args]]
    : [Deno.execPath(), args];
  const out = await new Deno.Command(cmd, {
    args: all,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = Date.now() - started;
  const text = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(stderr);
  const times = stderr.match(/cpu ([\d.]+) ([\d.]+)\s*$/);
  const cpu = times ? Math.round(1000 * (Number(times[1]) + Number(times[2]))) : NaN;
  return { text, wall, cpu };
}

if (values.child !== undefined) {
  const [n, spawnedAt] = values.child.split(",").map(Number);
  console.log(JSON.stringify(await child(n, spawnedAt)));
} else {
  const runs = Number(values.runs);
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ")[0];
  console.log(`${root} · ${runs} runs each · load average ${load} (shared machine: noisy)`);
  const caches = { both: ["as is", "disabled"], "as-is": ["as is"], disabled: ["disabled"] }[
    values.cache
  ];
  if (!caches) throw new Error(`--cache is both, as-is or disabled, not ${values.cache}`);
  for (const cache of caches) {
    const env: Record<string, string> = cache === "disabled"
      ? { MESA_SHADER_CACHE_DISABLE: "true" }
      : {};
    if (values.e2e !== undefined) {
      const [walls, cpus]: number[][] = [[], []];
      const dir = await Deno.makeTempDir({ prefix: "cold-start-" });
      const args = values.e2e.split(" ").filter(Boolean);
      for (let r = 0; r < runs; r++) {
        const run = await spawn(
          [
            "run",
            "-A",
            `${root}/main.ts`,
            "sample",
            ...args,
            "--no-preview",
            "--force",
            "--out",
            dir,
          ],
          env,
        );
        walls.push(run.wall);
        cpus.push(run.cpu);
      }
      await Deno.remove(dir, { recursive: true });
      console.log(
        `sample ${values.e2e} (Mesa cache ${cache}): wall median ${median(walls)} ms [${walls}], ` +
          `CPU median ${median(cpus)} ms [${cpus}]`,
      );
      continue;
    }
    for (const n of values.n.split(",").map(Number)) {
      const all: Mark[][] = [];
      for (let r = 0; r < runs; r++) {
        const self = fileURLToPath(import.meta.url);
        const { text } = await spawn(
          ["run", "-A", self, "--root", root, "--child", `${n},${Date.now()}`],
          env,
        );
        all.push(JSON.parse(text));
      }
      console.log(`\n${n} sprite(s), Mesa cache ${cache}:  phase | wall ms | CPU ms (medians)`);
      for (const [i, { phase }] of all[0].entries()) {
        const wall = median(all.map((m) => m[i].wall));
        const cpu = median(all.map((m) => m[i].cpu));
        console.log(
          `  ${phase.padEnd(24)} ${String(Math.round(wall)).padStart(7)} ${
            String(Math.round(cpu)).padStart(7)
          }`,
        );
      }
      const total = (k: "wall" | "cpu") => median(all.map((m) => m.reduce((s, x) => s + x[k], 0)));
      console.log(
        `  ${"total".padEnd(24)} ${String(Math.round(total("wall"))).padStart(7)} ${
          String(Math.round(total("cpu"))).padStart(7)
        }`,
      );
    }
  }
}
