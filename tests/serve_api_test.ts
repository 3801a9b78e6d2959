/**
 * End to end: `main.ts serve` as a user runs it (tiny untrained weights, a free
 * loopback port), driven over HTTP — every route, every kind of bad input,
 * cancellation, a client that disconnects, 20 clients at once, the request time
 * limit, Ctrl-C, and the same PNG/GIF bytes as `main.ts sample` for one seed.
 */

import { deepStrictEqual, equal, match, notDeepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { GIF } from "imagescript";
import { SAMPLERS } from "../lib/diffusion/schedule.ts";
import { GENERATE_DEFAULTS } from "../lib/generate/defaults.ts";
import { decodePng, encodePng } from "../lib/io/png.ts";
import type { RgbaImage } from "../lib/io/image.ts";
import { MAX_BODY_BYTES } from "../lib/serve/server.ts";
import { MAX_UPLOAD_BYTES } from "../lib/serve/request.ts";
import { BUILTIN_PALETTES } from "../lib/palette/builtin.ts";
import {
  failsWith,
  runMain,
  succeeded,
  TINY_CLASSES,
  withTempDir,
  writeTinyWeights,
} from "./cli_helpers.ts";
import { ApiClient, type Job, spawnServe } from "./serve_helpers.ts";

const MAX_QUEUE = 3;
const MAX_SPRITES = 6;
/** Long enough (on the CPU fallback) to still be running when a test acts on it. */
const LONG = { n: 1, steps: 1000, previewEvery: 10 };

const PALETTES = [...BUILTIN_PALETTES.keys()];
const MIX = '{"mix": [[CLASS, WEIGHT], …]}, weights ≥ 0 with a sum > 0';

const repoFile = (path: string) => Deno.readFile(new URL(`../${path}`, import.meta.url));

/** A `size`×`size` opaque image whose pixel (x, y) is `colour(x, y)` (RGB). */
function image(size: number, colour: (x: number, y: number) => number[]): RgbaImage {
  const data = new Uint8Array(size * size * 4);
  for (let p = 0; p < size * size; p++) {
    data.set([...colour(p % size, Math.floor(p / size)), 255], 4 * p);
  }
  return { width: size, height: size, data };
}

const base64Png = async (img: RgbaImage) => (await encodePng(img)).toBase64();

/** A PNG whose header claims `side`×`side` pixels (a few bytes that would decode to gigabytes). */
function claimedPng(side: number): Uint8Array {
  const png = new Uint8Array(33);
  png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(png.buffer);
  view.setUint32(16, side);
  view.setUint32(20, side);
  png.set([8, 6, 0, 0, 0], 24);
  return png;
}

Deno.test("serve: routes, bad input, jobs, cancel, disconnect, 20 clients, sample's bytes", async (t) => {
  await withTempDir("serve-api-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const server = await spawnServe([
      "--weights",
      weights,
      "--max-queue",
      String(MAX_QUEUE),
      "--max-sprites",
      String(MAX_SPRITES),
    ]);
    const api = new ApiClient(server.url);
    try {
      match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

      await t.step("the page and its assets, embedded", async () => {
        for (
          const [path, file, type] of [
            ["/", "web/app/index.html", "text/html"],
            ["/app.js", "web/app/app.js", "text/javascript"],
            ["/app.css", "web/app/app.css", "text/css"],
          ]
        ) {
          const res = await api.fetch(path);
          equal(res.status, 200, path);
          ok(res.headers.get("content-type")!.startsWith(type), path);
          match(res.headers.get("content-security-policy")!, /default-src 'self'/);
          deepStrictEqual(new Uint8Array(await res.arrayBuffer()), await repoFile(file), path);
        }
      });

      await t.step("info: classes, defaults, ranges and limits", async () => {
        const [status, info] = await api.json("/api/info");
        equal(status, 200);
        deepStrictEqual(info.classes, TINY_CLASSES);
        deepStrictEqual(info.samplers, [...SAMPLERS]);
        deepStrictEqual(info.defaults, JSON.parse(JSON.stringify(GENERATE_DEFAULTS)));
        deepStrictEqual((info.ranges as Record<string, unknown>).n, {
          min: 1,
          max: MAX_SPRITES,
          integer: true,
        });
        deepStrictEqual(info.queue, { running: false, waiting: 0, maxQueue: MAX_QUEUE });
        equal((info.model as Record<string, unknown>).channels, 4);
        equal(info.weights, weights);
      });

      await t.step("unknown routes are 404, wrong methods 405; no file is read", async () => {
        for (
          const path of [
            "/nope",
            "/api",
            "/api/jobs/unknown",
            "/api/jobs/unknown/events",
            "/api/jobs/unknown/files/sheet-s0.png",
            "/index.html",
            "/web/app/app.js",
            "/main.ts",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/api/jobs/x/files/..%2F..%2F..%2Fmain.ts",
          ]
        ) {
          const [status, body] = await api.json(path);
          equal(status, 404, path);
          equal(typeof body.error, "string", path);
        }
        for (
          const [method, path, allow] of [
            ["DELETE", "/api/info", "GET"],
            ["GET", "/api/jobs", "POST"],
            ["POST", "/", "GET"],
            ["PUT", "/api/jobs/x", "GET, DELETE"],
          ]
        ) {
          const res = await api.fetch(path, { method });
          equal(res.status, 405, `${method} ${path}`);
          equal(res.headers.get("allow"), allow);
          await res.body?.cancel();
        }
      });

      await t.step(
        "bad input: 400 naming the field and what it accepts; nothing queued",
        async () => {
          const sprite = await base64Png(image(16, (x, y) => [x * 16, y * 16, 99]));
          const big = await base64Png(image(20, () => [1, 2, 3]));
          const cases: [unknown, string | null, unknown][] = [
            [[], null, null],
            ["text", null, null],
            [{ class: "dragon" }, "class", [null, 0, 1, 2, ...TINY_CLASSES, MIX]],
            [{ class: 3 }, "class", null],
            [{ class: -1 }, "class", null],
            [{ class: 1.5 }, "class", null],
            [{ class: "" }, "class", null],
            [{ n: 0 }, "n", { min: 1, max: MAX_SPRITES, integer: true }],
            [{ n: MAX_SPRITES + 1 }, "n", { min: 1, max: MAX_SPRITES, integer: true }],
            [{ n: 2.5 }, "n", null],
            [{ n: "2" }, "n", null],
            [{ guidance: -0.5 }, "guidance", { min: 0, max: 100 }],
            [{ guidance: 101 }, "guidance", { min: 0, max: 100 }],
            [{ guidance: null }, "guidance", null],
            [{ steps: 0 }, "steps", { min: 1, max: 1000, integer: true }],
            [{ steps: 1001 }, "steps", { min: 1, max: 1000, integer: true }],
            [{ steps: 10.5 }, "steps", null],
            [{ sampler: "euler" }, "sampler", [...SAMPLERS]],
            [{ eta: 0.5 }, "eta", { min: 0, max: 1 }],
            [{ sampler: "ddim", eta: 1.5 }, "eta", { min: 0, max: 1 }],
            [{ seed: -1 }, "seed", { min: 0, max: 2 ** 32 - 1, integer: true }],
            [{ seed: 2 ** 32 }, "seed", { min: 0, max: 2 ** 32 - 1, integer: true }],
            [{ scale: 0 }, "scale", { min: 1, max: 64, integer: true }],
            [{ scale: 65 }, "scale", { min: 1, max: 64, integer: true }],
            [{ softAlpha: "yes" }, "softAlpha", [true, false]],
            [{ previewEvery: -1 }, "previewEvery", { min: 0, max: 1000, integer: true }],
            [{ steps: 1000, previewEvery: 9 }, "previewEvery", {
              min: 10,
              max: 1000,
              integer: true,
            }],
            [{ colour: "red" }, "colour", null],
            [{ palette: "nope" }, "palette", [null, ...PALETTES, "auto:2…256"]],
            [{ palette: "auto:1" }, "palette", null],
            [{ palette: 8 }, "palette", null],
            // A palette file is never read on a request's say-so; tiny weights carry no dataset palette.
            [{ palette: "/etc/palette.gpl" }, "palette", null],
            [{ palette: "dataset" }, "palette", null],
            [{ palette: "pico8", softAlpha: true }, "softAlpha", [false]],
            [{ palette: "pico8", paletteScope: "batch" }, "paletteScope", ["sprite", "batch"]],
            [{ palette: "auto:4", paletteScope: "all" }, "paletteScope", ["sprite", "batch"]],
            [{ dither: "floyd" }, "dither", ["none", "bayer4", "bayer8", "floyd"]],
            [{ palette: "pico8", dither: "random" }, "dither", [
              "none",
              "bayer4",
              "bayer8",
              "floyd",
            ]],
            [{ outline: "red" }, "outline", ["RRGGBB", "auto", null]],
            [{ despeckle: 1 }, "despeckle", [true, false]],
            [{ despeckle: true }, "despeckle", [false]],
            [{ class: { mix: [] } }, "class", null],
            [{ class: { mix: [["dragon", 1]] } }, "class", null],
            [{ class: { mix: [["sword", -1]] } }, "class", null],
            [{ class: { mix: [["sword", 0], ["slime", 0]] } }, "class", null],
            [{ class: { mix: [["sword"]] } }, "class", null],
            [{ class: { mix: [["sword", 1]], more: 1 } }, "class", null],
            [{ tile: "z" }, "tile", ["x", "y", "xy"]],
            [{ tile: true }, "tile", ["x", "y", "xy"]],
            [{ threshold: 0 }, "threshold", { min: 0, max: 100, exclusiveMin: true }],
            [{ threshold: 100.5 }, "threshold", { min: 0, max: 100, exclusiveMin: true }],
            [{ guidanceInterval: [0.8, 0.2] }, "guidanceInterval", { min: 0, max: 1 }],
            [{ guidanceInterval: [0, 1.5] }, "guidanceInterval", null],
            [{ guidanceInterval: "0.2,0.8" }, "guidanceInterval", null],
            [{ guidanceInterval: [0.2] }, "guidanceInterval", null],
            [{ mask: sprite }, "mask", null],
            [{ resize: true }, "resize", null],
            [{ init: { png: sprite }, resample: 2 }, "resample", null],
            [{ init: { png: sprite }, mask: sprite, resample: 21 }, "resample", {
              min: 0,
              max: 20,
              integer: true,
            }],
            [{ init: { png: sprite, strength: 0 } }, "init", null],
            [{ init: { png: 5 } }, "init", null],
            [{ init: { png: "not base64!" } }, "init", null],
            [{ init: { png: btoa("GIF89a, not a PNG") } }, "init", null],
            [{ init: { png: big } }, "init", null],
            [{ init: { png: claimedPng(60000).toBase64() }, resize: true }, "init", null],
            [{ init: { png: "A".repeat(MAX_UPLOAD_BYTES * 2) } }, "init", null],
            [{ init: { png: sprite, job: "x", sprite: 0 } }, "init", null],
            [{ init: { png: sprite }, mask: "!" }, "mask", null],
            [{ init: { png: sprite }, mask: big }, "mask", null],
          ];
          for (const [body, field, allowed] of cases) {
            const res = await api.submit(body);
            const reply = await res.json();
            const what = JSON.stringify(body);
            equal(res.status, 400, what);
            equal(reply.field, field, `${what}: ${reply.error}`);
            equal(typeof reply.error, "string");
            if (field) match(reply.error, new RegExp(`^${field}|'${field}'`), what);
            if (allowed) deepStrictEqual(reply.allowed, allowed, what);
          }
          // The reasons uploads are refused, as `sample --init` words them.
          const reasons: [unknown, RegExp][] = [
            [{ init: { png: btoa("GIF89a, not a PNG") } }, /^init: init\.png: not a PNG file$/],
            [{ init: { png: big } }, /^init: init\.png is 20×20, not 16×16; add "resize": true/],
            [{ init: { png: sprite }, mask: big }, /^mask: mask\.png is 20×20, not 16×16/],
            [
              { init: { png: claimedPng(60000).toBase64() }, resize: true },
              /^init: init\.png is 60000×60000; the most read is 1024×1024$/,
            ],
            [{ init: { png: "A".repeat(MAX_UPLOAD_BYTES * 2) } }, /larger than 16384 bytes/],
            [{ class: { mix: [["dragon", 1]] } }, /unknown class "dragon" in the mix/],
            [{ class: { mix: [["sword", 0]] } }, /the mix weights sum to 0/],
          ];
          for (const [body, pattern] of reasons) {
            const reply = await (await api.submit(body)).json();
            match(reply.error, pattern, JSON.stringify(body).slice(0, 100));
          }
          const post = (body: BodyInit, headers: Record<string, string>) =>
            api.fetch("/api/jobs", { method: "POST", body, headers });
          const invalid = await post("{nope", { "content-type": "application/json" });
          equal(invalid.status, 400);
          match((await invalid.json()).error, /not valid JSON/);
          const form = await post("class=1", {
            "content-type": "application/x-www-form-urlencoded",
          });
          equal(form.status, 415);
          await form.body?.cancel();
          const declared = await post(`{"seed": 1${" ".repeat(MAX_BODY_BYTES)}}`, {
            "content-type": "application/json",
          });
          equal(declared.status, 413);
          match((await declared.json()).error, new RegExp(`${MAX_BODY_BYTES} bytes`));
          // A chunked body declares no length: refused once it passes the limit.
          const chunks = ReadableStream.from([
            `{"seed": 1`,
            " ".repeat(MAX_BODY_BYTES / 2),
            " ".repeat(MAX_BODY_BYTES / 2),
            "}",
          ])
            .pipeThrough(new TextEncoderStream());
          const streamed = await post(chunks, { "content-type": "application/json" });
          equal(streamed.status, 413);
          await streamed.body?.cancel();
          const [, info] = await api.json("/api/info");
          deepStrictEqual(info.queue, { running: false, waiting: 0, maxQueue: MAX_QUEUE });
        },
      );

      let finished: Job;
      let paletted: Job;
      await t.step("a job: queued behind another, previews in order, done, its files", async () => {
        const blocker = await api.accepted(LONG);
        const request = { class: "sword", n: 2, seed: 5, steps: 6, previewEvery: 2, scale: 3 };
        const res = await api.submit(request);
        equal(res.status, 202);
        const job: Job = await res.json();
        equal(res.headers.get("location"), `/api/jobs/${job.id}`);
        deepStrictEqual([job.state, job.position], ["queued", 1]);
        deepStrictEqual(job.request.classes, ["sword", "sword"]);
        const events = await api.events(job.id);
        deepStrictEqual(await events.next(), { event: "queued", data: { position: 1 } });
        equal((await api.json(`/api/jobs/${blocker.id}`, { method: "DELETE" }))[0], 200);
        const rest = await events.rest();
        deepStrictEqual(rest.map((e) => e.event), [
          "started",
          "preview",
          "preview",
          "preview",
          "done",
        ]);
        deepStrictEqual(rest[0].data, { total: 6 });
        deepStrictEqual(rest.slice(1, 4).map((e) => [e.data.step, e.data.total]), [[2, 6], [4, 6], [
          6,
          6,
        ]]);
        for (const { data } of rest.slice(1, 4)) {
          const sprites = data.sprites as string[];
          equal(sprites.length, 2);
          for (const url of sprites) {
            match(url, /^data:image\/png;base64,/);
            const png = Uint8Array.fromBase64(url.slice(url.indexOf(",") + 1));
            const image = await decodePng(png, "preview");
            deepStrictEqual([image.width, image.height], [16, 16]);
          }
        }
        finished = rest[4].data as unknown as Job;
        equal(finished.state, "done");
        deepStrictEqual(finished, (await api.json(`/api/jobs/${job.id}`))[1]);
        deepStrictEqual(finished.files.map((f) => f.name), [
          "sword-s5-0.png",
          "sword-s5-0-x3.png",
          "sword-s5-1.png",
          "sword-s5-1-x3.png",
          "sheet-s5.png",
          "sheet-s5.json",
          "fadein-s5.gif",
        ]);
        const size = async (url: string) => {
          const image = await decodePng(await api.bytes(url), url);
          return [image.width, image.height];
        };
        deepStrictEqual(await size(finished.files[0].url), [16, 16]);
        deepStrictEqual(await size(finished.files[1].url), [48, 48]);
        deepStrictEqual(await size(finished.files[4].url), [2 * 64 + 2, 64]);
        // Previews at steps 2 and 4 fade in, then the finished sprites, held twice as long.
        const gif = await GIF.decode(await api.bytes(finished.files[6].url));
        deepStrictEqual([gif.length, gif.width, gif.height], [4, 2 * 64 + 1, 64]);
        const res404 = await api.fetch(`/api/jobs/${job.id}/files/sword-s5-2.png`);
        equal(res404.status, 404);
        await res404.body?.cancel();
        // A stream opened after the end replays the end.
        deepStrictEqual((await (await api.events(job.id)).rest()).map((e) => e.event), ["done"]);

        // With a palette per sprite: indexed PNGs, each sprite's .gpl/.hex, an indexed sheet.
        paletted = await api.accepted({
          ...request,
          palette: "auto:4",
          dither: "bayer4",
          outline: "auto",
          despeckle: true,
        });
        paletted = (await (await api.events(paletted.id)).until("done")).data as unknown as Job;
        deepStrictEqual(paletted.files.map((f) => [f.name, f.sprite, f.type]), [
          ["sword-s5-0.png", 0, "image/png"],
          ["sword-s5-0-x3.png", 0, "image/png"],
          ["sword-s5-0.gpl", 0, "text/plain; charset=utf-8"],
          ["sword-s5-0.hex", 0, "text/plain; charset=utf-8"],
          ["sword-s5-1.png", 1, "image/png"],
          ["sword-s5-1-x3.png", 1, "image/png"],
          ["sword-s5-1.gpl", 1, "text/plain; charset=utf-8"],
          ["sword-s5-1.hex", 1, "text/plain; charset=utf-8"],
          ["sheet-s5.png", null, "image/png"],
          ["sheet-s5.json", null, "application/json"],
          ["fadein-s5.gif", null, "image/gif"],
        ]);
        const hex = new TextDecoder().decode(await api.bytes(paletted.files[3].url)).trim();
        const colours = hex.split("\n");
        ok(colours.length <= 4 && colours.every((c) => /^[0-9a-f]{6}$/.test(c)), hex);
        const sheetJson = JSON.parse(
          new TextDecoder().decode(await api.bytes(paletted.files[9].url)),
        );
        equal(sheetJson.meta.image, "sheet-s5.png");
        equal(sheetJson.meta.format, "I8");
      });

      await t.step("the command lines shown write the same bytes with main.ts sample", async () => {
        for (const [i, job] of [finished, paletted].entries()) {
          const words = job.command.split(" ");
          deepStrictEqual(words.slice(0, 5), ["deno", "run", "-A", "main.ts", "sample"]);
          const out = join(dir, `cli-${i}`);
          const run = await runMain([...words.slice(4), "--out", out, "--json"]);
          succeeded(run);
          const written: string[] = JSON.parse(run.stdout).files;
          deepStrictEqual(written, job.files.map((f) => join(out, f.name)));
          for (const file of job.files) {
            const fromCli = await Deno.readFile(join(out, file.name));
            deepStrictEqual(fromCli, await api.bytes(file.url), file.name);
          }
        }
        match(
          paletted.command,
          /--palette auto:4 --dither bayer4 --outline auto --despeckle --gif$/,
        );
      });

      await t.step("variations of a finished sprite; the same bytes as sample --init", async () => {
        const base = { class: "sword", n: 2, seed: 8, steps: 6, previewEvery: 2, scale: 3 };
        const refusals: [unknown, RegExp][] = [
          [5, /^init must be/],
          [{ job: "nope", sprite: 0 }, /^init: no job 'nope'/],
          [{ job: finished.id, sprite: 2 }, /^init: job \S+ has sprites 0…1, not 2/],
          [
            { job: finished.id, sprite: 0, strength: 0 },
            /^init\.strength must be a number in \(0, 1\]/,
          ],
          [{ job: finished.id, sprite: 0, size: 16 }, /^init has no field 'size'/],
        ];
        for (const [init, pattern] of refusals) {
          const res = await api.submit({ ...base, init });
          const reply = await res.json();
          deepStrictEqual([res.status, reply.field], [400, "init"], JSON.stringify(init));
          match(reply.error, pattern);
        }
        const variation = await api.accepted({
          ...base,
          init: { job: finished.id, sprite: 1, strength: 0.5 },
        });
        deepStrictEqual(variation.request.init, {
          job: finished.id,
          sprite: 1,
          file: "sword-s5-1.png",
          strength: 0.5,
        });
        const done = (await (await api.events(variation.id)).until("done")).data as unknown as Job;
        match(done.command, / --init sword-s5-1\.png --strength 0\.5 /);
        // `sample` reads the sprite's PNG as downloaded (written by the step above into cli-0).
        const words = done.command.split(" ").slice(4);
        words[words.indexOf("--init") + 1] = join(dir, "cli-0", "sword-s5-1.png");
        const out = join(dir, "cli-variation");
        succeeded(await runMain([...words, "--out", out]));
        for (const file of done.files) {
          const fromCli = await Deno.readFile(join(out, file.name));
          deepStrictEqual(fromCli, await api.bytes(file.url), file.name);
        }
        // A variation at strength 0.5 differs from drawing anew with the same seed.
        const fresh = await api.accepted(base);
        const anew = (await (await api.events(fresh.id)).until("done")).data as unknown as Job;
        notDeepStrictEqual(await api.bytes(anew.files[0].url), await api.bytes(done.files[0].url));
      });

      await t.step(
        "class mix, tiles, uploaded init and mask: the same bytes as sample's command line",
        async () => {
          // The uploads: a sprite this server drew (as sample wrote it into cli-0), and a mask,
          // 32×32 (resized to 16×16 as --resize does), white (generate) on the left half.
          const initPng = await Deno.readFile(join(dir, "cli-0", "sword-s5-0.png"));
          const mask = await encodePng(image(32, (x) => x < 16 ? [255, 255, 255] : [0, 0, 0]));
          const common = { n: 2, steps: 6, previewEvery: 2, scale: 3 };
          const requests = [
            {
              ...common,
              seed: 21,
              class: { mix: [["sword", 0.7], [0, 0.3]] },
              threshold: 99.5,
              guidanceInterval: [0.2, 0.9],
            },
            { ...common, seed: 22, class: "potion", tile: "xy" },
            {
              ...common,
              seed: 23,
              class: "sword",
              init: { png: `data:image/png;base64,${initPng.toBase64()}` },
              mask: mask.toBase64(),
              resample: 1,
              resize: true,
            },
          ];
          const jobs: Job[] = [];
          for (const request of requests) {
            const job = await api.accepted(request);
            jobs.push((await (await api.events(job.id)).until("done")).data as unknown as Job);
          }
          const [mixed, tiled, inpainted] = jobs;
          deepStrictEqual(mixed.request.class, { mix: [["sword", 0.7], ["slime", 0.3]] });
          deepStrictEqual(mixed.request.classes, ["sword:0.7+slime:0.3", "sword:0.7+slime:0.3"]);
          match(mixed.command, /--class sword:0\.7,slime:0\.3 /);
          match(mixed.command, / --threshold 99\.5 --guidance-interval 0\.2,0\.9 /);
          match(tiled.command, / --tile xy /);
          deepStrictEqual(
            tiled.files.filter((f) => f.sprite === 0).map((f) => [f.name, f.kind]),
            [
              ["potion-s22-0.png", "sprite"],
              ["potion-s22-0-x3.png", "upscaled"],
              ["potion-s22-0-tile3x3-x3.png", "tile3x3"],
            ],
          );
          match(
            inpainted.command,
            / --init init\.png --strength 1 --mask mask\.png --resample 1 --resize /,
          );
          deepStrictEqual(inpainted.request.init, { upload: true, file: "init.png", strength: 1 });
          // The kept (right) half is the init's, pixel for pixel; the generated half is not.
          const init = await decodePng(initPng, "init");
          for (const file of inpainted.files.filter((f) => f.kind === "sprite")) {
            const out = await decodePng(await api.bytes(file.url), file.name);
            const half = (img: RgbaImage, keep: boolean) =>
              Array.from({ length: 256 }, (_, p) => p)
                .filter((p) => (p % 16 >= 8) === keep)
                .flatMap((p) => [...img.data.subarray(4 * p, 4 * p + 4)]);
            deepStrictEqual(half(out, true), half(init, true), file.name);
            notDeepStrictEqual(half(out, false), half(init, false), file.name);
          }
          // Saved under the names the command line gives them, the uploads give sample's bytes.
          const uploads = join(dir, "uploads");
          await Deno.mkdir(uploads);
          await Deno.writeFile(join(uploads, "init.png"), initPng);
          await Deno.writeFile(join(uploads, "mask.png"), mask);
          for (const [i, job] of jobs.entries()) {
            const out = join(dir, `cli-creative-${i}`);
            const words = job.command.split(" ").slice(4)
              .map((w) => w === "init.png" || w === "mask.png" ? join(uploads, w) : w);
            const run = await runMain([...words, "--out", out]);
            succeeded(run);
            for (const file of job.files) {
              const fromCli = await Deno.readFile(join(out, file.name));
              deepStrictEqual(fromCli, await api.bytes(file.url), `${i}: ${file.name}`);
            }
          }
        },
      );

      await t.step("cancel: a running job stops, a queued one leaves the queue", async () => {
        const running = await api.accepted(LONG);
        const queued = await api.accepted({ n: 1, steps: 4 });
        const events = await api.events(running.id);
        await events.until("preview");
        const [status, cancelled] = await api.json(`/api/jobs/${queued.id}`, { method: "DELETE" });
        deepStrictEqual([status, cancelled.state], [200, "cancelled"]);
        equal((await api.json(`/api/jobs/${running.id}`))[1].state, "running");
        equal((await api.json(`/api/jobs/${running.id}`, { method: "DELETE" }))[0], 200);
        equal((await events.until("cancelled")).event, "cancelled");
        equal(await events.next(), null);
        equal((await api.json(`/api/jobs/${running.id}`))[1].state, "cancelled");
        const [again, body] = await api.json(`/api/jobs/${running.id}`, { method: "DELETE" });
        deepStrictEqual([again, body.state], [409, "cancelled"]);
        const [files] = await api.json(`/api/jobs/${running.id}/files/sheet-s0.png`);
        equal(files, 409);
      });

      await t.step("a client that disconnects cancels its job and frees the queue", async () => {
        const leaving = await api.accepted(LONG);
        const connection = new AbortController();
        const events = await api.events(leaving.id, "rgba", connection.signal);
        const preview = await events.until("preview");
        const [rgba] = preview.data.sprites as string[];
        equal(Uint8Array.fromBase64(rgba).length, 16 * 16 * 4);
        const next = await api.accepted({ n: 1, steps: 4 });
        equal(next.position, 1);
        connection.abort();
        await events.cancel().catch(() => {});
        await api.waitFor(leaving.id, (j) => j.state === "cancelled");
        await api.waitFor(next.id, (j) => j.state === "done");
      });

      await t.step(
        "20 clients at once: each gets a result or 429; later jobs still run",
        async () => {
          const outcomes = await Promise.all(
            Array.from({ length: 20 }, async (_, i) => {
              const res = await api.submit({ n: 1, steps: 20, seed: 100 + i });
              const body = await res.json();
              if (res.status === 429) {
                const retry = Number(res.headers.get("retry-after"));
                ok(Number.isInteger(retry) && retry >= 1, `Retry-After ${retry}`);
                equal(body.retryAfter, retry);
                return "refused";
              }
              equal(res.status, 202, JSON.stringify(body));
              const end = (await (await api.events(body.id)).rest()).at(-1);
              equal(end?.event, "done", JSON.stringify(end));
              return "done";
            }),
          );
          const count = (what: string) => outcomes.filter((o) => o === what).length;
          equal(count("done") + count("refused"), 20);
          // The first MAX_QUEUE + 1 to arrive always find room (one runs, the rest wait).
          ok(count("done") >= MAX_QUEUE + 1, `${count("done")} done`);
          ok(count("refused") >= 1, "no submission was refused");
          const later = await api.accepted({ n: 1, steps: 4 });
          equal((await (await api.events(later.id)).rest()).at(-1)?.event, "done");
        },
      );

      await t.step(
        "Ctrl-C cancels the running and the queued job and ends their streams",
        async () => {
          const running = await api.accepted(LONG);
          const queued = await api.accepted(LONG);
          const events = await api.events(running.id);
          await events.until("preview");
          const waiting = await api.events(queued.id);
          equal((await waiting.next())?.event, "queued");
          const status = await server.stop("SIGINT");
          equal(status.code, 0, server.stderr());
          equal((await events.rest()).at(-1)?.event, "cancelled");
          deepStrictEqual((await waiting.rest()).map((e) => e.event), ["cancelled"]);
          match(server.stdout(), /stopping: cancelling jobs …\nstopped\n$/);
        },
      );
    } finally {
      await server.stop("SIGKILL"); // a no-op once it has stopped
    }
  });
});

