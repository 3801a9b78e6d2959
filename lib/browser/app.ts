/// <reference lib="dom" />
/**
 * The page (web/browser/index.html), bundled for browsers by scripts/build_browser.ts: the same
 * generation core as the CLI, on the visitor's GPU. Weights are the shipped default
 * (default.safetensors beside the page) or a .safetensors file the visitor opens or
 * drops, checked by the same code with the same messages as `--weights`.
 *
 * Without WebGPU the page says so; when `serve` sent it (a meta tag says so), it then draws
 * through that server's API instead (./server_fallback.ts), with the server's weights.
 *
 * `globalThis.pixelDiffusion` holds the device, the generator of the loaded weights and
 * the last generation (its raw floats among them; `served` for one the server drew), for
 * scripts and tests that drive the page; `data-state` on <body> says what the page is doing:
 * loading, ready, busy, no-webgpu or failed; `data-backend` where sprites are drawn (gpu or
 * server).
 */

import { type SamplerKind, SAMPLERS } from "../diffusion/schedule.ts";
import { GENERATE_DEFAULTS } from "../generate/defaults.ts";
import { type Generation, GenerationCancelled, Generator } from "../generate/generator.ts";
import { classLabel } from "../generate/classes.ts";
import { spriteStem } from "../generate/names.ts";
import { type Gpu, NoAdapterError, openGpu } from "../gpu/gpu.ts";
import type { RgbaImage } from "../io/image.ts";
import { composeSheet } from "../io/sheet.ts";
import { openUserWeights } from "../model/weights.ts";
import { InputError } from "../util/errors.ts";
import { generateOnServer, serverApi, serverInfo, type ServerResult } from "./server_fallback.ts";

/** How the sampler menu names each sampler (the CLI's --sampler words in brackets). */
const SAMPLER_LABELS: Record<SamplerKind, string> = {
  ddpm: "DDPM, ancestral (ddpm)",
  ddim: "DDIM (ddim)",
  "dpm++": "DPM-Solver++(2M) (dpm++)",
  "dpm++sde": "DPM-Solver++(2M) SDE (dpm++sde)",
};

/** The shipped weights, copied beside the page by the build. */
const DEFAULT_WEIGHTS = "default.safetensors";
/** Sprites per row on the canvas. */
const COLUMNS = 8;
/** Frames of the fade-in a request shows (one preview readback each). */
const PREVIEW_FRAMES = 25;

type PageState = "loading" | "ready" | "busy" | "no-webgpu" | "failed";

interface PageHandle {
  gpu: Gpu | null;
  generator: Generator | null;
  last: Generation | null;
  served: ServerResult | null;
}

const handle: PageHandle = { gpu: null, generator: null, last: null, served: null };
(globalThis as typeof globalThis & { pixelDiffusion: PageHandle }).pixelDiffusion = handle;

function element<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

const ui = {
  form: element<HTMLFormElement>("controls"),
  classSelect: element<HTMLSelectElement>("class"),
  count: element<HTMLInputElement>("count"),
  guidance: element<HTMLInputElement>("guidance"),
  steps: element<HTMLInputElement>("steps"),
  sampler: element<HTMLSelectElement>("sampler"),
  seed: element<HTMLInputElement>("seed"),
  generate: element<HTMLButtonElement>("generate"),
  cancel: element<HTMLButtonElement>("cancel"),
  weightsName: element<HTMLSpanElement>("weights-name"),
  weightsFile: element<HTMLInputElement>("weights-file"),
  canvas: element<HTMLCanvasElement>("sprites"),
  status: element<HTMLParagraphElement>("status"),
  downloads: element<HTMLParagraphElement>("downloads"),
  noWebGpu: element<HTMLParagraphElement>("no-webgpu"),
  /** The line under the title, which says where sprites are drawn. */
  tagline: document.querySelector("header p")!,
};

/** The form's request, the same for either backend. */
interface PageRequest {
  n: number;
  /** One class for every sprite, or null for each class in turn. */
  fixed: number | null;
  guidance: number;
  steps: number;
  sampler: SamplerKind;
  seed: number;
  previewEvery: number;
}

type OnPreview = (p: { images: RgbaImage[]; step: number; total: number }) => void;

