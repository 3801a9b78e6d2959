// deno-lint-ignore-file no-control-regex -- kitty escapes begin with ESC
import assert, { deepStrictEqual, ok } from "node:assert/strict";
import { CHECKER, compositeOverChecker, upscaleNearest } from "../io/sheet.ts";
import type { RgbaImage } from "../io/image.ts";
import type { Display } from "./detect.ts";
import { LiveView } from "./live.ts";
import { encodeSixel } from "./sixel.ts";

const compositeOver = (img: RgbaImage) => compositeOverChecker(img, CHECKER.square);

/** An in-memory stream that accepts at most `chunk` bytes per write, as pipes may. */
function memoryStream(isTerminal: boolean, chunk = Infinity) {
  const bytes: number[] = [];
  let read = 0;
  return {
    isTerminal: () => isTerminal,
    writeSync(b: Uint8Array): number {
      const n = Math.min(b.length, chunk);
      bytes.push(...b.subarray(0, n));
      return n;
    },
    /** What was written since the last call. */
    take(): string {
      const text = new TextDecoder().decode(Uint8Array.from(bytes.slice(read)));
      read = bytes.length;
      return text;
    },
  };
}

const BEGIN = "\x1b[?2026h";
const END = "\x1b[?2026l";

Deno.test("on a TTY, frames redraw in place and rewrite only changed lines", async () => {
  const out = memoryStream(true, 3);
  const view = new LiveView(out, "truecolor");
  view.update("a\nb");
  deepStrictEqual(out.take(), `${BEGIN}a\x1b[K\nb\x1b[K\n${END}`);
  view.update("a\nc\n");
  deepStrictEqual(out.take(), `${BEGIN}\x1b[2A\nc\x1b[K\n${END}`);
  view.update("a\nc");
  deepStrictEqual(out.take(), "", "an unchanged frame writes nothing");
  view.update("x"); // shrinks: the line below is erased
  deepStrictEqual(out.take(), `${BEGIN}\x1b[2Ax\x1b[K\n\x1b[J${END}`);
  view.log("hello"); // above the block, which moves down
  deepStrictEqual(out.take(), `${BEGIN}\x1b[1Ahello\x1b[K\nx\x1b[K\n${END}`);
  view.update("x\ny\nz"); // grows
  deepStrictEqual(out.take(), `${BEGIN}\x1b[1A\ny\x1b[K\nz\x1b[K\n${END}`);
  await view.done(); // the frame stays; the next block starts below it
  deepStrictEqual(out.take(), "");
  view.update("q");
  deepStrictEqual(out.take(), `${BEGIN}q\x1b[K\n${END}`);
});

Deno.test("off a TTY, or without colour, only log lines are written, plainly", async () => {
  for (const [isTerminal, color] of [[false, "truecolor"], [true, "none"]] as const) {
    const out = memoryStream(isTerminal);
    const view = new LiveView(out, color);
    view.update("frame 1\nstatus");
    view.log("step 10 loss 0.5");
    view.update("frame 2");
    view.log("done");
    await view.done();
    const text = out.take();
    deepStrictEqual(text, "step 10 loss 0.5\ndone\n");
    ok(!text.includes("\x1b"));
  }
});

/** A 2×2 sprite (red green / blue transparent) and a second frame of it (all white). */
const sprite = {
  width: 2,
  height: 2,
  data: Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 0, 0, 0, 0]),
};
const white = { width: 2, height: 2, data: new Uint8Array(16).fill(255) };

function pictureDisplay(protocol: "kitty" | "sixel"): Display {
  return {
    protocol,
    color: "truecolor",
    columns: 80,
    rows: 24,
    cell: { width: 10, height: 20 },
    registers: 256,
    tmux: false,
  };
}

