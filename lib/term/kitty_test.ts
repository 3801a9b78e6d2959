import { deepStrictEqual, ok } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { encodeKitty, KITTY_CHUNK, kittyDelete } from "./kitty.ts";

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) % 256);

/** The escapes of a transmission: [keys, payload] each. */
function chunks(escape: string): [string, string][] {
  const parts = escape.split("\x1b\\");
  deepStrictEqual(parts.pop(), "", "ends with ST");
  return parts.map((p) => {
    ok(p.startsWith("\x1b_G"), JSON.stringify(p.slice(0, 8)));
    const [keys, payload] = p.slice(3).split(";");
    return [keys, payload];
  });
}

Deno.test("kitty bytes of a small payload: one escape with every key", () => {
  // base64 of 00 01 … 09 is "AAECAwQFBgcICQ==".
  deepStrictEqual(
    encodeKitty(Uint8Array.from({ length: 10 }, (_, i) => i), 7),
    "\x1b_Ga=T,f=100,q=2,C=1,i=7,m=0;AAECAwQFBgcICQ==\x1b\\",
  );
  deepStrictEqual(kittyDelete(7), "\x1b_Ga=d,d=I,i=7,q=2\x1b\\");
});

Deno.test("kitty chunks: at most 4096 base64 bytes, multiples of 4, m=1 until the last", () => {
  // n bytes are 4·⌈n/3⌉ base64 bytes: 3072 → 4096, one escape; 3073 → 4100, a second of 4;
  // 6144 → 8192, two full; 10000 → 13336 = 3·4096 + 1048.
  const cases: [number, number[]][] = [
    [3072, [4096]],
    [3073, [4096, 4]],
    [6144, [4096, 4096]],
    [10_000, [4096, 4096, 4096, 1048]],
  ];
  for (const [n, sizes] of cases) {
    const payload = bytes(n);
    const parts = chunks(encodeKitty(payload, 1));
    deepStrictEqual(parts.map(([, p]) => p.length), sizes, `chunk sizes for ${n} bytes`);
    parts.forEach(([keys, p], i) => {
      const last = i === parts.length - 1;
      ok(p.length <= KITTY_CHUNK && (last || p.length % 4 === 0), `chunk ${i} of ${n}`);
      const m = last ? "m=0" : "m=1";
      deepStrictEqual(keys, i === 0 ? `a=T,f=100,q=2,C=1,i=1,${m}` : `${m},q=2`);
    });
    // Reassembled and decoded by node's base64 (not the encoder's), the bytes come back.
    const joined = parts.map(([, p]) => p).join("");
    deepStrictEqual(new Uint8Array(Buffer.from(joined, "base64")), payload);
  }
});