/** Where sprites are drawn: this browser's GPU, or (no WebGPU, page sent by `serve`) the server. */
interface Backend {
  kind: "gpu" | "server";
  /** Where, as the status line names it. */
  where: string;
  /** Draws `r`; resolves with the final sprites and the downloads (the sheet first). */
  run(r: PageRequest, signal: AbortSignal, onPreview: OnPreview): Promise<Drawn>;
}

interface Drawn {
  images: RgbaImage[];
  seconds: number;
  downloads: { name: string; url: string }[];
}

let backend: Backend | null = null;
let running: AbortController | null = null;
let downloadUrls: string[] = [];

function setState(state: PageState): void {
  document.body.dataset.state = state;
  const busy = state === "busy";
  const usable = state === "ready" || busy;
  const canDraw = backend?.kind === "server" || handle.generator !== null;
  ui.generate.disabled = !usable || busy || !canDraw;
  ui.cancel.disabled = !busy;
  // The server draws with its own weights only.
  ui.weightsFile.disabled = !usable || busy || backend?.kind !== "gpu";
}

function say(text: string, isError = false): void {
  ui.status.textContent = text;
  ui.status.className = isError ? "error" : "";
}

/** A user-fixable problem as the CLI prints it; anything else is a bug, logged in full. */
function sayError(err: unknown): void {
  if (!(err instanceof InputError)) console.error(err);
  say(`error: ${err instanceof Error ? err.message : String(err)}`, true);
}

/** Reads a number field; an empty or non-numeric field is an error naming it. */
function numberField(input: HTMLInputElement, name: string): number {
  const value = input.valueAsNumber;
  if (!Number.isFinite(value)) throw new InputError(`${name} must be a number`);
  return value;
}

/** Draws sprites in rows over the checkerboard, scaled up with crisp pixels to fit the page. */
function draw(images: RgbaImage[]): void {
  const rows: RgbaImage[][] = [];
  for (let i = 0; i < images.length; i += COLUMNS) rows.push(images.slice(i, i + COLUMNS));
  const sheet = composeSheet(rows, { scale: 1, gap: 1, checker: true });
  const c = ui.canvas;
  c.width = sheet.width;
  c.height = sheet.height;
  c.getContext("2d")!.putImageData(imageData(sheet), 0, 0);
  const room = c.parentElement?.clientWidth || 800;
  const zoom = Math.max(1, Math.min(16, Math.floor(room / sheet.width)));
  c.style.width = `${sheet.width * zoom}px`;
  c.style.height = `${sheet.height * zoom}px`;
}

const imageData = (img: RgbaImage) =>
  new ImageData(new Uint8ClampedArray(img.data), img.width, img.height);

function pngBlob(img: RgbaImage): Promise<Blob> {
  const c = document.createElement("canvas");
  c.width = img.width;
  c.height = img.height;
  c.getContext("2d")!.putImageData(imageData(img), 0, 0);
  return new Promise((resolve, reject) =>
    c.toBlob((b) => b ? resolve(b) : reject(new Error("PNG encoding failed")), "image/png")
  );
}

/** Object URLs for the sheet as `sample` lays it out (one row, ×4, 2-px gaps) and each sprite. */
async function localDownloads(
  images: RgbaImage[],
  labels: string[],
  seed: number,
): Promise<Drawn["downloads"]> {
  for (const url of downloadUrls) URL.revokeObjectURL(url);
  downloadUrls = [];
  const link = async (name: string, image: RgbaImage) => {
    const url = URL.createObjectURL(await pngBlob(image));
    downloadUrls.push(url);
    return { name, url };
  };
  const sheet = composeSheet([images], { scale: 4, gap: 2, checker: false });
  const links = [await link(`sheet-s${seed}.png`, sheet)];
  for (const [i, image] of images.entries()) {
    links.push(await link(`${spriteStem(labels[i], seed, i)}.png`, image));
  }
  return links;
}

function offerDownloads(downloads: Drawn["downloads"]): void {
  const links = downloads.map(({ name, url }) => {
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.textContent = name;
    return a;
  });
  ui.downloads.replaceChildren("Download: ", ...links);
}

