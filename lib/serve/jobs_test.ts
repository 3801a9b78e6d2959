/** The job queue on a real generator (tiny untrained model): admission, order, abandonment. */

import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { getGpu } from "../gpu/device.ts";
import { Generator } from "../generate/generator.ts";
import { tinyWeights } from "../generate/testing.ts";
import { type Job, type JobEvent, JobQueue, QueueFull } from "./jobs.ts";
import { parseJobRequest } from "./request.ts";

const CLASSES = tinyWeights().classNames;

const LIMITS = {
  classNames: CLASSES,
  maxSprites: () => 4,
  channels: 4,
  initSprite: () => "no variations here",
} as const;

const spec = (steps: number) => parseJobRequest({ n: 1, steps, previewEvery: 1 }, LIMITS);

/** Runs `test` on a queue over a real generator (tiny model), then closes both. */
async function withQueue(
  maxQueue: number,
  test: (queue: JobQueue, generator: Generator) => Promise<void>,
): Promise<void> {
  const generator = Generator.fromWeights(await getGpu(), tinyWeights(5));
  const queue = new JobQueue(generator, { maxQueue, maxSeconds: 3600, keep: 4 });
  try {
    await test(queue, generator);
  } finally {
    await queue.close();
    generator.destroy();
  }
}

/** Resolves with the job's events once it has ended. */
function ended(job: Job): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  return new Promise((resolve) => {
    job.watch((e) => {
      events.push(e);
      if (job.finished) resolve(events);
    });
  });
}

Deno.test("queue: --max-queue 0 runs a job on an idle server and refuses one behind it", () =>
  withQueue(0, async (queue) => {
    const first = queue.submit(await spec(3));
    const events = ended(first);
    const third = await spec(3);
    throws(() => queue.submit(third), QueueFull);
    await events;
    equal(first.state, "done");
    const second = queue.submit(await spec(2)); // room again
    await ended(second);
    equal(second.state, "done");
  }));

Deno.test("queue: FIFO order, places announced, the last watcher leaving cancels", () =>
  withQueue(2, async (queue) => {
    const a = queue.submit(await spec(100));
    const b = queue.submit(await spec(2));
    const c = queue.submit(await spec(2));
    deepStrictEqual([a.position, b.position, c.position], [0, 1, 2]);
    try {
      queue.submit(await spec(2));
      ok(false, "a fourth job was accepted with two waiting");
    } catch (err) {
      ok(err instanceof QueueFull && err.retryAfter >= 1);
    }
    const order: string[] = [];
    for (const [name, job] of [["b", b], ["c", c]] as const) {
      job.watch((e) => e.type === "started" && order.push(name));
    }
    const cPlaces: number[] = [];
    c.watch((e) => e.type === "queued" && cPlaces.push(e.position));
    const stopWatching = a.watch(() => {});
    stopWatching(); // the only watcher leaves: nobody wants `a` any more
    await ended(c);
    deepStrictEqual([a.state, b.state, c.state], ["cancelled", "done", "done"]);
    deepStrictEqual(order, ["b", "c"]);
    deepStrictEqual(cPlaces, [1]);
  }));

Deno.test("queue: warmUp builds the UNet the page's default request runs on", () =>
  withQueue(0, async (queue, generator) => {
    // An empty body: what the page sends when nothing is changed.
    const defaults = await parseJobRequest({}, LIMITS);
    await queue.warmUp(defaults);
    equal(generator.cachedModels, 1);
    const job = queue.submit(defaults);
    await ended(job);
    equal(job.state, "done");
    equal(generator.cachedModels, 1, "the default request had to build a UNet of its own");
  }));

Deno.test("queue: a job starts on a later task, so the request that submitted it is answered first", () =>
  withQueue(0, async (queue, generator) => {
    const job = queue.submit(await spec(2));
    equal(job.state, "running");
    // A handler's answer goes out once its promise settles; building the job's UNet (and, on a
    // new machine, compiling its kernels) blocks the event loop, so it must wait for a task.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    equal(generator.cachedModels, 0, "the job started within the submitting task");
    await ended(job);
    equal(job.state, "done");
    equal(generator.cachedModels, 1);
  }));
