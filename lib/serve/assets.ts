/**
 * The page's files, embedded in the program (`deno compile` carries them): the
 * server answers these three paths from memory and reads nothing from disk.
 */

import html from "../../web/app/index.html" with { type: "text" };
import script from "../../web/app/app.js" with { type: "text" };
import style from "../../web/app/app.css" with { type: "text" };

/** Everything the page loads comes from this server: no CDN, no inline script or style. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const asset = (body: string, type: string) => ({
  body,
  headers: {
    "content-type": `${type}; charset=utf-8`,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "content-security-policy": CONTENT_SECURITY_POLICY,
  },
});

/** Path → body and headers. */
export const PAGE_ASSETS: Readonly<
  Record<string, { body: string; headers: Record<string, string> }>
> = {
  "/": asset(html, "text/html"),
  "/app.js": asset(script, "text/javascript"),
  "/app.css": asset(style, "text/css"),
};
