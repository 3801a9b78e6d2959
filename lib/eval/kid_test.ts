import { ok, throws } from "node:assert/strict";
import { mulberry32 } from "../util/rng.ts";
import { assertClose, randn } from "../nn/testing.ts";
import { type FeatureGroups, kernelDistance, standardize, standardizer } from "./kid.ts";

const single = (rows: number[], dim = 1): FeatureGroups => ({
  rows,
  dim,
  groups: [Array.from({ length: rows.length / dim }, (_, i) => i)],
});

const EXACT = { rtol: 1e-14, atol: 0 };

Deno.test("kid: hand-computed one-feature cases, one group and two", () => {
  // k(x, y) = (xy + 1)³. Within {0, 1}: k(0, 1) = 1. Within {1, 2}: k(1, 2) = 27.
  // Across: k(0, 1) = 1, k(0, 2) = 1, k(1, 1) = 8, k(1, 2) = 27, mean 9.25.
  assertClose([kernelDistance(single([0, 1]), single([1, 2]))], [1 + 27 - 2 * 9.25]);
  // Groups {0, 1} and {1, 2} against {1, 1}. Within the first set: the group pairs (g, g)
  // give 1 and 27, the mixed pairs 9.25 twice: 11.625. Within {1, 1}: 8. Across: group
  // {0, 1} gives mean(1, 1, 8, 8) = 4.5, group {1, 2} mean(8, 8, 27, 27) = 17.5: 11.
  const grouped: FeatureGroups = { rows: [0, 1, 1, 2], dim: 1, groups: [[0, 1], [2, 3]] };
  assertClose([kernelDistance(grouped, single([1, 1]))], [11.625 + 8 - 2 * 11], EXACT);
  // The dot product is divided by d: rows (x, 0) in 2-D give k = (xy / 2 + 1)³. Within
  // {0, 2}: 1; within {2, 4}: 125; across: 1, 1, 27, 125, mean 38.5.
  assertClose([kernelDistance(single([0, 0, 2, 0], 2), single([2, 0, 4, 0], 2))], [
    1 + 125 - 2 * 38.5,
  ], EXACT);
});

Deno.test("kid: a group with one row gives NaN; no groups or unequal sizes throw", () => {
  ok(Number.isNaN(kernelDistance(single([0, 1]), single([1]))));
  throws(() => kernelDistance(single([0, 1]), { rows: [], dim: 1, groups: [] }), /at least one/);
  throws(() => kernelDistance(single([0, 1]), single([0, 1, 2, 3], 2)), /feature sizes differ/);
});

/** `count` rows of `dim` features from class `c`'s Gaussian: mean c along every axis. */
const draw = (count: number, dim: number, c: number, seed: number) =>
  Array.from(randn(count * dim, seed, 0.5), (v) => v + 0.4 * c);

Deno.test("kid: unbiased — averaged over draws from one class mixture it is 0 within its error", () => {
  // Two sets from the same equal mixture of 3 classes, with unequal class sizes on one side
  // (as the real half B has): the mean over many draws must be 0 within 3 standard errors,
  // while the same pairs with the i = j terms left in (the biased estimate) stay above it.
  const dim = 4;
  const rand = mulberry32(9);
  const sizes = [[2, 5, 9], [3, 3, 3]];
  const kids: number[] = [];
  const biased: number[] = [];
  for (let trial = 0; trial < 400; trial++) {
    const [a, b] = sizes.map((counts, side) => {
      const rows: number[] = [];
      const groups = counts.map((count, c) => {
        const start = rows.length / dim;
        rows.push(...draw(count, dim, c, Math.floor(rand() * 2 ** 31) + side));
        return Array.from({ length: count }, (_, i) => start + i);
      });
      return { rows, dim, groups };
    });
    kids.push(kernelDistance(a, b));
    biased.push(vStatistic(a, b));
  }
  const mean = kids.reduce((x, y) => x + y, 0) / kids.length;
  const sd = Math.sqrt(kids.reduce((x, y) => x + (y - mean) ** 2, 0) / (kids.length - 1));
  const error = sd / Math.sqrt(kids.length);
  ok(Math.abs(mean) < 3 * error, `mean KID ${mean} ± ${error}`);
  const biasedMean = biased.reduce((x, y) => x + y, 0) / biased.length;
  ok(biasedMean > mean + 5 * error, `biased ${biasedMean} vs unbiased ${mean} ± ${error}`);
});

