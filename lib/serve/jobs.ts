/**
 * The job queue. There is one GPU, so jobs run one at a time in the order they
 * came (FIFO); at most `maxQueue` wait behind the running one and the next is
 * refused with a hint of when to retry. Each job's run time is bounded, a job
 * can be cancelled at any point (queued: it leaves the queue; running: it stops
 * before its next step), and a job whose last watcher leaves is cancelled, so a
 * client that disconnects frees its place.
 */

import {
  type GenerateRequest,
  type Generation,
  GenerationCancelled,
  type Generator,
  type Preview,
} from "../generate/generator.ts";
import {
  encodeGenerationFile,
  type GenerationFile,
  generationFiles,
  type GenerationOutput,
} from "../generate/files.ts";
import type { RgbaImage } from "../io/image.ts";
import { InputError } from "../util/errors.ts";
import type { JobSpec } from "./request.ts";

export type JobState = "queued" | "running" | "done" | "failed" | "cancelled";

/** What a job's watchers hear, in order; "done", "failed" and "cancelled" are the last. */
export type JobEvent =
  | { type: "queued"; position: number }
  | { type: "started"; total: number }
  | { type: "preview"; step: number; total: number; images: readonly RgbaImage[] }
  | { type: "done" }
  | { type: "failed"; error: string }
  | { type: "cancelled" };

/** A submission refused because `maxQueue` jobs already wait; retry after `retryAfter` s. */
export class QueueFull extends Error {
  constructor(readonly waiting: number, readonly retryAfter: number) {
    super(`the queue is full (${waiting} jobs waiting); retry in ${retryAfter} s`);
  }
}

export interface QueueOptions {
  /** Jobs that may wait behind the running one. */
  maxQueue: number;
  /** A running job is stopped after this long. */
  maxSeconds: number;
  /** Finished jobs whose results are kept for download (the oldest are forgotten first). */
  keep: number;
}

export class Job {
  readonly id: string = crypto.randomUUID();
  state: JobState = "queued";
  /** Place among the waiting jobs, 1 = next; 0 once it runs. */
  position = 0;
  /** The newest preview, for a watcher that arrives late. */
  latest: { step: number; total: number; images: readonly RgbaImage[] } | null = null;
  /** Every preview before the last step: the GIF's fade-in frames. */
  readonly previews: RgbaImage[][] = [];
  result: Generation | null = null;
  error: string | null = null;
  #output: GenerationOutput | null = null;
  #files: readonly GenerationFile[] = [];
  readonly #encoded = new Map<string, Promise<Uint8Array>>();
  readonly #watchers = new Set<(event: JobEvent) => void>();
  readonly #abort = new AbortController();

  constructor(readonly spec: JobSpec, readonly abandoned: (job: Job) => void) {}

  /** Every file of the finished job, named as `sample` names them (the GIF included); [] before. */
  get files(): readonly GenerationFile[] {
    return this.#files;
  }

