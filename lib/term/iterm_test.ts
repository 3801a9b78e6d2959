import { deepStrictEqual } from "node:assert/strict";
import { encodeIterm } from "./iterm.ts";

Deno.test("iTerm2 bytes: OSC 1337 File= with the size in bytes and pixels, BEL-terminated", () => {
  // base64 of 00 01 … 09 is "AAECAwQFBgcICQ==".
  deepStrictEqual(
    encodeIterm(Uint8Array.from({ length: 10 }, (_, i) => i), 32, 16),
    "\x1b]1337;File=inline=1;size=10;width=32px;height=16px;preserveAspectRatio=1:" +
      "AAECAwQFBgcICQ==\x07",
  );
});