/** The biased estimate (pairs i = j included), straight from the definition, for contrast. */
function vStatistic(a: FeatureGroups, b: FeatureGroups): number {
  const k = (x: FeatureGroups, i: number, y: FeatureGroups, j: number) => {
    let dot = 0;
    for (let e = 0; e < x.dim; e++) dot += x.rows[i * x.dim + e] * y.rows[j * y.dim + e];
    return (dot / x.dim + 1) ** 3;
  };
  const e = (x: FeatureGroups, y: FeatureGroups) => {
    let sum = 0;
    for (const g of x.groups) {
      for (const h of y.groups) {
        let s = 0;
        for (const i of g) for (const j of h) s += k(x, i, y, j);
        sum += s / (g.length * h.length);
      }
    }
    return sum / (x.groups.length * y.groups.length);
  };
  return e(a, a) + e(b, b) - 2 * e(a, b);
}

Deno.test("kid: standardising by a reference's mean and population standard deviation", () => {
  // Feature 0: 1, 3, 5 (mean 3, std √(8/3)); feature 1 constant 7 (scale 1: it becomes 0).
  const rows = [1, 7, 3, 7, 5, 7];
  const s = standardizer(rows, 3, 2);
  assertClose(s.mean, [3, 7], EXACT);
  assertClose(s.inverseStd, [Math.sqrt(3 / 8), 1], EXACT);
  const r = Math.sqrt(3 / 2);
  assertClose(standardize(rows, s), [-r, 0, 0, 0, r, 0], EXACT);
  // Other rows use the reference's statistics.
  assertClose(standardize([3 + Math.sqrt(8 / 3), 8], s), [1, 1], EXACT);
});

const PYTHON = "/usr/bin/python3";
const hasNumpy =
  new Deno.Command(PYTHON, { args: ["-c", "import numpy"], stderr: "null" }).outputSync().success;

/**
 * numpy, f64, by weight matrices: W[i, j] = 1 / (G² |g| (|g| − 1)) for distinct rows of one
 * group, 1 / (G_a G_b |g| |h|) otherwise, 0 on the diagonal; KID = ΣWaa∘Kaa + ΣWbb∘Kbb − 2ΣWab∘Kab.
 */
const NUMPY_KID = `
import json, sys
import numpy as np
a, b = json.load(sys.stdin)
def weights(g, h, same):
    w = np.zeros((sum(map(len, g)), sum(map(len, h))))
    for p, gi in enumerate(g):
        for q, hj in enumerate(h):
            if same and p == q:
                block = (np.ones((len(gi), len(gi))) - np.eye(len(gi))) / (len(gi) * (len(gi) - 1))
            else:
                block = np.ones((len(gi), len(hj))) / (len(gi) * len(hj))
            w[np.ix_(gi, hj)] = block / (len(g) * len(h))
    return w
x = np.array(a["rows"], dtype=np.float64).reshape(-1, a["dim"])
y = np.array(b["rows"], dtype=np.float64).reshape(-1, b["dim"])
k = lambda u, v: (u @ v.T / u.shape[1] + 1) ** 3
kid = ((weights(a["groups"], a["groups"], True) * k(x, x)).sum()
       + (weights(b["groups"], b["groups"], True) * k(y, y)).sum()
       - 2 * (weights(a["groups"], b["groups"], False) * k(x, y)).sum())
print(repr(float(kid)))
`;

Deno.test({
  name: "kid: matches an independent numpy f64 computation on grouped 128-D features",
  ignore: !hasNumpy,
  async fn() {
    const dim = 128;
    // Classifier-like features: SiLU outputs, mostly small and positive.
    const silu = (v: number) => v / (1 + Math.exp(-v));
    const set = (sizes: number[], seed: number, shift: number): FeatureGroups => {
      const count = sizes.reduce((x, y) => x + y, 0);
      const rows = Array.from(randn(count * dim, seed), (v) => silu(v + shift));
      // Rows of a group are interleaved with the others' (not contiguous).
      const order = Array.from({ length: count }, (_, i) => (i * 7) % count);
      let at = 0;
      const groups = sizes.map((n) => order.slice(at, at += n));
      return { rows, dim, groups };
    };
    for (
      const [a, b] of [
        [set([40], 1, 0), set([16], 2, 0.3)],
        [set([31, 2, 9, 17], 3, 0), set([16, 16, 16, 16], 4, 0.1)],
      ]
    ) {
      const run = new Deno.Command(PYTHON, {
        args: ["-c", NUMPY_KID],
        stdin: "piped",
        stdout: "piped",
      })
        .spawn();
      const writer = run.stdin.getWriter();
      await writer.write(new TextEncoder().encode(JSON.stringify([a, b])));
      await writer.close();
      const out = await run.output();
      ok(out.success, "numpy reference failed");
      const expected = Number(new TextDecoder().decode(out.stdout));
      assertClose([kernelDistance(a, b)], [expected], { rtol: 1e-12, atol: 1e-15 });
    }
  },
});
