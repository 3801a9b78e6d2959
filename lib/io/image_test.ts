import { deepEqual, equal } from "node:assert/strict";
import { imageFromTensor, snapAlpha } from "./image.ts";

Deno.test("imageFromTensor maps [−1,1] planes to RGBA bytes, opaque for 3 channels", () => {
  // Two pixels, planar [C,H,W]: R = (−1, 1), G = (0, 0.5), B = (1, −2 → clamped −1).
  const rgb = imageFromTensor([-1, 1, 0, 0.5, 1, -2], 3, 1, 2);
  deepEqual([...rgb.data], [0, 128, 255, 255, 255, 191, 0, 255]);
});

Deno.test("snapAlpha makes alpha binary at the midpoint and clears hidden colour", () => {
  const image = {
    width: 4,
    height: 1,
    data: new Uint8Array([
      ...[10, 20, 30, 127],
      ...[10, 20, 30, 128],
      ...[40, 50, 60, 0],
      ...[70, 80, 90, 255],
    ]),
  };
  const snapped = snapAlpha(image);
  deepEqual([...snapped.data], [
    ...[0, 0, 0, 0],
    ...[10, 20, 30, 255],
    ...[0, 0, 0, 0],
    ...[70, 80, 90, 255],
  ]);
  equal(image.data[3], 127, "the input is left as it was");
});
