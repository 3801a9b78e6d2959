/**
 * Builds the page into a folder any static server can serve (or `serve` offers):
 *
 *   deno run -A scripts/build_browser.ts [--out dist/browser]        (deno task browser)
 *
 * The folder: index.html and style.css from web/browser/, app.js (lib/browser/app.ts bundled with
 * `deno bundle --platform browser`: the generation core, kernels inlined) and the
 * shipped weights as default.safetensors. It is build output (git-ignored), replaced
 * whole on each build.
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ASSETS = ["web/browser/index.html", "web/browser/style.css"];
const WEIGHTS = "weights/default.safetensors";

/** Builds the page into `out`; throws with deno bundle's output if bundling fails. */
export async function buildBrowserPage(out: string): Promise<void> {
  const staging = `${out}.building`;
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  await Deno.mkdir(staging, { recursive: true });
  const bundle = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--minify",
      "--sourcemap",
      "linked",
      "-o",
      join(staging, "app.js"),
      join(ROOT, "lib/browser/app.ts"),
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!bundle.success) {
    await Deno.remove(staging, { recursive: true });
    throw new Error(`deno bundle failed:\n${new TextDecoder().decode(bundle.stderr)}`);
  }
  for (const asset of ASSETS) {
    await Deno.copyFile(join(ROOT, asset), join(staging, asset.replace(/^web\/browser\//, "")));
  }
  await Deno.copyFile(join(ROOT, WEIGHTS), join(staging, "default.safetensors"));
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.rename(staging, out);
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
  const out = values.out ?? join(ROOT, "dist/browser");
  await buildBrowserPage(out);
  console.log(
    `built ${out}: open it through any static web server (WebGPU needs http(s) or localhost)`,
  );
}
