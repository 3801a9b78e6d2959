/**
 * The server under load, on this machine: requests completed per minute and
 * p50/p95 latency at 1, 4 and 16 concurrent clients, each sending the default
 * request (one sprite per class, the sampling defaults) and, like the page,
 * following its event stream (raw RGBA previews) and then downloading every PNG
 * `sample` would write; then the same request from the CLI (`main.ts sample`, a
 * process per request) for the server's overhead against it.
 *
 *   deno run -A scripts/bench_serve.ts [--clients 1,4,16] [--min-requests 3] [--cli-runs 2] [--weights FILE]
 *
 * Latency runs from the POST to the last file downloaded and includes the wait in the
 * queue: one GPU serves one job at a time, so at c clients a request waits for up to c−1
 * others. Sampler seconds are the generator's own time for the job (the same work the CLI
 * reports as "seconds").
 */

import { parseArgs } from "node:util";
import { ApiClient, type Job, spawnServe } from "../tests/serve_helpers.ts";
import { runMain } from "../tests/cli_helpers.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "1,4,16" },
    "min-requests": { type: "string", default: "3" },
    "cli-runs": { type: "string", default: "2" },
    weights: { type: "string" },
  },
});
const positive = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`--${name} must be a positive integer, not '${text}'`);
  }
  return n;
};
const levels = values.clients.split(",").map((c) => positive("clients", c.trim()));
const minRequests = positive("min-requests", values["min-requests"]);
const cliRuns = positive("cli-runs", values["cli-runs"]);
const weightArgs = values.weights ? ["--weights", values.weights] : [];

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};
const median = (xs: number[]) => quantile(xs, 0.5);
const load = () => Deno.loadavg().map((l) => l.toFixed(1)).join(" ");

interface Sample {
  /** POST → `done` event, seconds. */
  done: number;
  /** POST → every PNG downloaded, seconds. */
  total: number;
  /** The generator's own seconds for the job. */
  sampler: number;
}

/** One default request as the page makes it, plus downloading the PNGs. */
async function request(api: ApiClient): Promise<Sample> {
  const t0 = performance.now();
  const job = await api.accepted({});
  const events = await api.events(job.id, "rgba");
  const done = (await events.until("done")).data as unknown as Job;
  const tDone = performance.now();
  await events.rest();
  for (const file of done.files.filter((f) => f.kind !== "gif")) await api.bytes(file.url);
  return {
    done: (tDone - t0) / 1000,
    total: (performance.now() - t0) / 1000,
    sampler: done.seconds!,
  };
}

console.log(`load average at start: ${load()} (this machine is shared with other work)`);
const server = await spawnServe(["--max-queue", "64", ...weightArgs]);
const api = new ApiClient(server.url);
const rows: string[] = [];
let single: Sample[] = [];
try {
  await request(api); // warm-up: compiles the pipelines for this batch size
  for (const clients of levels) {
    const wanted = Math.max(clients, minRequests);
    let submitted = 0;
    const samples: Sample[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (submitted < wanted) {
          submitted++;
          samples.push(await request(api));
        }
      }),
    );
    const minutes = (performance.now() - t0) / 60_000;
    if (clients === 1) single = samples;
    const totals = samples.map((s) => s.total);
    rows.push(
      `| ${clients} | ${samples.length} | ${(samples.length / minutes).toFixed(2)} | ` +
        `${median(totals).toFixed(1)} s | ${quantile(totals, 0.95).toFixed(1)} s | ` +
        `${median(samples.map((s) => s.sampler)).toFixed(1)} s |`,
    );
    console.log(rows.at(-1));
  }
} finally {
  await server.stop("SIGINT");
}

const cli: { wall: number; sampler: number }[] = [];
const out = await Deno.makeTempDir({ prefix: "bench-serve-" });
try {
  for (let i = 0; i < cliRuns; i++) {
    const t0 = performance.now();
    const run = await runMain([
      "sample",
      ...weightArgs,
      "--no-preview",
      "--json",
      "--force",
      "--out",
      out,
    ]);
    if (run.code !== 0) throw new Error(`sample failed:\n${run.stderr}`);
    cli.push({ wall: (performance.now() - t0) / 1000, sampler: JSON.parse(run.stdout).seconds });
  }
} finally {
  await Deno.remove(out, { recursive: true });
}

console.log(`\nload average at end: ${load()}\n`);
console.log(
  "| clients | requests | completed / min | p50 latency | p95 latency | sampler (median) |",
);
console.log(
  "| ------- | -------- | --------------- | ----------- | ----------- | ---------------- |",
);
for (const row of rows) console.log(row);
if (single.length) {
  const overhead = median(single.map((s) => s.done - s.sampler));
  const files = median(single.map((s) => s.total - s.done));
  console.log(
    `\none client: server end to end ${median(single.map((s) => s.total)).toFixed(2)} s ` +
      `(sampler ${median(single.map((s) => s.sampler)).toFixed(2)} s, HTTP + queue + events ` +
      `${(overhead * 1000).toFixed(0)} ms, downloading the PNGs ${(files * 1000).toFixed(0)} ms)`,
  );
}
console.log(
  `CLI (a process per request, pipelines compiled each time): ${
    median(cli.map((c) => c.wall)).toFixed(2)
  } s ` +
    `end to end (sampler ${
      median(cli.map((c) => c.sampler)).toFixed(2)
    } s), median of ${cli.length}`,
);
