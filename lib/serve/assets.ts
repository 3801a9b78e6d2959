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

/** A file served from memory: its body and the headers every embedded file gets. */
export interface EmbeddedAsset {
  body: string | Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
}

/** `body` as `contentType` (charset included where it applies), never cached stale or sniffed. */
export const embeddedAsset = (
  body: EmbeddedAsset["body"],
  contentType: string,
): EmbeddedAsset => ({
  body,
  headers: {
    "content-type": contentType,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "content-security-policy": CONTENT_SECURITY_POLICY,
  },
});

/** A fresh response with the asset (a Response's body can be read once). */
export const assetResponse = (asset: EmbeddedAsset): Response =>
  new Response(asset.body, { headers: asset.headers });

/** Path → body and headers. */
export const PAGE_ASSETS: Readonly<Record<string, EmbeddedAsset>> = {
  "/": embeddedAsset(html, "text/html; charset=utf-8"),
  "/app.js": embeddedAsset(script, "text/javascript; charset=utf-8"),
  "/app.css": embeddedAsset(style, "text/css; charset=utf-8"),
};
