/**
 * `serve` embeds the static page's bundle from web/browser/app.js, which is committed (a compiled
 * binary has no build step). This fails when that file is not what `deno task browser:embed`
 * writes from the current lib/: the bundle is rebuilt into a temporary folder and compared byte
 * for byte (`deno bundle` writes the same bytes on every run, from any checkout path).
 */

import { ok } from "node:assert/strict";
import { join } from "node:path";
import { bundleApp, EMBEDDED_BUNDLE } from "../scripts/build_browser.ts";
import { withTempDir } from "./cli_helpers.ts";

Deno.test("browser: the committed bundle that serve embeds is up to date", async () => {
  await withTempDir("embedded-bundle-", async (dir) => {
    const fresh = join(dir, "app.js");
    await bundleApp(fresh, { sourcemap: false });
    const [built, committed] = await Promise.all([
      Deno.readFile(fresh),
      Deno.readFile(EMBEDDED_BUNDLE),
    ]);
    const same = built.length === committed.length && built.every((b, i) => b === committed[i]);
    ok(
      same,
      `web/browser/app.js is stale (${committed.length} bytes; a fresh bundle has ` +
        `${built.length}): run 'deno task browser:embed' and commit it`,
    );
  });
});
