/**
 * OKLab (Björn Ottosson, "A perceptual color space for image processing", 2020): the space in
 * which palette colours are compared, clustered and dithered. Euclidean distance in OKLab tracks
 * perceived difference far better than RGB distance (a dark blue and a black are close in RGB
 * but not to the eye). Conversions use Ottosson's linear-sRGB matrices and the sRGB transfer
 * curve (IEC 61966-2-1).
 */

/** A colour as three 8-bit sRGB channels. */
export type Rgb = readonly [number, number, number];

/** L (lightness, 0…1), a (green–red), b (blue–yellow). */
export type Lab = [number, number, number];

/** sRGB channel in [0, 1] → linear light. */
export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** Linear light → sRGB channel in [0, 1] (unclamped). */
export function linearToSrgb(c: number): number {
  return c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
}

/** 8-bit channel → linear light, tabulated (every conversion of a pixel goes through it). */
const LINEAR_OF_BYTE = Float64Array.from({ length: 256 }, (_, i) => srgbToLinear(i / 255));

/** Linear sRGB (any real values) → OKLab. */
export function oklabFromLinear(r: number, g: number, b: number): Lab {
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [
    0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
    1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
    0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s,
  ];
}

/** OKLab → linear sRGB (may leave [0, 1] for colours outside the sRGB gamut). */
export function linearFromOklab(L: number, a: number, b: number): Lab {
  const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
  const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
  const s = (L - 0.0894841775 * a - 1.2914855480 * b) ** 3;
  return [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s,
  ];
}

/** An 8-bit sRGB colour in OKLab. */
export function oklabFromRgb(r: number, g: number, b: number): Lab {
  return oklabFromLinear(LINEAR_OF_BYTE[r], LINEAR_OF_BYTE[g], LINEAR_OF_BYTE[b]);
}

/** The nearest 8-bit sRGB colour to an OKLab colour (channels clamped to the gamut). */
export function rgbFromOklab(L: number, a: number, b: number): Rgb {
  const byte = (v: number) => Math.round(Math.min(1, Math.max(0, linearToSrgb(v))) * 255);
  const [r, g, bl] = linearFromOklab(L, a, b);
  return [byte(r), byte(g), byte(bl)];
}
