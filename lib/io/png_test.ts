import { deepStrictEqual, ok } from "node:assert/strict";
import { decodePng, encodePng } from "./png.ts";

const img = { width: 2, height: 1, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) };

Deno.test("png: no timestamp, so the same pixels give the same bytes; alpha survives", async () => {
  const first = await encodePng(img);
  await new Promise((r) => setTimeout(r, 1100)); // the encoder's clock has 1 s resolution
  deepStrictEqual(await encodePng(img), first);
  ok(!new TextDecoder("latin1").decode(first).includes("tEXt"));
  deepStrictEqual(await decodePng(first, "x.png"), img);
});

Deno.test("png: a file that is not a PNG is refused by name", async () => {
  let message = "";
  await decodePng(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), "bad.png").catch((e) =>
    message = e.message
  );
  deepStrictEqual(message, "bad.png: not a PNG file");
});
