/// <reference lib="dom" />
/**
 * Driving the serve page in real headless Chromium (Debian's `chromium`, through
 * puppeteer-core; no browser is downloaded): the browser test and
 * scripts/serve_screenshots.ts use the same steps, so the README's pictures show
 * what the test checks. Test-only.
 */

import { ok } from "node:assert/strict";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * The windows the page must work in: a laptop screen and one as narrow as a phone's (a narrow
 * desktop window: puppeteer reloads the page when a viewport turns on mobile emulation).
 */
export const WIDE = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export interface BrowserSession {
  browser: Browser;
  /** Where the browser saves downloads. */
  downloads: string;
  close(): Promise<void>;
}

/** Launches headless Chromium with its own temporary profile and download folder. */
export async function launchBrowser(): Promise<BrowserSession> {
  const exists = await Deno.stat(CHROMIUM).then(() => true, () => false);
  ok(
    exists,
    `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`,
  );
  const profile = await Deno.makeTempDir({ prefix: "serve-chromium-" });
  const downloads = await Deno.makeTempDir({ prefix: "serve-downloads-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
  });
  const cdp = await browser.target().createCDPSession();
  await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
  return {
    browser,
    downloads,
    async close() {
      await browser.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      await Deno.remove(downloads, { recursive: true });
    },
  };
}

/** Errors the page reported (uncaught exceptions, console errors), collected as they happen. */
export interface OpenedPage {
  page: Page;
  errors: string[];
}

/** Opens the app at `url` and waits until it has loaded the model's description. */
export async function openApp(
  browser: Browser,
  url: string,
  viewport: { width: number; height: number } = WIDE,
): Promise<OpenedPage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(String(err)));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  await page.setViewport(viewport);
  await page.goto(url);
  await page.waitForFunction(() =>
    document.querySelector<HTMLSelectElement>("#class")!.options.length > 1
  );
  return { page, errors };
}

export interface PageRequest {
  /** The class's name as the select shows it; null = one of each; omitted = as it is. */
  className?: string | null;
  guidance?: number;
  steps: number;
  previewEvery: number;
  n: number;
  seed: number;
  /** A palette's name as the API lists it ("" = none); omitted = as it is. */
  palette?: string;
  outline?: "" | "auto";
}

/** Opens the collapsed section `id` by clicking its summary (left alone when already open). */
export async function openDetails(page: Page, id: string): Promise<void> {
  if (!await page.$eval(`#${id}`, (d) => (d as HTMLDetailsElement).open)) {
    await page.click(`#${id} summary`);
  }
}

/** Fills the form as a user would: choosing in the select, typing into the fields. */
export async function fillForm(page: Page, r: PageRequest): Promise<void> {
  if (r.className !== undefined) {
    const value = r.className === null ? "" : await page.$$eval(
      "#class option",
      (options, name) => options.find((o) => o.textContent === name)?.value,
      r.className,
    );
    ok(value !== undefined, `no class ${r.className} in the page`);
    await page.select("#class", value);
  }
  if (r.guidance !== undefined) {
    await page.$eval("#guidance", (el, g) => {
      (el as HTMLInputElement).value = String(g);
      el.dispatchEvent(new Event("input", { bubbles: true }));
    }, r.guidance);
  }
  if (r.palette !== undefined || r.outline !== undefined) {
    await openDetails(page, "palette-options");
    if (r.palette !== undefined) await page.select("#palette", r.palette);
    if (r.outline !== undefined) await page.select("#outline", r.outline);
  }
  await openDetails(page, "more-options");
  const typeInto = async (selector: string, value: number) => {
    await page.click(selector, { count: 3 }); // select what is there
    await page.keyboard.press("Backspace");
    await page.type(selector, String(value));
  };
  await typeInto("#steps", r.steps);
  await typeInto("#preview-every", r.previewEvery);
  await typeInto("#n", r.n);
  await typeInto("#seed", r.seed);
}

/**
 * Starts recording every text the status line shows (the step counter), so a test can tell which
 * previews arrived even when they come faster than it polls.
 */
export function recordStatus(page: Page): Promise<void> {
  return page.evaluate(() => {
    const seen: string[] = [];
    (globalThis as unknown as { statusSeen: string[] }).statusSeen = seen;
    const status = document.querySelector("#status")!;
    new MutationObserver(() => seen.push(status.textContent ?? "")).observe(status, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}

/** The status texts recorded since {@link recordStatus}. */
export const statusSeen = (page: Page): Promise<string[]> =>
  page.evaluate(() => (globalThis as unknown as { statusSeen: string[] }).statusSeen);

/** Presses the Generate button from the keyboard. */
export async function generate(page: Page): Promise<void> {
  await page.focus("#generate");
  await page.keyboard.press("Enter");
}

/** Waits until the status shows step `step` or later of a running job. */
export function waitForStep(page: Page, step: number, timeout = 120_000): Promise<unknown> {
  return page.waitForFunction(
    (min) => {
      const m = /^step (\d+) \//.exec(document.querySelector("#status")!.textContent ?? "");
      return m !== null && Number(m[1]) >= min;
    },
    { timeout },
    step,
  );
}

/** Waits until the gallery holds `count` generations and their sprites have loaded. */
export function waitForGallery(page: Page, count: number, timeout = 300_000): Promise<unknown> {
  return page.waitForFunction(
    (want) => {
      const cards = document.querySelectorAll("#gallery > li");
      const images = [...document.querySelectorAll<HTMLImageElement>("#gallery img")];
      return cards.length >= want && images.every((img) => img.complete && img.naturalWidth > 0);
    },
    { timeout },
    count,
  );
}
