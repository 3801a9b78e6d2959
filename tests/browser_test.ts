/**
 * The page in a real browser: built by scripts/build_browser.ts into a temporary folder,
 * served from 127.0.0.1 by a plain static server, driven in headless Chromium
 * (WebGPU on its software adapter, SwiftShader).
 *
 * - The sprites' final floats match the generation core's on lavapipe for the same
 *   request (the sampling defaults: 100 ancestral steps, guidance 3; 2 sprites, seed 7):
 *   the noise comes from the same hash kernels, so only rounding differs between the
 *   adapters. Measured here: max |Δ| 1.9e-5, median 1.8e-7 (with 10 steps 4.2e-4: fewer,
 *   larger steps amplify rounding more). Before the noise's cosine was made exact
 *   (kernels/random.wgsl) the 10-step difference was 5.4e-2.
 * - Bad weights, dropped or opened, show exactly the CLI's `error: …` line for the same
 *   file name, and the page keeps its model and keeps drawing.
 * - A WebGPU error in the page (an invalid kernel) fails the next request by name.
 * - Without WebGPU the page says so and offers nothing to click; sent by `serve` (at /local/)
 *   it says so too and then draws on the server through its API: previews drawn, the final
 *   sprites equal to the server's PNG files. With WebGPU the served page runs the server's
 *   weights (tiny test weights here, which the class list and the status name).
 *
 * The first request compiles every pipeline on SwiftShader: about a minute here.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { SAMPLERS } from "../lib/diffusion/schedule.ts";
import { GENERATE_DEFAULTS } from "../lib/generate/defaults.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { Generator } from "../lib/generate/generator.ts";
import { decodePng } from "../lib/io/png.ts";
import { encodeSafetensors } from "../lib/io/safetensors.ts";
import { loadDefaultWeights } from "../lib/model/default_weights.ts";
import { buildBrowserPage } from "../scripts/build_browser.ts";
import { browserSkipReason, Chromium } from "./chromium.ts";
import { runMain, TINY_CLASSES, withTempDir, writeTinyWeights } from "./cli_helpers.ts";
import { spawnServe } from "./serve_helpers.ts";
import { serveFolder } from "./static_server.ts";

/** Largest |page − core| allowed per value: 10× the largest difference measured (see above). */
const TOLERANCE = 2e-4;

const REQUEST = { count: 2, guidance: 3, steps: 100, sampler: "ddpm" as const, seed: 7 };

const skip = browserSkipReason();
if (skip) console.warn(`browser_test: ${skip}`);

