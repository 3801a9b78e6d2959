/**
 * Builds the page into a folder any static server can serve:
 *
 *   deno run -A scripts/build_browser.ts [--out dist/browser]        (deno task browser)
 *   deno run -A scripts/build_browser.ts --embed                     (deno task browser:embed)
 *
 * The folder: index.html and style.css from web/browser/, app.js (lib/browser/app.ts bundled with
 * `deno bundle --platform browser`: the generation core, kernels inlined) and the
 * shipped weights as default.safetensors. It is build output (git-ignored), replaced
 * whole on each build.
 *
 * `--embed` writes the same bundle (without a source map) to web/browser/app.js, which is
 * committed: `serve` embeds it (lib/serve/local_page.ts) so that a compiled binary offers the
 * page with no build step at run time. tests/embedded_bundle_test.ts fails when it is stale.
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ASSETS = ["web/browser/index.html", "web/browser/style.css"];
const WEIGHTS = "weights/default.safetensors";
/** The committed bundle that `serve` embeds. */
export const EMBEDDED_BUNDLE = join(ROOT, "web/browser/app.js");

/**
 * Bundles lib/browser/app.ts into `file` (with a linked `file.map` when `sourcemap`); throws
 * with deno bundle's output if bundling fails. The output is the same bytes on every run
 * (checked: no paths or times in it), which the staleness test relies on.
 */
export async function bundleApp(file: string, { sourcemap }: { sourcemap: boolean }) {
  const bundle = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--minify",
      ...(sourcemap ? ["--sourcemap", "linked"] : []),
      "-o",
      file,
      join(ROOT, "lib/browser/app.ts"),
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!bundle.success) {
    throw new Error(`deno bundle failed:\n${new TextDecoder().decode(bundle.stderr)}`);
  }
}

/** Builds the page into `out`; throws with deno bundle's output if bundling fails. */
export async function buildBrowserPage(out: string): Promise<void> {
  const staging = `${out}.building`;
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  await Deno.mkdir(staging, { recursive: true });
  try {
    await bundleApp(join(staging, "app.js"), { sourcemap: true });
  } catch (err) {
    await Deno.remove(staging, { recursive: true });
    throw err;
  }
  for (const asset of ASSETS) {
    await Deno.copyFile(join(ROOT, asset), join(staging, asset.replace(/^web\/browser\//, "")));
  }
  await Deno.copyFile(join(ROOT, WEIGHTS), join(staging, "default.safetensors"));
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.rename(staging, out);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string" }, embed: { type: "boolean" } },
  });
  if (values.embed) {
    await bundleApp(EMBEDDED_BUNDLE, { sourcemap: false });
    console.log(`wrote ${EMBEDDED_BUNDLE} (commit it: serve embeds it)`);
  } else {
    const out = values.out ?? join(ROOT, "dist/browser");
    await buildBrowserPage(out);
    console.log(
      `built ${out}: open it through any static web server (WebGPU needs http(s) or localhost)`,
    );
  }
}
