/**
 * The web app's server on `Deno.serve`: the page (embedded assets, never a file
 * read on a request's say-so) and the JSON API the page uses and scripts can
 * use — model info, jobs submitted to a FIFO queue, their progress as
 * Server-Sent Events, their files, cancellation. API reference: README, "serve".
 */

import { SAMPLERS } from "../diffusion/schedule.ts";
import { BUILTIN_PALETTES } from "../palette/builtin.ts";
import { MAX_COLORS, type Palette } from "../palette/palette.ts";
import { DITHERS } from "../palette/quantize.ts";
import { GENERATE_DEFAULTS, GENERATE_RANGES } from "../generate/defaults.ts";
import type { Generator } from "../generate/generator.ts";
import { spriteTensor } from "../generate/init_image.ts";
import { assetResponse, PAGE_ASSETS } from "./assets.ts";
import { localPageResponses } from "./local_page.ts";
import { jobEvents, PREVIEW_FORMATS, type PreviewFormat } from "./events.ts";
import { bytes, errorResponse, HttpError, json, readJsonBody } from "./http.ts";
import { type Job, JobQueue, QueueFull } from "./jobs.ts";
import {
  FieldError,
  MAX_PREVIEWS,
  MAX_UPLOAD_BYTES,
  parseJobRequest,
  type RequestLimits,
} from "./request.ts";
import { contentType, jobSummary } from "./summary.ts";

/**
 * Request bodies above this are refused: a generation request is a few hundred bytes, plus an
 * init and a mask PNG as base64 (each at most MAX_UPLOAD_BYTES, 4/3 as text).
 */
export const MAX_BODY_BYTES = 4096 + 2 * Math.ceil(MAX_UPLOAD_BYTES / 3) * 4;
/** Finished jobs whose files stay downloadable. */
const KEPT_JOBS = 64;

export interface ServerOptions {
  generator: Generator;
  /** How the weights are named to users (file name, or the shipped weights' name). */
  weightsName: string;
  /** The `--weights` the server was given, repeated in the sample command lines it shows. */
  weightsArg?: string;
  /** The weights file's bytes, which the static page at /local/ loads onto the visitor's GPU. */
  weightsFile: Uint8Array<ArrayBuffer>;
  parameters: number;
  /** The training data's colours stored with the weights, for `palette: "dataset"`. */
  datasetPalette?: Palette;
  adapter: string;
  host: string;
  port: number;
  maxQueue: number;
  /** The most sprites one request may draw (the adapter may allow fewer). */
  maxSprites: number;
  /** A running job is stopped after this many seconds. */
  maxSeconds: number;
}

export interface RunningServer {
  /** Where the page is, e.g. http://127.0.0.1:8000/. */
  url: string;
  queue: JobQueue;
  /**
   * Runs the page's default request for one step, so that the first visitor's starts at once:
   * on a new machine it compiles the kernels, which blocks the event loop (about 13 s; minutes
   * on Mesa 25), so answering requests meanwhile is impossible anyway.
   */
  warmUp(): Promise<void>;
  /** Cancels every job, ends every event stream and stops listening. */
  shutdown(): Promise<void>;
}

type Handler = (req: Request, params: string[], url: URL) => Response | Promise<Response>;
interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

/** What a request is checked against: the model, this server's bounds, its finished jobs. */
function requestLimits(options: ServerOptions, queue: JobQueue): RequestLimits {
  const { generator, datasetPalette } = options;
  const channels = generator.channels as 3 | 4;
  /** A finished sprite as a variation's start, converted as `sample --init` reads its PNG. */
  const initSprite = (id: string, sprite: number) => {
    const job = queue.get(id);
    if (!job) return `no job '${id}' (finished jobs are kept until ${KEPT_JOBS} newer ones finish)`;
    const file = job.files.find((f) => f.kind === "sprite" && f.sprite === sprite);
    if (job.state !== "done" || !job.result || !file) {
      return job.state === "done"
        ? `job ${id} has sprites 0…${job.result!.images.length - 1}, not ${sprite}`
        : `job ${id} is ${job.state}; variations start from a finished sprite`;
    }
    return { image: spriteTensor(job.result.images[sprite], file.name, channels), file: file.name };
  };
  return {
    classNames: generator.classNames,
    channels,
    maxSprites: (guidance) => Math.min(options.maxSprites, generator.maxSprites(guidance)),
    datasetPalette,
    initSprite,
  };
}

