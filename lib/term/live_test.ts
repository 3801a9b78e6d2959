import { deepStrictEqual, ok } from "node:assert/strict";
import { LiveView } from "./live.ts";

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