Deno.test("serve: a job that runs past --max-seconds is stopped and fails", async () => {
  await withTempDir("serve-limit-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const server = await spawnServe(["--weights", weights, "--max-seconds", "1"]);
    const api = new ApiClient(server.url);
    try {
      const slow = await api.accepted({ ...LONG, previewEvery: 100 });
      const failed = await (await api.events(slow.id)).until("failed");
      match(String(failed.data.error), /stopped after 1 s.*--max-seconds/);
      equal((await api.json(`/api/jobs/${slow.id}`))[1].state, "failed");
      const next = await api.accepted({ n: 1, steps: 2 });
      equal((await (await api.events(next.id)).rest()).at(-1)?.event, "done");
    } finally {
      equal((await server.stop("SIGINT")).code, 0, server.stderr());
    }
  });
});

Deno.test("serve: --max-sprites below the class count starts (the warm-up asks what the page does)", async () => {
  await withTempDir("serve-few-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights); // 3 classes
    const server = await spawnServe(["--weights", weights, "--max-sprites", "2"]);
    const api = new ApiClient(server.url);
    try {
      const [status, info] = await api.json("/api/info");
      equal(status, 200);
      deepStrictEqual((info.ranges as Record<string, unknown>).n, {
        min: 1,
        max: 2,
        integer: true,
      });
      const job = await api.accepted({ n: 2, steps: 2 });
      equal((await (await api.events(job.id)).rest()).at(-1)?.event, "done");
    } finally {
      equal((await server.stop("SIGINT")).code, 0, server.stderr());
    }
  });
});

Deno.test("serve: bad options and a port in use are one-line errors", async () => {
  failsWith(await runMain(["serve", "--port", "http"]), /--port must be an integer/);
  failsWith(await runMain(["serve", "--port", "70000"]), /--port must be between 0 and 65535/);
  failsWith(await runMain(["serve", "--max-queue", "-1"]), /--max-queue must be between 0/);
  failsWith(await runMain(["serve", "--max-seconds", "0"]), /--max-seconds must be between 1/);
  failsWith(await runMain(["serve", "--bogus"]), /Unknown option '--bogus'/);
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String(taken.addr.port);
  failsWith(
    await runMain(["serve", "--port", port]),
    new RegExp(`port ${port} on 127.0.0.1 is in use`),
  );
});
