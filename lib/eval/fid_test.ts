import { ok } from "node:assert/strict";
import { assertClose, randn } from "../nn/testing.ts";
import { frechetDistance, type Moments, moments, symmetricEigen } from "./fid.ts";

/** A random orthogonal n × n matrix (Gram–Schmidt on Gaussian columns), row-major. */
function orthogonal(n: number, seed: number): Float64Array {
  const g = randn(n * n, seed);
  const q = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const col = Float64Array.from({ length: n }, (_, r) => g[r * n + c]);
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let r = 0; r < n; r++) dot += col[r] * q[r * n + p];
      for (let r = 0; r < n; r++) col[r] -= dot * q[r * n + p];
    }
    const norm = Math.hypot(...col);
    for (let r = 0; r < n; r++) q[r * n + c] = col[r] / norm;
  }
  return q;
}

/** Q diag(d) Qᵀ. */
function conjugate(q: Float64Array, d: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += q[r * n + k] * d[k] * q[c * n + k];
      out[r * n + c] = acc;
    }
  }
  return out;
}

const gaussian = (
  cov: Float64Array,
  n: number,
  mean: Float64Array = new Float64Array(n),
): Moments => ({
  dim: n,
  mean,
  cov,
});

Deno.test("fid: identical feature sets give 0, also with fewer samples than dimensions", () => {
  for (const [count, dim] of [[300, 16], [10, 128]]) {
    const rows = randn(count * dim, count, 2);
    const m = moments(rows, count, dim);
    const d = frechetDistance(m, moments(rows, count, dim));
    const trace = m.cov.reduce((acc, v, i) => acc + (i % (dim + 1) === 0 ? v : 0), 0);
    ok(d < 1e-9 * trace, `FID ${d} for identical sets of ${count} × ${dim}`);
  }
});

Deno.test("fid: a mean shift of the same samples gives |δ|²", () => {
  const count = 200;
  const dim = 12;
  const rows = randn(count * dim, 4);
  const delta = randn(dim, 5, 0.7);
  const shifted = rows.map((v, i) => v + delta[i % dim]);
  const expected = delta.reduce((acc, v) => acc + v * v, 0);
  assertClose([frechetDistance(moments(rows, count, dim), moments(shifted, count, dim))], [
    expected,
  ], {
    rtol: 1e-9,
    atol: 0,
    label: "mean shift",
  });
});

Deno.test("fid: covariance closed forms (diagonal, rotated, and against the identity)", () => {
  const n = 24;
  const a = Float64Array.from(randn(n, 6), (v) => 0.5 + Math.abs(v)); // standard deviations
  const b = Float64Array.from(randn(n, 7), (v) => 0.5 + Math.abs(v));
  const sumSq = (f: (i: number) => number) =>
    Array.from({ length: n }, (_, i) => f(i) ** 2).reduce((x, y) => x + y);
  const diag = (s: Float64Array) => {
    const m = new Float64Array(n * n);
    s.forEach((v, i) => (m[i * n + i] = v * v));
    return m;
  };
  const mean = randn(n, 8);
  // N(μ, diag a²) vs N(0, diag b²): |μ|² + Σ (aᵢ − bᵢ)².
  assertClose(
    [frechetDistance(gaussian(diag(a), n, mean), gaussian(diag(b), n))],
    [sumSq((i) => mean[i]) + sumSq((i) => a[i] - b[i])],
    { rtol: 1e-9, atol: 0, label: "diagonal" },
  );
  // The same scalings in a random orthonormal basis (commuting, but full matrices).
  const q = orthogonal(n, 9);
  const sq = (s: Float64Array) => s.map((v) => v * v);
  assertClose(
    [frechetDistance(gaussian(conjugate(q, sq(a), n), n), gaussian(conjugate(q, sq(b), n), n))],
    [sumSq((i) => a[i] - b[i])],
    { rtol: 1e-9, atol: 0, label: "rotated" },
  );
  // N(0, Σ) vs N(0, I) with Σ of eigenvalues λ: Σ (√λᵢ − 1)².
  assertClose(
    [frechetDistance(
      gaussian(conjugate(q, sq(a), n), n),
      gaussian(diag(new Float64Array(n).fill(1)), n),
    )],
    [sumSq((i) => a[i] - 1)],
    { rtol: 1e-9, atol: 0, label: "against the identity" },
  );
});

Deno.test("fid: Jacobi eigendecomposition reconstructs a symmetric matrix", () => {
  const n = 40;
  const g = randn(n * n, 10);
  const s = Float64Array.from(
    { length: n * n },
    (_, i) => g[i] + g[(i % n) * n + Math.floor(i / n)],
  );
  const { values, vectors } = symmetricEigen(s, n);
  const rebuilt = conjugate(vectors, values, n);
  assertClose(rebuilt, s, { rtol: 0, atol: 1e-10, label: "V Λ Vᵀ" });
  const identity = conjugate(vectors, new Float64Array(n).fill(1), n);
  assertClose(identity, identity.map((_, i) => (i % (n + 1) === 0 ? 1 : 0)), {
    rtol: 0,
    atol: 1e-12,
    label: "V Vᵀ",
  });
});

Deno.test("fid: equal class weights match the mixture of the classes' moments", () => {
  // Class 0 has 3× the rows of class 1; weights 1/count make the moments a 50/50 mixture,
  // i.e. those of the rows with class 1 repeated three times (up to the n − 1 normalisation).
  const dim = 3;
  const c0 = randn(30 * dim, 11);
  const c1 = randn(10 * dim, 12, 2).map((v) => v + 3);
  const rows = Float64Array.from([...c0, ...c1]);
  const weights = Array.from({ length: 40 }, (_, i) => (i < 30 ? 1 / 30 : 1 / 10));
  const weighted = moments(rows, 40, dim, weights);
  const repeated = Float64Array.from([...c0, ...c1, ...c1, ...c1]);
  const plain = moments(repeated, 60, dim);
  assertClose(weighted.mean, plain.mean, { rtol: 1e-12, atol: 1e-12, label: "mean" });
  // Same mixture covariance; only the bias corrections differ (1 − Σw² vs (n−1)/n).
  const ratio = (1 - weights.reduce((a, w) => a + (w / 2) ** 2, 0)) / (59 / 60);
  assertClose(weighted.cov.map((v) => v * ratio), plain.cov, {
    rtol: 1e-9,
    atol: 1e-12,
    label: "cov",
  });
});