function showClasses(classNames: readonly string[], unconditional = true): void {
  const options = [
    new Option("every class in turn", ""),
    ...classNames.map((name, i) => new Option(name, String(i))),
    // The server's API takes named classes only.
    ...(unconditional ? [new Option("unconditional", String(classNames.length))] : []),
  ];
  ui.classSelect.replaceChildren(...options);
}

/** Loads weights (a user's file or the default) and makes them the page's model. */
async function useWeights(name: string, read: () => Promise<Uint8Array>, gpu: Gpu): Promise<void> {
  const weights = await openUserWeights(name, read);
  handle.generator?.destroy();
  handle.generator = Generator.fromWeights(gpu, weights);
  ui.weightsName.textContent = name;
  showClasses(weights.classNames);
  const { in_ch, base_ch, num_classes } = weights.config;
  say(`Ready: ${name} (${num_classes} classes, ${in_ch} channels, base ${base_ch}).`);
}

function readForm(): PageRequest {
  const n = numberField(ui.count, "sprites");
  if (!Number.isInteger(n) || n < 1) throw new InputError(`sprites must be a whole number ≥ 1`);
  const steps = numberField(ui.steps, "steps");
  return {
    n,
    fixed: ui.classSelect.value === "" ? null : Number(ui.classSelect.value),
    guidance: numberField(ui.guidance, "guidance"),
    steps,
    sampler: SAMPLERS.find((k) => k === ui.sampler.value) ?? GENERATE_DEFAULTS.sampler,
    seed: numberField(ui.seed, "seed"),
    previewEvery: Math.max(1, Math.round(steps / PREVIEW_FRAMES)),
  };
}

/** The generation core on this browser's GPU, with the weights loaded in the page. */
function gpuBackend(gpu: Gpu): Backend {
  return {
    kind: "gpu",
    where: gpu.adapter.description,
    async run(r, signal, onPreview) {
      const generator = handle.generator;
      if (!generator) throw new InputError("no weights are loaded");
      const k = generator.config.num_classes;
      const classes = Array.from({ length: r.n }, (_, i) => r.fixed ?? i % k);
      const out = await generator.generate({
        classes,
        guidance: r.guidance,
        steps: r.steps,
        sampler: r.sampler,
        eta: GENERATE_DEFAULTS.eta,
        seed: r.seed,
        previewEvery: r.previewEvery,
        signal,
        onPreview,
      });
      handle.last = out;
      const labels = classes.map((c) => classLabel(c, generator.classNames));
      const downloads = await localDownloads(out.images, labels, r.seed);
      return { images: out.images, seconds: out.seconds, downloads };
    },
  };
}

/** The server that sent the page, through its API: its GPU, its weights. */
function serverBackend(api: string, adapter: string): Backend {
  return {
    kind: "server",
    where: `the server's ${adapter}`,
    async run(r, signal, onPreview) {
      const { n, fixed: c, guidance, steps, sampler, seed, previewEvery } = r;
      const request = { class: c, n, guidance, steps, sampler, seed, previewEvery };
      const out = await generateOnServer(api, request, signal, onPreview);
      handle.served = out;
      const sheet = out.files.filter((f) => f.kind === "sheet");
      const sprites = out.files.filter((f) => f.kind === "sprite");
      const downloads = [...sheet, ...sprites].map(({ name, url }) => ({ name, url }));
      return { images: out.images, seconds: out.seconds, downloads };
    },
  };
}

async function generate(): Promise<void> {
  if (!backend) return;
  const r = readForm();
  const plural = r.n > 1 ? "s" : "";
  running = new AbortController();
  handle.last = handle.served = null;
  setState("busy");
  say(`Drawing ${r.n} sprite${plural}…`);
  try {
    const out = await backend.run(r, running.signal, ({ images, step, total }) => {
      draw(images);
      say(`Step ${step} of ${total}…`);
    });
    draw(out.images);
    offerDownloads(out.downloads);
    say(
      `${r.n} sprite${plural} (${r.sampler}, ${r.steps} steps, guidance ${r.guidance}, seed ` +
        `${r.seed}) in ${out.seconds.toFixed(1)} s on ${backend.where}.`,
    );
  } catch (err) {
    if (err instanceof GenerationCancelled) say("Cancelled.");
    else sayError(err);
  } finally {
    running = null;
    setState("ready");
  }
}

