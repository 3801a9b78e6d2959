/// <reference lib="dom" />
/**
 * The page (web/browser/index.html), bundled for browsers by scripts/build_browser.ts: the same
 * generation core as the CLI, on the visitor's GPU. Weights are the shipped default
 * (default.safetensors beside the page) or a .safetensors file the visitor opens or
 * drops, checked by the same code with the same messages as `--weights`.
 *
 * `globalThis.pixelDiffusion` holds the device, the generator of the loaded weights and
 * the last generation (its raw floats among them), for scripts and tests that drive the
 * page; `data-state` on <body> says what the page is doing: loading, ready, busy,
 * no-webgpu or failed.
 */

import { GENERATE_DEFAULTS } from "../generate/defaults.ts";
import { type Generation, GenerationCancelled, Generator } from "../generate/generator.ts";
import { classLabel } from "../generate/classes.ts";
import { spriteStem } from "../generate/names.ts";
import { type Gpu, NoAdapterError, openGpu } from "../gpu/gpu.ts";
import type { RgbaImage } from "../io/image.ts";
import { composeSheet } from "../io/sheet.ts";
import { openUserWeights } from "../model/weights.ts";
import { InputError } from "../util/errors.ts";

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
}

const handle: PageHandle = { gpu: null, generator: null, last: null };
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
};

let running: AbortController | null = null;
let downloadUrls: string[] = [];

function setState(state: PageState): void {
  document.body.dataset.state = state;
  const busy = state === "busy";
  const usable = state === "ready" || busy;
  ui.generate.disabled = !usable || busy || handle.generator === null;
  ui.cancel.disabled = !busy;
  ui.weightsFile.disabled = !usable || busy;
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

/** Download links: the sheet as `sample` lays it out (one row, ×4, 2-px gaps), each sprite at 16×16. */
async function offerDownloads(images: RgbaImage[], labels: string[], seed: number): Promise<void> {
  for (const url of downloadUrls) URL.revokeObjectURL(url);
  downloadUrls = [];
  const links: HTMLAnchorElement[] = [];
  const link = async (name: string, image: RgbaImage) => {
    const url = URL.createObjectURL(await pngBlob(image));
    downloadUrls.push(url);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.textContent = name;
    links.push(a);
  };
  await link(`sheet-s${seed}.png`, composeSheet([images], { scale: 4, gap: 2, checker: false }));
  for (const [i, image] of images.entries()) {
    await link(`${spriteStem(labels[i], seed, i)}.png`, image);
  }
  ui.downloads.replaceChildren("Download: ", ...links);
}

function showClasses(classNames: readonly string[]): void {
  const options = [
    new Option("every class in turn", ""),
    ...classNames.map((name, i) => new Option(name, String(i))),
    new Option("unconditional", String(classNames.length)),
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

async function generate(gpu: Gpu): Promise<void> {
  const generator = handle.generator;
  if (!generator) return;
  const k = generator.config.num_classes;
  const classNames = generator.classNames;
  const n = numberField(ui.count, "sprites");
  if (!Number.isInteger(n) || n < 1) throw new InputError(`sprites must be a whole number ≥ 1`);
  const fixed = ui.classSelect.value === "" ? null : Number(ui.classSelect.value);
  const classes = Array.from({ length: n }, (_, i) => fixed ?? i % k);
  const steps = numberField(ui.steps, "steps");
  const seed = numberField(ui.seed, "seed");
  const request = {
    classes,
    guidance: numberField(ui.guidance, "guidance"),
    steps,
    sampler: ui.sampler.value === "ddim" ? "ddim" as const : "ddpm" as const,
    eta: GENERATE_DEFAULTS.eta,
    seed,
    previewEvery: Math.max(1, Math.round(steps / PREVIEW_FRAMES)),
  };
  running = new AbortController();
  setState("busy");
  say(`Drawing ${n} sprite${n > 1 ? "s" : ""}…`);
  try {
    const out = await generator.generate({
      ...request,
      signal: running.signal,
      onPreview({ images, step, total }) {
        draw(images);
        say(`Step ${step} of ${total}…`);
      },
    });
    handle.last = out;
    draw(out.images);
    await offerDownloads(out.images, classes.map((c) => classLabel(c, classNames)), seed);
    say(
      `${n} sprite${n > 1 ? "s" : ""} (${request.sampler}, ${steps} steps, guidance ` +
        `${request.guidance}, seed ${seed}) in ${out.seconds.toFixed(1)} s on ` +
        `${gpu.adapter.description}.`,
    );
  } catch (err) {
    if (err instanceof GenerationCancelled) say("Cancelled.");
    else sayError(err);
  } finally {
    running = null;
    setState("ready");
  }
}

async function openFile(file: File, gpu: Gpu): Promise<void> {
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

function wire(gpu: Gpu): void {
  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    generate(gpu).catch(sayError);
  });
  ui.cancel.addEventListener("click", () => running?.abort());
  ui.weightsFile.addEventListener("change", () => {
    const file = ui.weightsFile.files?.[0];
    ui.weightsFile.value = "";
    if (file) openFile(file, gpu);
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
    if (file) openFile(file, gpu);
  });
}

async function start(): Promise<void> {
  ui.guidance.value = String(GENERATE_DEFAULTS.guidance);
  ui.steps.value = String(GENERATE_DEFAULTS.steps);
  ui.sampler.value = GENERATE_DEFAULTS.sampler;
  const webgpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  let gpu: Gpu;
  try {
    gpu = await openGpu(webgpu);
  } catch (err) {
    if (!(err instanceof NoAdapterError)) throw err;
    ui.noWebGpu.textContent = webgpu
      ? "This browser has WebGPU but offers no adapter for it (its GPU or driver may be " +
        "blocklisted), so it cannot draw sprites."
      : "This browser has no WebGPU, which the sprites are drawn with: use a current Chrome " +
        "or Edge, or a Firefox or Safari with WebGPU enabled.";
    ui.noWebGpu.hidden = false;
    say("");
    setState("no-webgpu");
    return;
  }
  handle.gpu = gpu;
  wire(gpu);
  try {
    await useWeights(DEFAULT_WEIGHTS, async () => {
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