/** The request handler: routes, the API, and errors as JSON. */
export function createApp(
  options: ServerOptions,
  queue: JobQueue,
): (req: Request) => Promise<Response> {
  const { generator, weightsArg, datasetPalette } = options;
  const classNames = generator.classNames;
  const limits = requestLimits(options, queue);
  const { maxSprites } = limits;
  const summary = (job: Job) => jobSummary(job, classNames, weightsArg);

  const findJob = (id: string): Job => {
    const job = queue.get(id);
    if (!job) {
      throw new HttpError(
        404,
        `no job '${id}' (finished jobs are kept until ${KEPT_JOBS} newer ones finish)`,
      );
    }
    return job;
  };

  const info = () => ({
    weights: options.weightsName,
    adapter: options.adapter,
    model: {
      config: generator.config,
      parameters: options.parameters,
      channels: generator.channels,
    },
    classes: classNames,
    samplers: SAMPLERS,
    palettes: [
      ...[...BUILTIN_PALETTES.values()].map((p) => ({ name: p.name, colors: p.colors.length })),
      ...(datasetPalette ? [{ name: "dataset", colors: datasetPalette.colors.length }] : []),
    ],
    dithers: DITHERS,
    defaults: GENERATE_DEFAULTS,
    ranges: {
      ...GENERATE_RANGES,
      autoColors: { min: 2, max: MAX_COLORS, integer: true },
      n: { min: 1, max: maxSprites(GENERATE_DEFAULTS.guidance), integer: true },
    },
    limits: {
      maxSprites: { guided: maxSprites(GENERATE_DEFAULTS.guidance), unguided: maxSprites(1) },
      maxSeconds: options.maxSeconds,
      maxPreviews: MAX_PREVIEWS,
      maxBodyBytes: MAX_BODY_BYTES,
    },
    queue: { running: queue.running !== null, waiting: queue.waiting, maxQueue: options.maxQueue },
  });

  const submit = async (req: Request) => {
    const body = await readJsonBody(req, MAX_BODY_BYTES);
    const spec = await parseJobRequest(body, limits);
    const job = queue.submit(spec);
    return json(202, summary(job), { location: `/api/jobs/${job.id}` });
  };

  const events = (id: string, url: URL) => {
    const job = findJob(id);
    const format = url.searchParams.get("previews") ?? "png";
    if (!(PREVIEW_FORMATS as readonly string[]).includes(format)) {
      throw new HttpError(400, `previews must be one of ${PREVIEW_FORMATS.join(", ")}`, {
        field: "previews",
        allowed: PREVIEW_FORMATS,
      });
    }
    const stream = jobEvents(job, format as PreviewFormat, () => summary(job));
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      },
    });
  };

  const file = async (id: string, name: string) => {
    const job = findJob(id);
    if (job.state !== "done") {
      throw new HttpError(409, `job ${id} is ${job.state}; its files exist once it is done`, {
        state: job.state,
      });
    }
    const encoded = job.file(name);
    if (!encoded) throw new HttpError(404, `job ${id} has no file '${name}'`);
    return bytes(await encoded, contentType(name), {
      "content-disposition": `inline; filename="${name}"`,
    });
  };

  // The serve page, and the static page on the visitor's GPU (this server's API is its
  // fallback) at /local/: fixed paths, each answered from memory.
  const files: Record<string, () => Response> = {
    ...Object.fromEntries(
      Object.entries(PAGE_ASSETS).map(([path, asset]) => [path, () => assetResponse(asset)]),
    ),
    ...localPageResponses(options.weightsFile),
  };
  const routes: Route[] = [
    ...Object.entries(files).map(([path, respond]) => ({
      pattern: new RegExp(`^${path.replaceAll(".", "\\.")}$`),
      methods: { GET: respond },
    })),
    { pattern: /^\/api\/info$/, methods: { GET: () => json(200, info()) } },
    { pattern: /^\/api\/jobs$/, methods: { POST: submit } },
    {
      pattern: /^\/api\/jobs\/([^/]+)$/,
      methods: {
        GET: (_req, [id]) => json(200, summary(findJob(id))),
        DELETE: (_req, [id]) => {
          const job = findJob(id);
          if (!queue.cancel(job)) {
            throw new HttpError(409, `job ${id} has already ended (${job.state})`, {
              state: job.state,
            });
          }
          return json(200, summary(job));
        },
      },
    },
    {
      pattern: /^\/api\/jobs\/([^/]+)\/events$/,
      methods: { GET: (_req, [id], url) => events(id, url) },
    },
    {
      pattern: /^\/api\/jobs\/([^/]+)\/files\/([^/]+)$/,
      methods: { GET: (_req, [id, name]) => file(id, name) },
    },
  ];

  return async (req: Request) => {
    const url = new URL(req.url);
    try {
      const path = decodeURIComponent(url.pathname);
      for (const route of routes) {
        const match = route.pattern.exec(path);
        if (!match) continue;
        const handler = route.methods[req.method];
        if (!handler) {
          const allow = Object.keys(route.methods).join(", ");
          throw new HttpError(405, `${req.method} is not allowed on ${path}; use ${allow}`, {}, {
            allow,
          });
        }
        return await handler(req, match.slice(1), url);
      }
      throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
    } catch (err) {
      if (err instanceof HttpError) return errorResponse(err);
      if (err instanceof FieldError) {
        return json(400, { error: err.message, field: err.field, allowed: err.allowed });
      }
      if (err instanceof QueueFull) {
        return json(429, { error: err.message, retryAfter: err.retryAfter }, {
          "retry-after": String(err.retryAfter),
        });
      }
      if (err instanceof URIError) {
        return errorResponse(new HttpError(400, `malformed URL ${url.pathname}`));
      }
      console.error(err);
      return errorResponse(new HttpError(500, `internal error: ${(err as Error).message}`));
    }
  };
}

/** Starts listening; the returned URL has the actual port (for `port` 0, a free one). */
export function startServer(options: ServerOptions): RunningServer {
  const queue = new JobQueue(options.generator, {
    maxQueue: options.maxQueue,
    maxSeconds: options.maxSeconds,
    keep: KEPT_JOBS,
  });
  const server = Deno.serve(
    { hostname: options.host, port: options.port, onListen: () => {} },
    createApp(options, queue),
  );
  const { hostname, port } = server.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    url: `http://${host}:${port}/`,
    queue,
    async warmUp() {
      const limits = requestLimits(options, queue);
      // What the page sends untouched: a sprite per class, as many as this server allows.
      const n = Math.min(limits.classNames.length, limits.maxSprites(GENERATE_DEFAULTS.guidance));
      await queue.warmUp(await parseJobRequest({ n }, limits));
    },
    async shutdown() {
      await queue.close(); // every event stream ends with its job
      await server.shutdown();
    },
  };
}