  get finished(): boolean {
    return this.state === "done" || this.state === "failed" || this.state === "cancelled";
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * Calls `listener` with every later event; returns the function that stops it. When the last
   * watcher stops before the job has finished, nobody wants the job any more: it is cancelled.
   */
  watch(listener: (event: JobEvent) => void): () => void {
    this.#watchers.add(listener);
    return () => {
      if (!this.#watchers.delete(listener)) return;
      if (this.#watchers.size === 0 && !this.finished) this.abandoned(this);
    };
  }

  emit(event: JobEvent): void {
    for (const listener of [...this.#watchers]) listener(event);
  }

  /** Asks a running job to stop before its next step. */
  abort(): void {
    this.#abort.abort();
  }

  /** The bytes of the finished job's file `name`, or null if it has none of that name. */
  file(name: string): Promise<Uint8Array> | null {
    const file = this.#files.find((f) => f.name === name);
    if (!file || !this.#output) return null;
    let bytes = this.#encoded.get(name);
    if (!bytes) {
      bytes = encodeGenerationFile(file, this.#output);
      this.#encoded.set(name, bytes);
    }
    return bytes;
  }

  /** Keeps the finished sprites; their files are encoded when first asked for. */
  done(result: Generation): void {
    const { labels, seed, scale } = this.spec;
    this.result = result;
    const tiled = this.spec.tile !== null;
    this.#output = { ...result, labels, seed, scale, previews: this.previews, tiled };
    this.#files = generationFiles(this.#output, true);
  }

  /** Records a preview and passes it on. */
  preview({ images, step, total }: Preview): void {
    this.latest = { step, total, images };
    if (step < total) this.previews.push(images);
    this.emit({ type: "preview", step, total, images });
  }

  finish(event: Extract<JobEvent, { type: "done" | "failed" | "cancelled" }>): void {
    this.state = event.type;
    this.position = 0;
    if (event.type === "failed") this.error = event.error;
    this.emit(event);
  }
}

/** How many recent run times the retry estimate averages. */
const RECENT_RUNS = 8;

export class JobQueue {
  readonly #waiting: Job[] = [];
  #running: { job: Job; done: Promise<void> } | null = null;
  readonly #jobs = new Map<string, Job>();
  readonly #recentSeconds: number[] = [];
  #closed = false;

  constructor(readonly generator: Generator, readonly options: QueueOptions) {}

  /** Queues a validated request; a full queue throws {@link QueueFull}. */
  submit(spec: JobSpec): Job {
    if (this.#closed) throw new Error("the server is stopping");
    // An idle server runs a job at once, whatever `maxQueue` (0 = nothing waits).
    if (this.#running && this.#waiting.length >= this.options.maxQueue) {
      throw new QueueFull(this.#waiting.length, this.retryAfter());
    }
    const job = new Job(spec, (abandoned) => this.cancel(abandoned));
    this.#jobs.set(job.id, job);
    this.#waiting.push(job);
    job.position = this.#waiting.length;
    this.#forgetOld();
    this.#next();
    return job;
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  get running(): Job | null {
    return this.#running?.job ?? null;
  }

  /**
   * Seconds until a place is likely to free up: the mean run time of recent jobs (a place frees
   * when the running job ends), at least 1.
   */
  retryAfter(): number {
    const recent = this.#recentSeconds;
    const mean = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : 5;
    return Math.max(1, Math.ceil(mean));
  }

  /**
   * Runs `spec` for one step, as no job: the UNet of its batch size is then built and its
   * kernels compiled (on a new machine the compile blocks the event loop for seconds, minutes
   * on Mesa 25), so a request like it starts at once.
   */
  async warmUp(spec: JobSpec): Promise<void> {
    await this.generator.generate({ ...generateRequest(spec), steps: 1, previewEvery: 0 });
  }

  /** Cancels `job`: a waiting job leaves the queue now, a running one stops before its next step. */
  cancel(job: Job): boolean {
    if (job.finished) return false;
    const at = this.#waiting.indexOf(job);
    if (at >= 0) {
      this.#waiting.splice(at, 1);
      job.finish({ type: "cancelled" });
      this.#announcePositions(at);
    } else {
      job.abort();
    }
    return true;
  }

  /** Cancels every job and waits for the running one to stop; nothing is accepted after. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of [...this.#waiting]) this.cancel(job);
    const running = this.#running;
    if (running) {
      this.cancel(running.job);
      await running.done;
    }
  }

  #next(): void {
    if (this.#running || this.#waiting.length === 0) return;
    const job = this.#waiting.shift()!;
    job.position = 0;
    this.#announcePositions(0);
    job.state = "running";
    const running = { job, done: Promise.resolve() };
    this.#running = running;
    // On a later task, so that the request submitting the job is answered first: building a
    // UNet for a new batch size, and on a new machine compiling its kernels, blocks the event
    // loop (seconds; minutes on Mesa 25).
    running.done = new Promise((resolve) => setTimeout(resolve)).then(() => this.#run(job));
  }

  /** Tells the waiting jobs from index `from` on their new places. */
  #announcePositions(from: number): void {
    for (let i = from; i < this.#waiting.length; i++) {
      this.#waiting[i].position = i + 1;
      this.#waiting[i].emit({ type: "queued", position: i + 1 });
    }
  }

  /** Runs `job`; once it has ended, the place is free before its watchers hear the end. */
  async #run(job: Job): Promise<void> {
    const end = await this.#generate(job);
    this.#running = null;
    job.finish(end);
    this.#next();
  }

  async #generate(job: Job): Promise<Extract<JobEvent, { type: "done" | "failed" | "cancelled" }>> {
    const { spec } = job;
    job.emit({ type: "started", total: spec.steps });
    const overtime = new AbortController();
    const timer = setTimeout(() => overtime.abort(), this.options.maxSeconds * 1000);
    try {
      const result = await this.generator.generate({
        ...generateRequest(spec),
        onPreview: (preview) => job.preview(preview),
        signal: AbortSignal.any([job.signal, overtime.signal]),
      });
      job.done(result);
      this.#recentSeconds.push(result.seconds);
      if (this.#recentSeconds.length > RECENT_RUNS) this.#recentSeconds.shift();
      return { type: "done" };
    } catch (err) {
      if (err instanceof GenerationCancelled && !job.signal.aborted) {
        return {
          type: "failed",
          error: `stopped after ${this.options.maxSeconds} s, this server's limit per request ` +
            `(--max-seconds); ask for fewer steps or sprites`,
        };
      }
      if (err instanceof GenerationCancelled) return { type: "cancelled" };
      if (err instanceof InputError) return { type: "failed", error: err.message };
      console.error(err);
      return { type: "failed", error: `internal error: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Forgets the oldest finished jobs beyond `keep`. */
  #forgetOld(): void {
    const finished = [...this.#jobs.values()].filter((j) => j.finished);
    for (const job of finished.slice(0, Math.max(0, finished.length - this.options.keep))) {
      this.#jobs.delete(job.id);
    }
  }
}

/** What the generator is asked for a job (its callbacks and signal aside). */
const generateRequest = (spec: JobSpec): GenerateRequest => ({
  classes: spec.classes,
  init: spec.initImage,
  tile: spec.tile ?? undefined,
  thresholdPercentile: spec.threshold ?? undefined,
  guidanceInterval: spec.guidanceInterval ?? undefined,
  guidance: spec.guidance,
  steps: spec.steps,
  sampler: spec.sampler,
  eta: spec.eta,
  seed: spec.seed,
  post: spec.post,
  previewEvery: spec.previewEvery,
});