Deno.test("sixel frames redraw in place: up to the block's top, saved corner, restored", async () => {
  const out = memoryStream(true);
  const display = pictureDisplay("sixel");
  const view = new LiveView(out, "truecolor", display);
  // Scale 20: 40 px = 2 lines of 20 px; the block is 2 picture lines + 1 status line.
  const sixel = (img: typeof sprite) => encodeSixel(upscaleNearest(compositeOver(img), 20));
  const placed = (img: typeof sprite) => `\n\n\x1b[2A\x1b7${sixel(img)}\x1b8\n\n`;
  await view.show([sprite], "step 1", { scale: 20 });
  deepStrictEqual(out.take(), `${BEGIN}${placed(sprite)}step 1\x1b[K\n${END}`);
  await view.show([white], "step 2", { scale: 20 });
  deepStrictEqual(out.take(), `${BEGIN}\x1b[3A${placed(white)}step 2\x1b[K\n${END}`);
  // The same status is stepped over; the picture is drawn again.
  await view.show([sprite], "step 2", { scale: 20 });
  deepStrictEqual(out.take(), `${BEGIN}\x1b[3A${placed(sprite)}\n${END}`);
  // A line logged above: the old picture erased, the block drawn one line lower.
  view.log("hello");
  deepStrictEqual(
    out.take(),
    `${BEGIN}\x1b[3A\x1b[Jhello\x1b[K\n${placed(sprite)}step 2\x1b[K\n${END}`,
  );
  await view.done();
  await view.show([white], "again", { scale: 20 });
  deepStrictEqual(out.take(), `${BEGIN}${placed(white)}again\x1b[K\n${END}`, "a new block below");
});

Deno.test("kitty frames replace each other under one image id; logged ones keep theirs", async () => {
  const out = memoryStream(true);
  const view = new LiveView(out, "truecolor", pictureDisplay("kitty"));
  const ids = (text: string) => [...text.matchAll(/\x1b_Ga=T,[^;]*,i=(\d+)/g)].map((m) => m[1]);
  await view.show([sprite], "step 1", { scale: 20 });
  const first = out.take();
  await view.show([white], "step 2", { scale: 20 });
  const second = out.take();
  deepStrictEqual(ids(first).length, 1);
  deepStrictEqual(ids(second), ids(first));
  ok(second.startsWith(`${BEGIN}\x1b[3A\n\n\x1b[2A\x1b7\x1b_Ga=T,`), JSON.stringify(second));
  await view.logImages([sprite], { scale: 20 });
  const logged = ids(out.take());
  deepStrictEqual(logged.length, 2, "the logged grid, then the live frame again below it");
  ok(logged[0] !== ids(first)[0] && logged[1] === ids(first)[0], JSON.stringify(logged));
});

Deno.test("frames superseded while being encoded are not drawn", async () => {
  const out = memoryStream(true);
  const view = new LiveView(out, "truecolor", pictureDisplay("kitty"));
  const a = view.show([sprite], "a", { scale: 20 });
  const b = view.show([white], "b", { scale: 20 });
  await Promise.all([a, b]);
  const text = out.take();
  ok(!text.includes("a\x1b[K") && text.includes("b\x1b[K"), JSON.stringify(text.slice(-40)));
  deepStrictEqual(text.split("\x1b_Ga=T").length, 2, "one picture drawn");
});

Deno.test("a frame that fails to render is reported by done(), not left unhandled", async () => {
  const view = new LiveView(memoryStream(true), "truecolor", pictureDisplay("kitty"));
  // Sprites of different sizes cannot share a grid: the renderer throws. A frame queued
  // before it keeps it waiting.
  void view.show([sprite], "a");
  void view.show([sprite, { width: 1, height: 1, data: new Uint8Array(4) }], "x");
  await new Promise((r) => setTimeout(r, 50)); // an unhandled rejection would fail the test here
  await assert.rejects(view.done(), /differ in size/);
});

Deno.test("done() waits for the frames asked for, so nothing is drawn after it", async () => {
  const out = memoryStream(true);
  const view = new LiveView(out, "truecolor", pictureDisplay("kitty"));
  void view.show([sprite], "last frame", { scale: 20 });
  await view.done();
  ok(out.take().includes("last frame"), "the frame came after done()");
});

Deno.test("a picture logged above a text block erases the block's old lines first", async () => {
  const out = memoryStream(true);
  const display = pictureDisplay("sixel");
  const view = new LiveView(out, "truecolor", display);
  view.update("progress 1");
  out.take();
  await view.logImages([sprite], { scale: 20 });
  const picture = encodeSixel(upscaleNearest(compositeOver(sprite), 20));
  // Up over the progress line, erase it (a picture would leave it showing), the picture, then
  // the progress line again below it.
  deepStrictEqual(
    out.take(),
    `${BEGIN}\x1b[1A\x1b[J\n\n\x1b[2A\x1b7${picture}\x1b8\n\nprogress 1\x1b[K\n${END}`,
  );
});
