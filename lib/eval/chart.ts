/**
 * Small line charts drawn straight into an {@link RgbaImage} (no plotting library): axes,
 * grid lines, one polyline with square markers per series, dashed horizontal reference lines,
 * a legend, and labels in a built-in 3×5 pixel font drawn at 2×.
 */

import type { RgbaImage } from "../io/image.ts";

export type Rgb = readonly [number, number, number];

/** Distinct, colour-blind-friendly series colours (Okabe–Ito, then greys). */
export const PALETTE: readonly Rgb[] = [
  [230, 159, 0],
  [86, 180, 233],
  [0, 158, 115],
  [213, 94, 0],
  [0, 114, 178],
  [204, 121, 167],
  [240, 228, 66],
  [120, 120, 120],
  [170, 60, 60],
  [60, 60, 170],
];
export const BLACK: Rgb = [0, 0, 0];

export interface Series {
  name: string;
  color: Rgb;
  /** One value per x position; NaN leaves a gap. */
  values: readonly number[];
  /** Line thickness in pixels (default 2). */
  width?: number;
}

/** A constant drawn as a dashed line across the plot (a floor or a ceiling). */
export interface Reference {
  name: string;
  color: Rgb;
  value: number;
}

export interface LineChart {
  title: string;
  xLabel: string;
  x: readonly number[];
  series: readonly Series[];
  references?: readonly Reference[];
  /** The y range; default 0 … a round number above the largest value. */
  yMin?: number;
  yMax?: number;
}

/**
 * 3×5 glyphs, each row an octal digit (4 = left pixel, 2 = middle, 1 = right). Lower case
 * is drawn as upper case; anything missing as "?".
 */
const FONT: Readonly<Record<string, string>> = {
  "0": "75557",
  "1": "26227",
  "2": "71747",
  "3": "71317",
  "4": "55711",
  "5": "74717",
  "6": "74757",
  "7": "71122",
  "8": "75757",
  "9": "75717",
  A: "25755",
  B: "65656",
  C: "34443",
  D: "65556",
  E: "74647",
  F: "74644",
  G: "34553",
  H: "55755",
  I: "72227",
  J: "11152",
  K: "55655",
  L: "44447",
  M: "57755",
  N: "65555",
  O: "25552",
  P: "65644",
  Q: "25563",
  R: "65655",
  S: "34216",
  T: "72222",
  U: "55557",
  V: "55552",
  W: "55775",
  X: "55255",
  Y: "55222",
  Z: "71247",
  " ": "00000",
  ".": "00002",
  ",": "00024",
  ":": "02020",
  "-": "00700",
  "+": "02720",
  "=": "07070",
  "/": "11244",
  "(": "24442",
  ")": "21112",
  "%": "51245",
  "_": "00007",
  "?": "71302",
};

const TEXT_SCALE = 2;
/** Horizontal advance per character: 3 pixels and a 1-pixel gap, scaled. */
const CHAR_WIDTH = 4 * TEXT_SCALE;
const TEXT_HEIGHT = 5 * TEXT_SCALE;

function blank(width: number, height: number): RgbaImage {
  return { width, height, data: new Uint8Array(width * height * 4).fill(255) };
}

function setPixel(img: RgbaImage, x: number, y: number, c: Rgb): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const i = (Math.floor(y) * img.width + Math.floor(x)) * 4;
  img.data.set(c, i);
  img.data[i + 3] = 255;
}

function fillRect(img: RgbaImage, x: number, y: number, w: number, h: number, c: Rgb): void {
  for (let yy = Math.round(y); yy < Math.round(y + h); yy++) {
    for (let xx = Math.round(x); xx < Math.round(x + w); xx++) setPixel(img, xx, yy, c);
  }
}

/** Draws `text` with its top-left corner at (x, y). */
function drawText(img: RgbaImage, text: string, x: number, y: number, c: Rgb): void {
  [...text.toUpperCase()].forEach((ch, k) => {
    const rows = FONT[ch] ?? FONT["?"];
    for (let r = 0; r < 5; r++) {
      const bits = Number(rows[r]);
      for (let col = 0; col < 3; col++) {
        if (bits & (4 >> col)) {
          fillRect(
            img,
            x + k * CHAR_WIDTH + col * TEXT_SCALE,
            y + r * TEXT_SCALE,
            TEXT_SCALE,
            TEXT_SCALE,
            c,
          );
        }
      }
    }
  });
}

/** A line `width` pixels thick from (x0, y0) to (x1, y1); dashed: 6 px on, 6 px off. */
function drawLine(
  img: RgbaImage,
  [x0, y0]: [number, number],
  [x1, y1]: [number, number],
  c: Rgb,
  width: number,
  dashed: boolean,
): void {
  const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
  for (let s = 0; s <= steps; s++) {
    if (dashed && Math.floor(s / 6) % 2 === 1) continue;
    const x = x0 + ((x1 - x0) * s) / steps;
    const y = y0 + ((y1 - y0) * s) / steps;
    fillRect(img, x - width / 2, y - width / 2, width, width, c);
  }
}

