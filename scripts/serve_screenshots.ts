/**
 * The README's pictures of the serve page, taken by the browser test's own steps
 * (tests/serve_page.ts) in headless Chromium against `main.ts serve` with the
 * shipped weights: mid-generation, the finished gallery (with a class mix drawn as seamless
 * tiles), and a phone-width window.
 *
 *   deno run -A scripts/serve_screenshots.ts [--out docs]
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { spawnServe } from "../tests/serve_helpers.ts";
import {
  fillForm,
  generate,
  launchBrowser,
  openApp,
  PHONE,
  waitForGallery,
  waitForStep,
  WIDE,
} from "../tests/serve_page.ts";

const { values } = parseArgs({ options: { out: { type: "string", default: "docs" } } });
const out = values.out!;
await Deno.mkdir(out, { recursive: true });

const server = await spawnServe([]);
const session = await launchBrowser();
try {
  const { page, errors } = await openApp(session.browser, server.url, WIDE);
  await fillForm(page, { className: null, steps: 10, previewEvery: 1, n: 8, seed: 1 });
  await generate(page);
  await waitForGallery(page, 1);
  // Seamless terrain tiles with a share of magic mixed in: the gallery shows each 3×3.
  await fillForm(page, { className: "terrain", steps: 10, previewEvery: 1, n: 4, seed: 2 });
  await page.select("#tile", "xy");
  await page.select(
    "#mix-class",
    await page.$$eval(
      "#mix-class option",
      (os) => os.find((o) => o.textContent === "magic")!.value,
    ),
  );
  await page.$eval("#mix-weight", (el) => {
    (el as HTMLInputElement).value = "25";
    el.dispatchEvent(new Event("input", { bubbles: true }));
  });
  await generate(page);
  await waitForGallery(page, 2);
  await page.select("#tile", "");
  await page.select("#mix-class", "");
  await fillForm(page, {
    className: "heroes",
    steps: 100,
    previewEvery: 10,
    n: 8,
    seed: 5,
    palette: "db32",
    outline: "auto",
  });
  await generate(page);
  await waitForStep(page, 40);
  // Pressing Generate scrolled the long form's button into view; the preview is at the top.
  await page.evaluate(() => globalThis.scrollTo(0, 0));
  await page.screenshot({ path: join(out, "serve-generating.png") });
  await waitForGallery(page, 3);
  await page.screenshot({ path: join(out, "serve-gallery.png"), fullPage: true });
  await page.setViewport(PHONE);
  await page.screenshot({ path: join(out, "serve-phone.png"), fullPage: true });
  if (errors.length) throw new Error(`the page reported errors: ${errors.join("; ")}`);
  console.log(`wrote ${out}/serve-generating.png, serve-gallery.png, serve-phone.png`);
} finally {
  await session.close();
  await server.stop("SIGINT");
}
