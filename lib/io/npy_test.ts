import { deepStrictEqual, throws } from "node:assert/strict";
import { npyBytes } from "../data/testing.ts";
import { parseNpy } from "./npy.ts";

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

Deno.test("npy: files written by NumPy itself (np.save v1, write_array v2)", () => {
  // np.save(f, np.arange(24, dtype=np.uint8).reshape(2, 2, 2, 3) * 10)
  const v1 = parseNpy(
    fromBase64(
      "k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIsIDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAChQeKDI8RlBaZG54goyWoKq0vsjS3OY=",
    ),
    "v1.npy",
  );
  deepStrictEqual(v1.dtype, "|u1");
  deepStrictEqual(v1.shape, [2, 2, 2, 3]);
  deepStrictEqual(Array.from(v1.data), Array.from({ length: 24 }, (_, i) => i * 10));
  // np.lib.format.write_array(f, np.array([1, -1], dtype=np.int64), version=(2, 0))
  const v2 = parseNpy(
    fromBase64(
      "k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAAAP//////////",
    ),
    "v2.npy",
  );
  deepStrictEqual(v2.shape, [2]);
  deepStrictEqual(Array.from(v2.data), [1, -1]);
});

Deno.test("npy: every supported dtype, versions 1–3, scalars and empty arrays", () => {
  const cases: [string, ArrayBufferView, number[]][] = [
    ["|u1", Uint8Array.of(0, 255), [0, 255]],
    ["|b1", Uint8Array.of(1, 0), [1, 0]],
    ["|i1", Int8Array.of(-128, 5), [-128, 5]],
    ["<u2", Uint16Array.of(65535, 1), [65535, 1]],
    ["<i2", Int16Array.of(-2, 3), [-2, 3]],
    ["<u4", Uint32Array.of(4e9, 1), [4e9, 1]],
    ["<i4", Int32Array.of(-7, 7), [-7, 7]],
    ["<i8", BigInt64Array.of(-3n, 2n ** 40n), [-3, 2 ** 40]],
    ["<u8", BigUint64Array.of(9n, 0n), [9, 0]],
    ["<f4", Float32Array.of(0.5, -1.25), [0.5, -1.25]],
    ["<f8", Float64Array.of(Math.PI, -0), [Math.PI, -0]],
  ];
  for (const [descr, values, expected] of cases) {
    for (const version of [1, 2, 3]) {
      const a = parseNpy(npyBytes(descr, [2], bytesOf(values), { version }), "x.npy");
      deepStrictEqual([a.dtype, a.shape, Array.from(a.data)], [descr, [2], expected], descr);
    }
  }
  deepStrictEqual(
    Array.from(parseNpy(npyBytes("<f4", [], bytesOf(Float32Array.of(2))), "s").data),
    [2],
  );
  deepStrictEqual(parseNpy(npyBytes("<f4", [0, 16], new Uint8Array()), "e").data.length, 0);
  // Trailing bytes past the payload are ignored; a 2-D shape reads in C order.
  const m = parseNpy(npyBytes("<i4", [2, 2], bytesOf(Int32Array.of(1, 2, 3, 4, 99))), "m");
  deepStrictEqual([m.shape, Array.from(m.data)], [[2, 2], [1, 2, 3, 4]]);
});

Deno.test("npy: bad files are refused with the file name and the fix", () => {
  const f4 = bytesOf(Float32Array.of(1, 2, 3, 4));
  const refuses = (bytes: Uint8Array, pattern: RegExp) =>
    throws(() => parseNpy(bytes, "data/bad.npy"), (err: Error) => {
      deepStrictEqual(err.message.startsWith("data/bad.npy: "), true, err.message);
      deepStrictEqual(pattern.test(err.message), true, err.message);
      return true;
    });
  refuses(new TextEncoder().encode("PK\x03\x04 not numpy at all"), /not a NumPy \.npy file/);
  refuses(npyBytes("<f4", [4], f4, { fortran: true }), /Fortran order.*ascontiguousarray/);
  refuses(npyBytes(">f4", [4], f4), /big-endian dtype '>f4'.*astype\('<f4'\)/);
  refuses(npyBytes("<c8", [2], f4), /unsupported dtype '<c8'/);
  refuses(npyBytes("<U3", [1], f4), /unsupported dtype '<U3'/);
  refuses(npyBytes("<f4", [5], f4), /truncated: shape \(5\) of <f4 needs 20 data bytes, found 16/);
  refuses(npyBytes("<f4", [4], f4).subarray(0, 40), /truncated \.npy header/);
  const structured = npyBytes("<f4", [4], f4);
  structured.set(new TextEncoder().encode("{'descr': [('a', '<f4')], "), 10);
  refuses(structured, /structured dtypes are not supported/);
  const v9 = npyBytes("<f4", [4], f4);
  v9[6] = 9;
  refuses(v9, /unsupported \.npy format version 9\.0/);
  // A big-endian single byte is no different from little-endian.
  deepStrictEqual(Array.from(parseNpy(npyBytes(">u1", [1], Uint8Array.of(7)), "b").data), [7]);
});
