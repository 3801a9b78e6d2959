/**
 * A job's progress as Server-Sent Events (`text/event-stream`, read by the
 * page's EventSource or `curl -N`). Events: `queued` {position}, `started`
 * {total}, `preview` {step, total, width, height, sprites}, and one of `done`
 * (the job summary), `failed` {error}, `cancelled` {}, after which the stream
 * ends. A preview's sprites are the raw x0 prediction, each as a PNG data URL,
 * or with `?previews=rgba` as base64 of width·height·4 RGBA bytes (no PNG
 * encoding on the server, drawn directly with putImageData).
 */

import type { RgbaImage } from "../io/image.ts";
import { encodePng } from "../io/png.ts";
import type { Job, JobEvent } from "./jobs.ts";

export const PREVIEW_FORMATS = ["png", "rgba"] as const;
export type PreviewFormat = typeof PREVIEW_FORMATS[number];

const encoder = new TextEncoder();

/** One SSE message. */
const message = (event: string, data: unknown) =>
  encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

async function sprites(images: readonly RgbaImage[], format: PreviewFormat): Promise<string[]> {
  if (format === "rgba") return images.map((image) => image.data.toBase64());
  const pngs = await Promise.all(images.map(encodePng));
  return pngs.map((png) => `data:image/png;base64,${png.toBase64()}`);
}

/**
 * The event stream of `job`: its state now (place in the queue, or the newest preview), then each
 * event as it happens. `summary` is the body of the final `done` event. Closing the stream stops
 * watching the job; when no one watches an unfinished job any more, the queue cancels it.
 */
export function jobEvents(
  job: Job,
  format: PreviewFormat,
  summary: () => unknown,
): ReadableStream<Uint8Array> {
  let unwatch = () => {};
  // Events are written in order; a PNG preview is encoded before the events after it.
  let pending: Promise<void> = Promise.resolve();
  return new ReadableStream<Uint8Array>({
    start(stream) {
      let ended = false;
      const send = async (event: JobEvent) => {
        if (event.type === "preview") {
          const { step, total, images } = event;
          const { width, height } = images[0];
          const data = { step, total, width, height, sprites: await sprites(images, format) };
          return message("preview", data);
        }
        if (event.type === "done") return message("done", summary());
        const { type: _, ...data } = event;
        return message(event.type, data);
      };
      const forward = (event: JobEvent) => {
        if (ended) return;
        const last = event.type === "done" || event.type === "failed" || event.type === "cancelled";
        if (last) {
          ended = true;
          unwatch();
        }
        pending = pending.then(async () => {
          stream.enqueue(await send(event));
          if (last) stream.close();
        }).catch(() => {}); // the client has gone; nothing is left to tell
      };
      if (job.finished) {
        forward(
          job.state === "done"
            ? { type: "done" }
            : job.state === "failed"
            ? { type: "failed", error: job.error ?? "" }
            : { type: "cancelled" },
        );
        return;
      }
      unwatch = job.watch(forward);
      if (job.state === "queued") forward({ type: "queued", position: job.position });
      else {
        forward({ type: "started", total: job.spec.steps });
        if (job.latest) forward({ type: "preview", ...job.latest });
      }
    },
    cancel() {
      unwatch();
    },
  });
}
