import { deepStrictEqual, ok } from "node:assert/strict";
import { formatDuration, formatProgress, type ProgressState } from "./progress.ts";

// 420 of 1000 steps after 60 s: 7 it/s, ETA ⌈580 / 7⌉ = 83 s.
const running: ProgressState = {
  step: 420,
  total: 1000,
  startedAt: 1000,
  fields: { epoch: "3", loss: "0.0312" },
};
const now = 61_000;

Deno.test("a wide line: bar (capped at 40 cells), counts, rate, times, fields", () => {
  // 0.42 · 40 cells = 16.8 → 16 full cells and ⌊0.8·8⌋ = 6 eighths ("▊").
  deepStrictEqual(
    formatProgress(running, { width: 120, now }),
    " 42% |" + "█".repeat(16) + "▊" + " ".repeat(23) + "|   420/1000  7.00 it/s  elapsed 1:00" +
      "  ETA 1:23  epoch 3  loss 0.0312",
  );
});

Deno.test("narrow lines drop elapsed, rate, bar, fields in that order", () => {
  // At 60 columns, a 10-cell bar fits once elapsed and rate are gone: 0.42·80 = 33 eighths.
  const at60 = " 42% |████▏     |   420/1000  ETA 1:23  epoch 3  loss 0.0312";
  deepStrictEqual(formatProgress(running, { width: 60, now }), at60);
  deepStrictEqual(at60.length, 60);
  deepStrictEqual(
    formatProgress(running, { width: 59, now }),
    " 420/1000  ETA 1:23  epoch 3  loss 0.0312",
  );
  deepStrictEqual(formatProgress(running, { width: 40, now }), " 420/1000  ETA 1:23  epoch 3");
  deepStrictEqual(formatProgress(running, { width: 20, now }), " 420/1000  ETA 1:23");
  deepStrictEqual(formatProgress(running, { width: 12, now }), " 420/1000");
  deepStrictEqual(formatProgress(running, { width: 5, now }), " 420/");
  for (let width = 0; width <= 130; width++) {
    ok(formatProgress(running, { width, now }).length <= width, `width ${width}`);
  }
});

Deno.test("bar grows with the width between 10 and 40 cells", () => {
  const plain = { step: 5, total: 10, startedAt: 0 };
  // Without the bar: " 5/10  ? it/s  elapsed 0:00  ETA ?" is 34 columns; with a 10-cell bar and
  // its separator, 53: the bar takes the 7 spare columns. 0.5 · 17 cells = 8 cells + 4 eighths.
  const line = formatProgress(plain, { width: 60, now: 0 });
  deepStrictEqual(
    line,
    " 50% |" + "█".repeat(8) + "▌" + " ".repeat(8) + "|   5/10  ? it/s  elapsed 0:00  ETA ?",
  );
  deepStrictEqual(line.length, 60);
});

Deno.test("start, finish, slow rates, caller rates, resumed runs", () => {
  // Bars: 80 − 17 − 36 = 27 spare columns → 37 cells; 80 − 17 − 42 = 21 → 31 cells.
  deepStrictEqual(
    formatProgress({ step: 0, total: 50, startedAt: 0 }, { width: 80, now: 5000 }),
    "  0% |" + " ".repeat(37) + "|   0/50  ? it/s  elapsed 0:05  ETA ?",
  );
  deepStrictEqual(
    formatProgress({ step: 50, total: 50, startedAt: 0 }, { width: 80, now: 10_000 }),
    "100% |" + "█".repeat(31) + "|  50/50  5.00 it/s  elapsed 0:10  ETA 0:00",
  );
  // Past the bar, for the rate texts: 2 steps in 10 s is 0.2 it/s, shown as 5.00 s/it; ETA 48 / 0.2.
  const afterBar = (line: string) => line.slice(line.lastIndexOf("|") + 1);
  const slow = { step: 2, total: 50, startedAt: 0 };
  deepStrictEqual(
    afterBar(formatProgress(slow, { width: 80, now: 10_000 })),
    "   2/50  5.00 s/it  elapsed 0:10  ETA 4:00",
  );
  // The caller's rate and unit are shown as given; the ETA still follows the steps.
  deepStrictEqual(
    afterBar(formatProgress(slow, { width: 80, now: 10_000, rate: 1234.4, unit: "img/s" })),
    "   2/50  1234 img/s  elapsed 0:10  ETA 4:00",
  );
  // Resumed at step 500: 100 steps in 10 s → 10 it/s, 400 left → 40 s.
  const resumed = { step: 600, total: 1000, startedAt: 0, startStep: 500 };
  deepStrictEqual(
    afterBar(formatProgress(resumed, { width: 80, now: 10_000 })),
    "   600/1000  10.0 it/s  elapsed 0:10  ETA 0:40",
  );
});

Deno.test("the rate and ETA from rateFrom, elapsed from the start", () => {
  const afterBar = (line: string) => line.slice(line.lastIndexOf("|") + 1);
  // A first step that compiled for 100 s, then 9 steps in 3 s: 3 it/s, 90 left → 30 s; elapsed
  // counts the compile. From the start alone it would be 10 steps in 103 s: ETA 15:27.
  const compiled = { step: 10, total: 100, startedAt: 0, rateFrom: { step: 1, at: 100_000 } };
  deepStrictEqual(
    afterBar(formatProgress(compiled, { width: 80, now: 103_000 })),
    "   10/100  3.00 it/s  elapsed 1:43  ETA 0:30",
  );
  // At the origin itself no step has been timed yet.
  deepStrictEqual(
    afterBar(formatProgress({ ...compiled, step: 1 }, { width: 80, now: 100_000 })),
    "    1/100  ? it/s  elapsed 1:40  ETA ?",
  );
});

Deno.test("durations", () => {
  deepStrictEqual(formatDuration(0), "0:00");
  deepStrictEqual(formatDuration(59.9), "0:59");
  deepStrictEqual(formatDuration(754), "12:34");
  deepStrictEqual(formatDuration(3723), "1:02:03");
  deepStrictEqual(formatDuration(100 * 3600), "100:00:00");
});
