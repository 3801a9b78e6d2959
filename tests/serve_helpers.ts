/**
 * Helpers for the serve tests (and the serve scripts): `main.ts serve` as a
 * user runs it, on a free loopback port, and a small client of its API (jobs,
 * Server-Sent Events). Test-only.
 */

import { ok } from "node:assert/strict";
import { mainCommand } from "./cli_helpers.ts";

export interface ServeProcess {
  /** The page's URL as the server printed it, e.g. http://127.0.0.1:41234/. */
  url: string;
  child: Deno.ChildProcess;
  /** Everything the process printed so far. */
  stdout(): string;
  stderr(): string;
  /** Sends `signal` and waits for the process to end. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Collects a stream's text as it arrives; `text()` is what came so far. */
function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let text = "";
  const decoder = new TextDecoder();
  const done = stream.pipeTo(
    new WritableStream({
      write: (chunk) => void (text += decoder.decode(chunk, { stream: true })),
    }),
  );
  return { text: () => text, done };
}

/** Starts `main.ts serve --port 0 …args` and waits (up to `timeoutMs`) for it to print its URL. */
export async function spawnServe(args: string[], timeoutMs = 120_000): Promise<ServeProcess> {
  const child = mainCommand(["serve", "--port", "0", ...args]).spawn();
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  const started = performance.now();
  let url: string | undefined;
  while (!url) {
    url = /open (http:\/\/\S+) /.exec(out.text())?.[1];
    if (url) break;
    const exited = await Promise.race([child.status, new Promise((r) => setTimeout(r, 50))]);
    if (exited || performance.now() - started > timeoutMs) {
      if (!exited) child.kill("SIGKILL");
      await Promise.all([child.status, out.done, err.done]);
      throw new Error(`serve did not start:\n${out.text()}\n${err.text()}`);
    }
  }
  return {
    url,
    child,
    stdout: out.text,
    stderr: err.text,
    async stop(signal = "SIGINT") {
      try {
        child.kill(signal);
      } catch {
        // already ended
      }
      const status = await child.status;
      await Promise.all([out.done, err.done]);
      return status;
    },
  };
}

/** A parsed Server-Sent Event. */
export interface ServerEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads the events of an open SSE response one at a time (the stream may be cancelled mid-way). */
export class EventReader {
  #buffer = "";
  readonly #reader: ReadableStreamDefaultReader<string>;

  constructor(response: Response) {
    ok(response.ok, `events: HTTP ${response.status}`);
    ok(response.headers.get("content-type")?.startsWith("text/event-stream"));
    this.#reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next event, or null when the stream has ended. */
  async next(): Promise<ServerEvent | null> {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const field = (name: string) =>
          block.split("\n").find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
        const data = field("data");
        if (data !== undefined) {
          return { event: field("event") ?? "message", data: JSON.parse(data) };
        }
        continue;
      }
      const { value, done } = await this.#reader.read();
      if (done) return null;
      this.#buffer += value;
    }
  }

  /** Every remaining event, up to the end of the stream. */
  async rest(): Promise<ServerEvent[]> {
    const events: ServerEvent[] = [];
    for (let e = await this.next(); e; e = await this.next()) events.push(e);
    return events;
  }

  /** Reads until an event named `name` (returned) or the end of the stream (an error). */
  async until(name: string): Promise<ServerEvent> {
    for (let e = await this.next(); e; e = await this.next()) if (e.event === name) return e;
    throw new Error(`the event stream ended before a '${name}' event`);
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

/** A small client of one server's API. */
export class ApiClient {
  constructor(readonly base: string) {}

  fetch(path: string, init?: RequestInit): Promise<Response> {
    return fetch(new URL(path, this.base), init);
  }

  /** GET/DELETE … as [status, JSON body]. */
  async json(path: string, init?: RequestInit): Promise<[number, Record<string, unknown>]> {
    const res = await this.fetch(path, init);
    return [res.status, await res.json()];
  }

  /** POSTs a job request (any JSON value); returns the response, body unread. */
  submit(body: unknown): Promise<Response> {
    return this.fetch("/api/jobs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  /** Submits `body`, which must be accepted; returns the job summary. */
  async accepted(body: unknown): Promise<Job> {
    const res = await this.submit(body);
    const job = await res.json();
    ok(res.status === 202, `expected 202, got ${res.status}: ${JSON.stringify(job)}`);
    return job;
  }

  /** Opens `job`'s event stream. */
  async events(id: string, previews = "png", signal?: AbortSignal): Promise<EventReader> {
    return new EventReader(
      await this.fetch(`/api/jobs/${id}/events?previews=${previews}`, { signal }),
    );
  }

  async bytes(path: string): Promise<Uint8Array> {
    const res = await this.fetch(path);
    ok(res.ok, `${path}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Polls `id` until `done(job)`, at most `timeoutMs`. */
  async waitFor(id: string, done: (job: Job) => boolean, timeoutMs = 60_000): Promise<Job> {
    const started = performance.now();
    for (;;) {
      const [, job] = await this.json(`/api/jobs/${id}`);
      if (done(job as unknown as Job)) return job as unknown as Job;
      if (performance.now() - started > timeoutMs) {
        throw new Error(`job ${id} still ${job.state} after ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The job summary as the API sends it (the fields the tests read). */
export interface Job {
  id: string;
  state: string;
  position: number;
  step: number;
  total: number;
  request: Record<string, unknown>;
  seconds: number | null;
  error: string | null;
  command: string;
  files: { name: string; kind: string; sprite: number | null; type: string; url: string }[];
  events: string;
}
