/**
 * Headless Chromium driven over the DevTools protocol (a WebSocket; no npm client,
 * no browser download), for the browser tests and scripts/bench_browser.ts.
 *
 * WebGPU needs `--enable-unsafe-webgpu` on Linux; headless Chromium then offers
 * its own software adapter (SwiftShader), with or without `--disable-gpu`. Pages
 * must come from http://127.0.0.1 (a secure context) for `navigator.gpu` to exist.
 */

import { existsSync } from "node:fs";

/** The browser binary: $CHROMIUM, else Debian's /usr/bin/chromium; null when absent. */
export function chromiumPath(): string | null {
  const path = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
  return existsSync(path) ? path : null;
}

/** Why a browser test is skipped, or null when it can run. */
export function browserSkipReason(): string | null {
  return chromiumPath()
    ? null
    : "skipped: no Chromium at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM)";
}

const FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--remote-debugging-port=0",
  // The machine's network is closed: no background connections, updates or sync.
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--no-default-browser-check",
];

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

interface RemoteObject {
  type: string;
  value?: unknown;
  description?: string;
}

interface ExceptionDetails {
  text: string;
  exception?: RemoteObject;
}

/** A Chromium process with one page, controlled over CDP. */
export class Chromium {
  /** What the page printed (console calls and uncaught exceptions), for failure messages. */
  readonly log: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #profile: string;
  readonly #socket: WebSocket;
  readonly #stderrDrained: Promise<void>;
  readonly #pending = new Map<number, (m: CdpMessage) => void>();
  readonly #listeners = new Set<(m: CdpMessage) => void>();
  #nextId = 0;

  private constructor(
    child: Deno.ChildProcess,
    profile: string,
    socket: WebSocket,
    stderrDrained: Promise<void>,
  ) {
    this.#child = child;
    this.#stderrDrained = stderrDrained;
    this.#profile = profile;
    this.#socket = socket;
    socket.onmessage = (e) => {
      const m: CdpMessage = JSON.parse(e.data);
      if (m.id !== undefined) {
        this.#pending.get(m.id)?.(m);
        this.#pending.delete(m.id);
      } else {
        for (const l of this.#listeners) l(m);
      }
    };
    this.#listeners.add((m) => {
      if (m.method === "Runtime.consoleAPICalled") {
        const args = (m.params?.args ?? []) as RemoteObject[];
        this.log.push(`console.${m.params?.type}: ${args.map(show).join(" ")}`);
      } else if (m.method === "Runtime.exceptionThrown") {
        const d = m.params?.exceptionDetails as ExceptionDetails;
        this.log.push(`uncaught: ${d.exception?.description ?? d.text}`);
      }
    });
  }

  /** Starts Chromium with a fresh profile (and WebGPU unless `webgpu` is false), attached to its page. */
  static async launch({ webgpu = true } = {}): Promise<Chromium> {
    const path = chromiumPath();
    if (!path) throw new Error(browserSkipReason()!);
    const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
    const child = new Deno.Command(path, {
      args: [
        ...FLAGS,
        ...(webgpu ? ["--enable-unsafe-webgpu"] : []),
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let socket: WebSocket, drained: Promise<void>;
    try {
      const started = await devToolsEndpoint(child.stderr);
      drained = started.drained;
      const targets: { type: string; webSocketDebuggerUrl: string }[] =
        await (await fetch(`http://${new URL(started.endpoint).host}/json/list`)).json();
      const page = targets.find((t) => t.type === "page");
      if (!page) throw new Error("Chromium started without a page");
      socket = new WebSocket(page.webSocketDebuggerUrl);
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = () => reject(new Error("cannot connect to Chromium's DevTools socket"));
      });
    } catch (e) {
      child.kill("SIGKILL");
      await child.status;
      await Deno.remove(profile, { recursive: true });
      throw e;
    }
    const browser = new Chromium(child, profile, socket, drained);
    await browser.send("Runtime.enable");
    await browser.send("Page.enable");
    await browser.send("DOM.enable"); // DOM.setFileInputFiles needs it
    return browser;
  }

  /** Sends one CDP command and returns its result (throws the protocol's error). */
  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      this.#pending.set(
        id,
        (m) =>
          m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result ?? {}),
      );
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Loads `url` and waits for its load event. */
  async goto(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const listener = (m: CdpMessage) => {
        if (m.method === "Page.loadEventFired") {
          this.#listeners.delete(listener);
          resolve();
        }
      };
      this.#listeners.add(listener);
    });
    const r = await this.send("Page.navigate", { url });
    if (r.errorText) throw new Error(`cannot load ${url}: ${r.errorText}`);
    await loaded;
  }

  /** Evaluates `expression` in the page, awaits it if it is a promise, and returns its JSON value. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    });
    const details = r.exceptionDetails as ExceptionDetails | undefined;
    if (details) {
      throw new Error(`in the page: ${details.exception?.description ?? details.text}`);
    }
    return (r.result as RemoteObject).value as T;
  }

  /** Closes the browser and removes its profile. */
  async close(): Promise<void> {
    await this.send("Browser.close").catch(() => this.#child.kill("SIGKILL"));
    this.#socket.close();
    await this.#child.status;
    await this.#stderrDrained;
    await Deno.remove(this.#profile, { recursive: true });
  }
}

const show = (o: RemoteObject): string =>
  o.value !== undefined ? String(o.value) : (o.description ?? o.type);

/**
 * Reads Chromium's stderr until it prints its DevTools address; `drained` then
 * reads (and drops) the rest of Chromium's own log until the process exits.
 */
async function devToolsEndpoint(
  stderr: ReadableStream<Uint8Array>,
): Promise<{ endpoint: string; drained: Promise<void> }> {
  const reader = (stderr as ReadableStream<BufferSource>).pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Chromium exited before DevTools started:\n${text}`);
    text += value;
    const match = text.match(/DevTools listening on (ws:\/\/\S+)/);
    if (match) {
      const drained = (async () => {
        while (!(await reader.read()).done) { /* nothing to keep */ }
      })();
      return { endpoint: match[1], drained };
    }
  }
}