/** Polls `expression` in the page until it is truthy; fails after `seconds`. */
async function waitFor(browser: Chromium, expression: string, seconds = 600): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  while (!(await browser.evaluate<boolean>(`!!(${expression})`))) {
    if (performance.now() > deadline) {
      throw new Error(`timed out waiting for ${expression}; page log:\n${browser.log.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const state = (b: Chromium) => b.evaluate<string>("document.body.dataset.state");
const status = (b: Chromium) => b.evaluate<string>("document.getElementById('status').textContent");

/** Fills the form and presses Generate; resolves when the page is idle again. */
async function generateInPage(
  b: Chromium,
  r: { count: number; guidance: number; steps: number; sampler: string; seed: number },
): Promise<void> {
  await b.evaluate(`(() => {
    pixelDiffusion.last = null;
    const set = (id, v) => document.getElementById(id).value = String(v);
    set("class", "");
    set("count", ${r.count});
    set("guidance", ${r.guidance});
    set("steps", ${r.steps});
    set("sampler", "${r.sampler}");
    set("seed", ${r.seed});
    document.getElementById("generate").click();
  })()`);
  await waitFor(b, `document.body.dataset.state === "ready"`);
}

/** The CLI's one stderr line for `--weights name` (run where the file is). */
async function cliWeightsError(dir: string, name: string): Promise<string> {
  const r = await runMain(["sample", "--weights", name, "--no-preview"], {}, dir);
  ok(r.code === 1, `the CLI accepted ${name}: ${r.stdout}`);
  return r.stderr.trim();
}

Deno.test({
  name:
    "browser: the page in Chromium draws the core's sprites, refuses bad weights as the CLI does",
  ignore: skip !== null,
  async fn(t) {
    await withTempDir("browser-test-", async (dir) => {
      const site = join(dir, "site");
      await buildBrowserPage(site);
      const { url, server } = serveFolder(site);
      const browser = await Chromium.launch();
      try {
        await browser.goto(url);
        await waitFor(browser, `document.body.dataset.state === "ready"`);
        deepStrictEqual(
          await status(browser),
          "Ready: default.safetensors (8 classes, 4 channels, base 32).",
        );

        await t.step("same floats as the generation core for the same request", async () => {
          await generateInPage(browser, REQUEST);
          ok(
            await browser.evaluate<boolean>("pixelDiffusion.last !== null"),
            `no result: ${await status(browser)}`,
          );
          const page = await browser.evaluate<number[]>("Array.from(pixelDiffusion.last.raw)");
          const generator = Generator.fromWeights(await getGpu(), loadDefaultWeights());
          const core = await generator.generate({
            classes: [0, 1],
            guidance: REQUEST.guidance,
            steps: REQUEST.steps,
            sampler: REQUEST.sampler,
            eta: 0,
            seed: REQUEST.seed,
          }).finally(() => generator.destroy());
          deepStrictEqual(page.length, core.raw.length);
          const maxDiff = page.reduce((m, v, i) => Math.max(m, Math.abs(v - core.raw[i])), 0);
          console.log(`page vs core: max |Δ| = ${maxDiff.toExponential(2)} over ${page.length}`);
          ok(maxDiff <= TOLERANCE, `max |Δ| ${maxDiff} > ${TOLERANCE}`);
          // Different draws would differ by ~1: make sure the sprites are not blank.
          ok(page.some((v) => Math.abs(v) > 0.5), "the sprites are blank");
          const links = await browser.evaluate<string[]>(
            "[...document.querySelectorAll('#downloads a')].map((a) => a.download)",
          );
          deepStrictEqual(links, ["sheet-s7.png", "people-s7-0.png", "monsters-s7-1.png"]);
        });

        await t.step("bad weights: the CLI's error text, and the page keeps working", async () => {
          const garbage = new TextEncoder().encode("not a safetensors file at all");
          await Deno.writeFile(join(dir, "broken.safetensors"), garbage);
          const notUnet = encodeSafetensors([{
            name: "w",
            dtype: "F32",
            shape: [1],
            data: Float32Array.of(1),
          }], {});
          await Deno.writeFile(join(dir, "other.safetensors"), notUnet);

          // Dropped on the page.
          await browser.evaluate(`(() => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(${JSON.stringify([...garbage])})],
              "broken.safetensors"));
            document.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true,
              cancelable: true }));
          })()`);
          await waitFor(browser, `document.getElementById("status").className === "error"`, 60);
          deepStrictEqual(await status(browser), await cliWeightsError(dir, "broken.safetensors"));

          // Opened with the file button.
          const { result } = await browser.send("Runtime.evaluate", {
            expression: `document.getElementById("weights-file")`,
          }) as { result: { objectId: string } };
          await browser.send("DOM.setFileInputFiles", {
            objectId: result.objectId,
            files: [join(dir, "other.safetensors")],
          });
          await waitFor(
            browser,
            `document.getElementById("status").textContent.includes("other")`,
            60,
          );
          deepStrictEqual(await status(browser), await cliWeightsError(dir, "other.safetensors"));

          deepStrictEqual(await state(browser), "ready");
          deepStrictEqual(
            await browser.evaluate("document.getElementById('weights-name').textContent"),
            "default.safetensors",
          );
          await generateInPage(browser, { ...REQUEST, count: 1, steps: 2 });
          ok(
            await browser.evaluate<boolean>("pixelDiffusion.last?.raw.length === 1024"),
            `no sprite after the bad weights: ${await status(browser)}`,
          );
        });

        await t.step("an invalid kernel fails the next request, by name", async () => {
          const thrown = await browser.evaluate<string>(`(async () => {
            const gpu = pixelDiffusion.gpu;
            const bad = { name: "bad_test", code: "@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }" };
            gpu.kernels.get(bad, "main", { N: 1 });
            try { await gpu.verify(); return "no error"; } catch (e) { return String(e); }
          })()`);
          ok(
            /^Error: WebGPU error: kernel bad_test:main \{const N = 1;\}: \S/.test(thrown),
            thrown,
          );
          await generateInPage(browser, { ...REQUEST, count: 1, steps: 1 });
          const text = await status(browser);
          ok(text.startsWith("error: WebGPU error: kernel bad_test:main"), text);
        });
      } finally {
        await browser.close();
        await server.shutdown();
      }
    });
  },
});

Deno.test({
  name: "browser: without WebGPU the page says so plainly",
  ignore: skip !== null,
  async fn() {
    await withTempDir("browser-test-", async (dir) => {
      await buildBrowserPage(join(dir, "site"));
      const { url, server } = serveFolder(join(dir, "site"));
      const browser = await Chromium.launch({ webgpu: false });
      try {
        await browser.goto(url);
        await waitFor(browser, `document.body.dataset.state !== "loading"`, 60);
        deepStrictEqual(await state(browser), "no-webgpu");
        const notice = await browser.evaluate<string>(
          "document.getElementById('no-webgpu').hidden ? '' : " +
            "document.getElementById('no-webgpu').textContent",
        );
        ok(/cannot draw sprites|has no WebGPU/.test(notice), notice);
        ok(!/server/.test(notice), `a static host has no server to fall back on: ${notice}`);
        ok(await browser.evaluate<boolean>("document.getElementById('generate').disabled"));
        deepStrictEqual(await browser.evaluate("document.body.dataset.backend ?? null"), null);
        // Every sampler the core has is offered, its default chosen (it is set before WebGPU).
        deepStrictEqual(
          await browser.evaluate(
            "[...document.getElementById('sampler').options].map((o) => o.value)",
          ),
          [...SAMPLERS],
        );
        deepStrictEqual(
          await browser.evaluate("document.getElementById('sampler').value"),
          GENERATE_DEFAULTS.sampler,
        );
      } finally {
        await browser.close();
        await server.shutdown();
      }
    });
  },
});

Deno.test({
  name: "browser: serve offers the page at /local/, and without WebGPU it draws on the server",
  ignore: skip !== null,
  async fn(t) {
    await withTempDir("browser-test-", async (dir) => {
      const weightsPath = join(dir, "tiny.safetensors");
      await writeTinyWeights(weightsPath);
      const serve = await spawnServe(["--weights", weightsPath]);
      const page = new URL("local/", serve.url).href;
      try {
        await t.step("with WebGPU: the server's weights on the visitor's GPU", async () => {
          const served = new Uint8Array(
            await (await fetch(new URL("default.safetensors", page))).arrayBuffer(),
          );
          const file = await Deno.readFile(weightsPath);
          ok(
            served.length === file.length && served.every((b, i) => b === file[i]),
            `/local/default.safetensors (${served.length} bytes) is not the server's weights ` +
              `file (${file.length} bytes)`,
          );
          const browser = await Chromium.launch();
          try {
            await browser.goto(page);
            await waitFor(browser, `document.body.dataset.state === "ready"`, 120);
            deepStrictEqual(await browser.evaluate("document.body.dataset.backend"), "gpu");
            deepStrictEqual(
              await status(browser),
              `Ready: ${weightsPath} (3 classes, 4 channels, base 8).`,
            );
            ok(await browser.evaluate<boolean>("document.getElementById('no-webgpu').hidden"));
          } finally {
            await browser.close();
          }
        });

        await t.step("without WebGPU: says so, then draws through the server's API", async () => {
          const browser = await Chromium.launch({ webgpu: false });
          try {
            await browser.goto(page);
            await waitFor(browser, `document.body.dataset.state !== "loading"`, 60);
            deepStrictEqual(await state(browser), "ready", await status(browser));
            deepStrictEqual(await browser.evaluate("document.body.dataset.backend"), "server");
            const notice = await browser.evaluate<string>(
              "document.getElementById('no-webgpu').textContent",
            );
            ok(
              /^This browser has (no WebGPU|WebGPU but offers no adapter).*, so the sprites are drawn by the server that sent this page \(on its .+\), not on your GPU\.$/
                .test(notice),
              notice,
            );
            const tagline = await browser.evaluate<string>(
              "document.querySelector('header p').textContent",
            );
            ok(/drawn by this page's server/.test(tagline), tagline);
            deepStrictEqual(
              await browser.evaluate(
                "[...document.getElementById('class').options].map((o) => o.text)",
              ),
              ["every class in turn", ...TINY_CLASSES],
            );
            // Every status line, to see the previews arrive.
            await browser.evaluate(`(() => {
              const status = document.getElementById("status");
              window.statusLog = [];
              new MutationObserver(() => statusLog.push(status.textContent))
                .observe(status, { childList: true, characterData: true, subtree: true });
            })()`);
            await generateInPage(browser, { ...REQUEST, steps: 4 });
            const text = await status(browser);
            ok(text.startsWith("2 sprites (ddpm, 4 steps, guidance 3, seed 7) in "), text);
            ok(/ in \d+\.\d s on the server's \S.*\.$/.test(text), text);
            const previews = await browser.evaluate<string[]>(
              "statusLog.filter((s) => s.startsWith('Step '))",
            );
            ok(previews.length >= 2, `previews drawn: ${JSON.stringify(previews)}`);

            const links = await browser.evaluate<{ name: string; href: string }[]>(
              "[...document.querySelectorAll('#downloads a')].map((a) => ({ name: a.download, href: a.href }))",
            );
            deepStrictEqual(links.map((l) => l.name), [
              "sheet-s7.png",
              `${TINY_CLASSES[0]}-s7-0.png`,
              `${TINY_CLASSES[1]}-s7-1.png`,
            ]);
            // The page's final sprites are the server's files, decoded here by another decoder.
            const drawn = await browser.evaluate<number[][]>(
              "pixelDiffusion.served.images.map((i) => Array.from(i.data))",
            );
            for (const [i, link] of links.slice(1).entries()) {
              ok(link.href.startsWith(new URL("/api/jobs/", serve.url).href), link.href);
              const png = new Uint8Array(await (await fetch(link.href)).arrayBuffer());
              const image = await decodePng(png, link.name);
              deepStrictEqual(drawn[i], Array.from(image.data), `${link.name} differs`);
            }

            // Cancel reaches the server, and the page is ready again.
            await browser.evaluate(`(() => {
              document.getElementById("steps").value = "1000";
              document.getElementById("generate").click();
            })()`);
            await waitFor(
              browser,
              `document.getElementById("status").textContent.startsWith("Step")`,
              120,
            );
            await browser.evaluate(`document.getElementById("cancel").click()`);
            await waitFor(browser, `document.body.dataset.state === "ready"`, 60);
            deepStrictEqual(await status(browser), "Cancelled.");
          } finally {
            await browser.close();
          }
        });
      } finally {
        const stopped = await serve.stop();
        ok(stopped.success, serve.stderr());
      }
    });
  },
});
