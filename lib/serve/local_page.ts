/**
 * The static page (web/browser/, README "In the browser") as `serve` offers it at /local/: the
 * visitor's GPU draws the sprites, with the weights this server was started with. Embedded like
 * the serve page, the bundle included (web/browser/app.js, committed and written by
 * `deno task browser:embed`), so a compiled binary needs no build step. The HTML gains one
 * `<meta name="pixel-diffusion-api">`: it tells the page that this server's API is there to fall
 * back on when the browser has no WebGPU (on a plain static host there is none).
 */

import html from "../../web/browser/index.html" with { type: "text" };
import style from "../../web/browser/style.css" with { type: "text" };
import script from "../../web/browser/app.js" with { type: "text" };
import { assetResponse, type EmbeddedAsset, embeddedAsset } from "./assets.ts";

/** Where the page is; it loads its files relative to this. */
export const LOCAL_PAGE_PATH = "/local/";

/** The API the page may fall back on, as the meta tag gives it. */
const API_META = `<meta name="pixel-diffusion-api" content="/api/">`;

/** The page's HTML with the API's meta tag, after the charset (an edit that moved it fails here). */
function servedHtml(): string {
  const charset = `<meta charset="utf-8">`;
  if (!html.includes(charset)) {
    throw new Error(`web/browser/index.html has no ${charset} to put the API's tag after`);
  }
  return html.replace(charset, `${charset}\n    ${API_META}`);
}

/**
 * Path → response under /local/: the page, its bundle, and `weights` (the bytes of the server's
 * weights file) as default.safetensors, the name the page fetches; /local redirects to /local/,
 * where the page's relative URLs resolve.
 */
export function localPageResponses(
  weights: Uint8Array<ArrayBuffer>,
): Record<string, () => Response> {
  const p = LOCAL_PAGE_PATH;
  const assets: Record<string, EmbeddedAsset> = {
    [p]: embeddedAsset(servedHtml(), "text/html; charset=utf-8"),
    [`${p}style.css`]: embeddedAsset(style, "text/css; charset=utf-8"),
    [`${p}app.js`]: embeddedAsset(script, "text/javascript; charset=utf-8"),
    [`${p}default.safetensors`]: embeddedAsset(weights, "application/octet-stream"),
  };
  return {
    ...Object.fromEntries(
      Object.entries(assets).map(([path, asset]) => [path, () => assetResponse(asset)]),
    ),
    [p.slice(0, -1)]: () => new Response(null, { status: 301, headers: { location: p } }),
  };
}