async function openFile(file: File): Promise<void> {
  const gpu = handle.gpu;
  if (!gpu) {
    say(
      "error: the server that sent this page draws with its own weights; opening weights " +
        "needs a browser with WebGPU",
      true,
    );
    return;
  }
  if (document.body.dataset.state !== "ready") {
    say("error: wait for the sprites being drawn (or cancel them) before changing weights", true);
    return;
  }
  setState("loading");
  try {
    await useWeights(file.name, async () => new Uint8Array(await file.arrayBuffer()), gpu);
  } catch (err) {
    sayError(err);
  } finally {
    setState("ready");
  }
}

function wire(): void {
  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    generate().catch(sayError);
  });
  ui.cancel.addEventListener("click", () => running?.abort());
  ui.weightsFile.addEventListener("change", () => {
    const file = ui.weightsFile.files?.[0];
    ui.weightsFile.value = "";
    if (file) openFile(file);
  });
  document.addEventListener("dragover", (e) => {
    e.preventDefault();
    document.body.classList.add("dropping");
  });
  document.addEventListener("dragleave", () => document.body.classList.remove("dropping"));
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    document.body.classList.remove("dropping");
    const file = e.dataTransfer?.files[0];
    if (file) openFile(file);
  });
}

function useBackend(b: Backend): void {
  backend = b;
  document.body.dataset.backend = b.kind;
  wire();
}

/** No WebGPU here, but the server that sent the page has an API: draw there, and say so. */
async function startOnServer(api: string, why: string): Promise<void> {
  const info = await serverInfo(api);
  ui.noWebGpu.textContent = `${why}, so the sprites are drawn by the server that sent this ` +
    `page (on its ${info.adapter}), not on your GPU.`;
  ui.noWebGpu.hidden = false;
  ui.weightsName.textContent = info.weights;
  ui.tagline.textContent = "16×16 sprites from a diffusion model, drawn by this page's server.";
  showClasses(info.classes, false);
  useBackend(serverBackend(api, info.adapter));
  say(`Ready: ${info.weights} on the server (${info.classes.length} classes).`);
  setState("ready");
}

async function start(): Promise<void> {
  ui.guidance.value = String(GENERATE_DEFAULTS.guidance);
  ui.steps.value = String(GENERATE_DEFAULTS.steps);
  // Every sampler the core has, so the default (not in the HTML's list) is one of them.
  ui.sampler.replaceChildren(...SAMPLERS.map((k) => new Option(SAMPLER_LABELS[k], k)));
  ui.sampler.value = GENERATE_DEFAULTS.sampler;
  const webgpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  let gpu: Gpu;
  try {
    gpu = await openGpu(webgpu);
  } catch (err) {
    if (!(err instanceof NoAdapterError)) throw err;
    const why = webgpu
      ? "This browser has WebGPU but offers no adapter for it (its GPU or driver may be " +
        "blocklisted)"
      : "This browser has no WebGPU, which the sprites are drawn with";
    const api = serverApi(document);
    if (api) return await startOnServer(api, why);
    ui.noWebGpu.textContent = webgpu
      ? `${why}, so it cannot draw sprites.`
      : `${why}: use a current Chrome or Edge, or a Firefox or Safari with WebGPU enabled.`;
    ui.noWebGpu.hidden = false;
    say("");
    setState("no-webgpu");
    return;
  }
  handle.gpu = gpu;
  useBackend(gpuBackend(gpu));
  try {
    // Sent by `serve`, default.safetensors is the server's weights: name them as it does.
    const api = serverApi(document);
    const name = api ? (await serverInfo(api)).weights : DEFAULT_WEIGHTS;
    await useWeights(name, async () => {
      const response = await fetch(DEFAULT_WEIGHTS);
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      return new Uint8Array(await response.arrayBuffer());
    }, gpu);
  } catch (err) {
    sayError(err); // the page still takes a dropped file
  }
  setState("ready");
}

start().catch((err) => {
  sayError(err);
  setState("failed");
});
