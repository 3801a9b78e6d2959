/// <reference lib="dom" />
/**
 * The page's way out when the browser has no WebGPU but the page came from `serve` (which says
 * so with `<meta name="pixel-diffusion-api">`): the request goes to the server's JSON API
 * (README, "serve"), the fade-in arrives as Server-Sent Events with raw RGBA previews, drawn as
 * the GPU path draws its own, and the finished sprites are the server's files. On a plain
 * static host there is no such tag and no fallback.
 */

import { GenerationCancelled } from "../generate/generator.ts";
import type { RgbaImage } from "../io/image.ts";
import { InputError } from "../util/errors.ts";

/** What `GET /api/info` says that the page uses. */
export interface ServerInfo {
  weights: string;
  adapter: string;
  classes: string[];
}

/** A `POST /api/jobs` body: the page's controls in the API's words. */
export interface ServerRequest {
  class: number | null;
  n: number;
  guidance: number;
  steps: number;
  sampler: string;
  seed: number;
  previewEvery: number;
}

/** One file of a finished job, as the job summary lists it. */
export interface ServerFile {
  name: string;
  kind: string;
  sprite: number | null;
  url: string;
}

export interface ServerResult {
  /** The sprites' PNGs (the `sprite` files), decoded. */
  images: RgbaImage[];
  files: ServerFile[];
  seconds: number;
}

/** The API's base path when the page was served by `serve`, else null. */
export function serverApi(doc: Document): string | null {
  return doc.querySelector<HTMLMetaElement>('meta[name="pixel-diffusion-api"]')?.content || null;
}

/** Fetches JSON; an error answer becomes its one-line `error` text. */
async function call<T>(url: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw new Error(`cannot reach the server (${(err as Error).message})`);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new InputError(body?.error ?? `the server answered HTTP ${response.status}`);
  }
  return body as T;
}

export const serverInfo = (api: string): Promise<ServerInfo> => call(`${api}info`);

const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** Decodes a PNG with the browser's decoder, unpremultiplied, no colour conversion. */
async function decodePng(blob: Blob): Promise<RgbaImage> {
  const bitmap = await createImageBitmap(blob, {
    premultiplyAlpha: "none",
    colorSpaceConversion: "none",
  });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d")!;
  context.drawImage(bitmap, 0, 0);
  const { data, width, height } = context.getImageData(0, 0, bitmap.width, bitmap.height);
  return { width, height, data: new Uint8Array(data.buffer) };
}

/**
 * Runs `request` on the server: previews go to `onPreview` as they arrive; aborting `signal`
 * cancels the job there (DELETE) and rejects with GenerationCancelled, as the GPU path does.
 */
export async function generateOnServer(
  api: string,
  request: ServerRequest,
  signal: AbortSignal,
  onPreview: (p: { images: RgbaImage[]; step: number; total: number }) => void,
): Promise<ServerResult> {
  const job = await call<{ id: string; events: string }>(`${api}jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
  });
  const summary = await new Promise<{ files: ServerFile[]; seconds: number }>((resolve, reject) => {
    const source = new EventSource(`${job.events}?previews=rgba`);
    const end = (settle: () => void) => {
      source.close();
      signal.removeEventListener("abort", abort);
      settle();
    };
    const abort = () =>
      end(() => {
        // Closing the stream alone would cancel it too; DELETE says so at once.
        fetch(`${api}jobs/${job.id}`, { method: "DELETE" }).catch(() => {});
        reject(new GenerationCancelled());
      });
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    const data = (e: Event) => JSON.parse((e as MessageEvent<string>).data);
    source.addEventListener("preview", (e) => {
      const { step, total, width, height, sprites } = data(e);
      onPreview({
        step,
        total,
        images: (sprites as string[]).map((s) => ({ width, height, data: fromBase64(s) })),
      });
    });
    source.addEventListener("done", (e) => end(() => resolve(data(e))));
    source.addEventListener("failed", (e) => end(() => reject(new InputError(data(e).error))));
    source.addEventListener("cancelled", () => end(() => reject(new GenerationCancelled())));
    // The server ends the stream only after done, failed or cancelled: any error before that
    // is a lost connection, which EventSource would otherwise retry without end.
    source.onerror = () => end(() => reject(new Error("lost the connection to the server")));
  });
  const sprites = summary.files.filter((f) => f.kind === "sprite");
  const images = await Promise.all(sprites.map(async (f) => {
    const response = await fetch(f.url);
    if (!response.ok) throw new Error(`cannot fetch ${f.name}: HTTP ${response.status}`);
    return decodePng(await response.blob());
  }));
  return { images, files: summary.files, seconds: summary.seconds };
}
