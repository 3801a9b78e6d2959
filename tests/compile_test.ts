/**
 * `deno task compile` builds a binary that samples with no source tree around.
 * `deno compile` fetches its runtime (denort) from a host these machines cannot
 * reach, so the test runs only where DENORT_BIN points to a local runtime.
 */

import { ok } from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "./cli_helpers.ts";

const DENORT = Deno.env.get("DENORT_BIN");

Deno.test({
  name: "compile: the binary embeds kernels, weights and data, and samples from an empty folder",
  ignore: !DENORT,
  async fn() {
    await withTempDir("compile-", async (dir) => {
      const binary = join(dir, "pixel-diffusion");
      const root = new URL("..", import.meta.url).pathname;
      const build = await new Deno.Command(Deno.execPath(), {
        args: [
          "compile",
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-net",
          "-o",
          binary,
          "main.ts",
        ],
        cwd: root,
        env: { DENORT_BIN: DENORT! },
      }).output();
      ok(build.success, new TextDecoder().decode(build.stderr));
      const work = join(dir, "work"); // no source files here
      await Deno.mkdir(work);
      const run = await new Deno.Command(binary, {
        args: ["sample", "--no-preview", "--steps", "2", "--n", "2", "--out", "out"],
        cwd: work,
      }).output();
      ok(run.success, new TextDecoder().decode(run.stderr));
      const files = [...Deno.readDirSync(join(work, "out"))].map((e) => e.name);
      ok(files.filter((f) => f.endsWith(".png")).length === 5, `files: ${files}`);
    });
  },
});
