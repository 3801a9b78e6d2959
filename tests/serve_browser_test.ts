/// <reference lib="dom" />
/**
 * The serve page in real headless Chromium against a real server (tiny
 * untrained weights): choose a class, generate from the keyboard, watch at
 * least two previews arrive, find the sprites in the gallery, download one and
 * compare its bytes with the API's; cancel; labels, tab order, and a phone-width
 * window without sideways scrolling. Screenshots go to a temporary folder here;
 * scripts/serve_screenshots.ts takes the README's with the same steps.
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { decodePng, encodePng } from "../lib/io/png.ts";
import { withTempDir, writeTinyWeights } from "./cli_helpers.ts";
import { ApiClient, spawnServe } from "./serve_helpers.ts";
import {
  fillForm,
  generate,
  launchBrowser,
  openApp,
  openDetails,
  PHONE,
  recordStatus,
  statusSeen,
  waitForGallery,
  waitForStep,
  WIDE,
} from "./serve_page.ts";

/** Every control of the form, in the order Tab reaches them (More options opened). */
const CONTROLS = [
  "class",
  "tile",
  "guidance",
  "steps",
  "sampler",
  "seed",
  "randomise",
  "n",
  "scale",
  "preview-every",
  "threshold",
  "interval-lo",
  "interval-hi",
  "strength",
  "soft-alpha",
  "generate",
];