/** A round step for about five ticks over [0, span]: 1, 2, 2.5 or 5 × 10^k. */
function tickStep(span: number): number {
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
}

/** The fewest decimals that show every multiple of `step` exactly (at most 6). */
function decimalsFor(step: number): number {
  let d = 0;
  while (d < 6 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-6) d++;
  return d;
}

/** Above this many x values, points get no markers and the axis only spread-out labels. */
const MAX_X_TICKS = 8;

export function drawLineChart(chart: LineChart, width = 720, height = 400): RgbaImage {
  const img = blank(width, height);
  const references = chart.references ?? [];
  const legend = [...chart.series, ...references];
  const legendWidth = 64 + CHAR_WIDTH * Math.max(...legend.map((s) => s.name.length), 4);
  const finite = [
    ...chart.series.flatMap((s) => s.values.filter(Number.isFinite)),
    ...references.map((r) => r.value).filter(Number.isFinite),
  ];
  const yMin = chart.yMin ?? 0;
  const top = chart.yMax ?? Math.max(yMin + 1e-9, ...finite);
  const step = tickStep(top - yMin);
  const yMax = chart.yMax ?? yMin + Math.ceil((top - yMin) / step - 1e-9) * step;
  const decimals = decimalsFor(step);
  const ticks = Array.from(
    { length: Math.floor((yMax - yMin) / step + 1e-9) + 1 },
    (_, i) => (yMin + i * step).toFixed(decimals),
  );
  const left = 16 + CHAR_WIDTH * Math.max(...ticks.map((t) => t.length));
  const plot = { left, top: 40, right: width - legendWidth, bottom: height - 56 };
  const xs = chart.x;
  const xLo = Math.min(...xs);
  const xHi = Math.max(...xs);
  const px = (v: number) =>
    xHi === xLo
      ? (plot.left + plot.right) / 2
      : plot.left + 24 + ((v - xLo) / (xHi - xLo)) * (plot.right - plot.left - 48);
  const py = (v: number) => plot.bottom - ((v - yMin) / (yMax - yMin)) * (plot.bottom - plot.top);

  drawText(img, chart.title, plot.left, 12, BLACK);
  const grey: Rgb = [220, 220, 220];
  const dark: Rgb = [90, 90, 90];
  for (const t of ticks) {
    const y = py(Number(t));
    drawLine(img, [plot.left, y], [plot.right, y], grey, 1, false);
    drawText(img, t, plot.left - 8 - t.length * CHAR_WIDTH, y - TEXT_HEIGHT / 2, dark);
  }
  // Dense series (a loss curve) get up to 8 labelled ticks; short ones one per point.
  const labelled = xs.length <= MAX_X_TICKS
    ? xs
    : Array.from({ length: MAX_X_TICKS }, (_, i) =>
      xs[Math.round((i * (xs.length - 1)) / (MAX_X_TICKS - 1))]);
  for (const v of labelled) {
    const text = String(v);
    drawLine(img, [px(v), plot.bottom], [px(v), plot.bottom + 5], dark, 1, false);
    drawText(img, text, px(v) - (text.length * CHAR_WIDTH) / 2, plot.bottom + 10, dark);
  }
  drawLine(img, [plot.left, plot.top], [plot.left, plot.bottom], dark, 1, false);
  drawLine(img, [plot.left, plot.bottom], [plot.right, plot.bottom], dark, 1, false);
  const xLabelWidth = chart.xLabel.length * CHAR_WIDTH;
  drawText(img, chart.xLabel, (plot.left + plot.right - xLabelWidth) / 2, height - 22, dark);

  for (const r of references) {
    if (Number.isFinite(r.value)) {
      drawLine(img, [plot.left, py(r.value)], [plot.right, py(r.value)], r.color, 2, true);
    }
  }
  for (const s of chart.series) {
    const w = s.width ?? 2;
    const points = s.values.map((v, i) => [px(xs[i]), py(v)] as [number, number]);
    points.forEach(([x, y], i) => {
      if (!Number.isFinite(s.values[i])) return;
      if (i + 1 < points.length && Number.isFinite(s.values[i + 1])) {
        drawLine(img, [x, y], points[i + 1], s.color, w, false);
      }
      if (xs.length <= MAX_X_TICKS) {
        fillRect(img, x - w - 2, y - w - 2, 2 * w + 4, 2 * w + 4, s.color);
      }
    });
  }
  legend.forEach((s, k) => {
    const y = plot.top + k * (TEXT_HEIGHT + 8) + TEXT_HEIGHT / 2;
    const dashed = !("values" in s);
    drawLine(img, [plot.right + 16, y], [plot.right + 40, y], s.color, 2, dashed);
    drawText(img, s.name, plot.right + 48, y - TEXT_HEIGHT / 2, BLACK);
  });
  return img;
}
