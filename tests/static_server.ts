/**
 * A static file server on 127.0.0.1: the built page served as any web server would
 * (GET only, content types by extension), for the browser tests and scripts/bench_browser.ts.
 */

import { extname, join, normalize } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json",
  ".safetensors": "application/octet-stream",
};

/** Serves `root` on a free port; `url` is its address. */
export function serveFolder(root: string): { url: string; server: Deno.HttpServer } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(normalize(root)) || req.method !== "GET") {
      return new Response("not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(file);
      const type = TYPES[extname(file)] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { url: `http://127.0.0.1:${server.addr.port}/`, server };
}