async function waitForFile(dir: string, timeoutMs = 30_000): Promise<string> {
  const started = performance.now();
  for (;;) {
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    const done = names.filter((n) => !n.endsWith(".crdownload"));
    if (done.length && done.length === names.length) return done[0];
    ok(performance.now() - started < timeoutMs, `no download in ${dir}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("serve page: generate with live previews, gallery, download, cancel, phone width", async (t) => {
  await withTempDir("serve-browser-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const server = await spawnServe(["--weights", weights]);
    const api = new ApiClient(server.url);
    const session = await launchBrowser();
    try {
      const { page, errors } = await openApp(session.browser, server.url, WIDE);

      await t.step("every control is labelled and reachable with Tab", async () => {
        const unlabelled = await page.$$eval(
          "#controls input, #controls select",
          (els) =>
            els.filter((el) => {
              const labels = (el as HTMLInputElement).labels;
              return !(labels && labels.length > 0 && labels[0].textContent!.trim());
            }).map((el) => el.id),
        );
        deepStrictEqual(unlabelled, []);
        await openDetails(page, "more-options");
        await page.focus("#class");
        const reached = ["class"];
        for (let i = 0; i < 20 && reached.at(-1) !== "generate"; i++) {
          await page.keyboard.press("Tab");
          const id = await page.evaluate(() => document.activeElement?.id || "");
          if (id && CONTROLS.includes(id)) reached.push(id);
        }
        deepStrictEqual(reached, CONTROLS);
      });

      let download = "";
      await t.step("generate: previews drawn as they arrive, then the gallery", async () => {
        await fillForm(page, { className: "sword", steps: 60, previewEvery: 10, n: 3, seed: 9 });
        await recordStatus(page);
        await generate(page);
        await waitForStep(page, 10);
        const shot = await page.screenshot({ path: join(dir, "generating.png") });
        const image = await decodePng(shot, "screenshot");
        deepStrictEqual([image.width, image.height], [WIDE.width, WIDE.height]);
        await waitForGallery(page, 1);
        const steps = (await statusSeen(page)).flatMap((s) =>
          /^step (\d+) \/ 60$/.exec(s)?.[1] ?? []
        );
        const previews = new Set(steps.filter((s) => s !== "0"));
        ok(previews.size >= 2, `previews seen: ${[...previews]}`);
        ok((await statusSeen(page)).at(-1)!.startsWith("done in"));
        const canvases = await page.$$eval(
          "#previews canvas",
          (cs) => cs.map((c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]),
        );
        deepStrictEqual(canvases, [[16, 16], [16, 16], [16, 16]]);
        // The live preview really drew pixels (an untouched canvas is all transparent zeros).
        const drawn = await page.$eval("#previews canvas", (c) => {
          const data = (c as HTMLCanvasElement).getContext("2d")!.getImageData(0, 0, 16, 16).data;
          return data.some((v) => v !== 0);
        });
        ok(drawn, "the preview canvas is empty");
        const alts = await page.$$eval(
          "#gallery li img",
          (imgs) => imgs.map((i) => (i as HTMLImageElement).alt),
        );
        deepStrictEqual(alts, [1, 2, 3].map((i) => `sword sprite ${i}, seed 9`));
        const command = await page.$eval("#gallery li code", (c) => c.textContent);
        ok(command!.includes("--class sword --n 3 --seed 9"), command!);
        await page.screenshot({ path: join(dir, "gallery.png"), fullPage: true });

        await page.click("#gallery li figcaption a"); // sprite 1's native PNG
        download = await waitForFile(session.downloads);
        equal(download, "sword-s9-0.png");
        const href = await page.$eval(
          "#gallery li figcaption a",
          (a) => (a as HTMLAnchorElement).href,
        );
        const fromApi = await api.bytes(href);
        deepStrictEqual(await Deno.readFile(join(session.downloads, download)), fromApi);
        const png = await decodePng(fromApi, download);
        deepStrictEqual([png.width, png.height], [16, 16]);
      });

      await t.step("Variations draws from a gallery sprite", async () => {
        await page.click("#gallery li figure button"); // sprite 1's variations
        await waitForGallery(page, 2);
        const command = await page.$eval("#gallery li code", (c) => c.textContent!);
        ok(command.includes("--class sword --init sword-s9-0.png --strength 0.6 --n 3"), command);
        ok(!command.includes("--seed 9 "), `a variation gets a new seed: ${command}`);
      });

      await t.step(
        "the mix slider and the tile toggle: a mixed, tiled sprite and its 3×3",
        async () => {
          await fillForm(page, { className: "sword", steps: 10, previewEvery: 2, n: 2, seed: 3 });
          await page.select("#mix-class", "2"); // potion
          // The share slider from the keyboard: 50 % down four steps of 5.
          await page.focus("#mix-weight");
          for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowLeft");
          equal(await page.$eval("#mix-weight-value", (o) => o.textContent), "30");
          await page.select("#tile", "xy");
          await recordStatus(page);
          await generate(page);
          await waitForGallery(page, 3);
          const steps = (await statusSeen(page)).filter((s) => /^step [1-9]\d* \/ 10$/.test(s));
          ok(new Set(steps).size >= 2, `previews seen: ${steps}`);
          const { command, tiles, meta } = await page.$eval("#gallery li", (li) => ({
            command: li.querySelector("code")!.textContent!,
            tiles: [...li.querySelectorAll<HTMLImageElement>("img.tile3x3")].map((i) =>
              i.naturalWidth
            ),
            meta: li.querySelector(".meta")!.textContent!,
          }));
          ok(command.includes("--class sword:70,potion:30 --tile xy --n 2"), command);
          // Two 3×3 repeats of the 16-px sprite at the ×16 upscale.
          deepStrictEqual(tiles, [3 * 16 * 16, 3 * 16 * 16]);
          ok(meta.startsWith("sword:0.7 + potion:0.3 · seed 3"), meta);
          ok(meta.includes("tiles xy"), meta);
          await page.select("#mix-class", "");
          await page.select("#tile", "");
        },
      );

      await t.step(
        "an uploaded init PNG: a variation of it, then Variations of the result",
        async () => {
          // A sprite the visitor drew: a red square on transparency.
          const data = new Uint8Array(16 * 16 * 4);
          for (let y = 4; y < 12; y++) {
            for (let x = 4; x < 12; x++) data.set([220, 40, 40, 255], 4 * (16 * y + x));
          }
          const initPath = join(dir, "my-sprite.png");
          await Deno.writeFile(initPath, await encodePng({ width: 16, height: 16, data }));
          await openDetails(page, "init-options");
          const input = await page.$("#init-file");
          await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(
            initPath,
          );
          await page.waitForFunction(() => {
            const img = document.querySelector<HTMLImageElement>("#init-preview")!;
            return !document.querySelector<HTMLElement>("#uploads")!.hidden &&
              img.naturalWidth === 16;
          });
          ok(!await page.$eval("#mask-file", (i) => (i as HTMLInputElement).disabled));
          await fillForm(page, { className: "potion", steps: 10, previewEvery: 2, n: 2, seed: 6 });
          await generate(page);
          await waitForGallery(page, 4);
          const [command, note] = await page.$eval("#gallery li", (li) => [
            li.querySelector("code")!.textContent!,
            li.querySelector(".upload-note")?.textContent ?? "",
          ]);
          ok(
            command.includes("--class potion --init init.png --strength 0.6 --n 2 --seed 6"),
            command,
          );
          ok(note.includes("save it under that name"), note);
          // Variations of the first result: from that sprite, not from the upload.
          await page.click("#gallery li figure button");
          await waitForGallery(page, 5);
          const again = await page.$eval("#gallery li code", (c) => c.textContent!);
          ok(again.includes("--class potion --init potion-s6-0.png --strength 0.6 --n 2"), again);
          await page.click("#clear-uploads");
          ok(await page.$eval("#uploads", (u) => (u as HTMLElement).hidden));
        },
      );

      await t.step("the palette controls reach the API and the command line", async () => {
        await fillForm(page, { steps: 10, previewEvery: 5, n: 2, seed: 4 });
        await openDetails(page, "palette-options");
        await page.select("#palette", "auto");
        await page.click("#auto-colors", { count: 3 });
        await page.keyboard.press("Backspace");
        await page.type("#auto-colors", "4");
        await page.select("#palette-scope", "batch");
        await page.select("#dither", "bayer4");
        await page.select("#outline", "auto");
        await page.click("#despeckle");
        ok(await page.$eval("#soft-alpha", (c) => (c as HTMLInputElement).disabled));
        await generate(page);
        await waitForGallery(page, 6);
        const [command, links] = await page.$eval("#gallery li", (li) => [
          li.querySelector("code")!.textContent!,
          [...li.querySelectorAll(".downloads a")].map((a) => a.textContent),
        ]);
        ok(
          (command as string).endsWith(
            "--palette auto:4 --palette-scope batch --dither bayer4 --outline auto --despeckle --gif",
          ),
          command as string,
        );
        deepStrictEqual(links, [
          "Palette .gpl",
          "Palette .hex",
          "Sheet PNG",
          "Sheet JSON",
          "Fade-in GIF",
        ]);
        await page.select("#palette", ""); // back to the model's colours for what follows
        await page.select("#outline", "");
        // Despeckle needs a palette: without one it is off and disabled.
        deepStrictEqual(
          await page.$eval("#despeckle", (c) => {
            const box = c as HTMLInputElement;
            return [box.disabled, box.checked];
          }),
          [true, false],
        );
      });

      await t.step("cancel stops a generation; the gallery keeps what it had", async () => {
        await fillForm(page, { steps: 1000, previewEvery: 10, n: 1, seed: 1 });
        await generate(page);
        await waitForStep(page, 10);
        await page.click("#cancel");
        await page.waitForFunction(() =>
          document.querySelector("#status")!.textContent === "cancelled"
        );
        equal(await page.$$eval("#gallery > li", (li) => li.length), 6);
        ok(await page.$eval("#generate", (b) => !(b as HTMLButtonElement).disabled));
        deepStrictEqual(errors, []);
      });

      await t.step("a refused request points at the field", async () => {
        await fillForm(page, { steps: 1000, previewEvery: 1, n: 1, seed: 1 });
        await generate(page);
        await page.waitForFunction(() =>
          !document.querySelector<HTMLElement>("#form-error")!.hidden
        );
        const [message, invalid] = await page.evaluate(() => [
          document.querySelector("#form-error")!.textContent,
          document.activeElement?.getAttribute("aria-invalid") === "true"
            ? document.activeElement.id
            : "",
        ]);
        ok(message!.startsWith("previewEvery must be 0 or an integer in 10…1000"), message!);
        equal(invalid, "preview-every");
        // The 400 itself is the one error the browser reports.
        deepStrictEqual(errors.splice(0), [
          "Failed to load resource: the server responded with a status of 400 (Bad Request)",
        ]);
      });

      await t.step("phone width: one column, no sideways scrolling", async () => {
        await page.setViewport(PHONE);
        const [scrollWidth, innerWidth] = await page.evaluate(() => [
          document.documentElement.scrollWidth,
          globalThis.innerWidth,
        ]);
        ok(
          scrollWidth <= innerWidth,
          `page is ${scrollWidth} px wide in a ${innerWidth} px window`,
        );
        await page.screenshot({ path: join(dir, "phone.png"), fullPage: true });
      });
      deepStrictEqual(errors, []);
    } finally {
      await session.close();
      equal((await server.stop("SIGINT")).code, 0, server.stderr());
    }
  });
});
