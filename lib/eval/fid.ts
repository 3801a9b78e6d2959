/**
 * The Fréchet distance between two feature distributions, each summarised by its mean and
 * covariance (FID, Heusel et al. 2017, here in the sprite classifier's features):
 *
 *   d² = |μa − μb|² + tr(Σa) + tr(Σb) − 2 tr((Σa Σb)^½)
 *
 * tr((Σa Σb)^½) = tr((S Σb S)^½) with S = Σa^½, and S Σb S is symmetric positive
 * semi-definite, so two symmetric eigendecompositions (cyclic Jacobi, f64) give it exactly;
 * 128×128 takes a few milliseconds. Rank-deficient covariances (fewer sprites than feature
 * dimensions) are fine: negative round-off eigenvalues are clamped to 0.
 */

export interface Moments {
  dim: number;
  mean: Float64Array;
  /** dim × dim, row-major. */
  cov: Float64Array;
}

/**
 * Mean and unbiased covariance of `count` rows of `dim` features. Optional per-row weights
 * (e.g. 1 / class size, to weigh every class equally) use the reliability-weights estimate
 * Σ wᵢ(xᵢ − μ)(xᵢ − μ)ᵀ / (1 − Σ wᵢ²) with Σ wᵢ = 1: the (n − 1) form for equal weights.
 */
export function moments(
  rows: ArrayLike<number>,
  count: number,
  dim: number,
  weights?: ArrayLike<number>,
): Moments {
  if (count < 2 || rows.length < count * dim) {
    throw new RangeError(`moments need at least 2 rows of ${dim} features, got ${count}`);
  }
  const w = new Float64Array(count);
  for (let i = 0; i < count; i++) w[i] = weights ? weights[i] : 1;
  const total = w.reduce((a, b) => a + b, 0);
  w.forEach((v, i) => (w[i] = v / total));
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < dim; d++) mean[d] += w[i] * rows[i * dim + d];
  }
  const cov = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < dim; d++) centred[d] = rows[i * dim + d] - mean[d];
    for (let r = 0; r < dim; r++) {
      const s = w[i] * centred[r];
      for (let c = r; c < dim; c++) cov[r * dim + c] += s * centred[c];
    }
  }
  const norm = 1 / (1 - w.reduce((a, v) => a + v * v, 0));
  for (let r = 0; r < dim; r++) {
    for (let c = r; c < dim; c++) {
      cov[r * dim + c] *= norm;
      cov[c * dim + r] = cov[r * dim + c];
    }
  }
  return { dim, mean, cov };
}

/**
 * Eigenvalues and eigenvectors (the columns of `vectors`, row-major n × n) of a symmetric
 * matrix, by cyclic Jacobi rotations until the off-diagonal part is negligible.
 */
export function symmetricEigen(
  matrix: ArrayLike<number>,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const scale = a.reduce((s, x) => s + x * x, 0);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off <= 1e-24 * scale) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // The rotation that zeroes a[p][q] (Numerical Recipes' stable form).
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const kp = a[k * n + p];
          const kq = a[k * n + q];
          a[k * n + p] = c * kp - s * kq;
          a[k * n + q] = s * kp + c * kq;
        }
        for (let k = 0; k < n; k++) {
          const pk = a[p * n + k];
          const qk = a[q * n + k];
          a[p * n + k] = c * pk - s * qk;
          a[q * n + k] = s * pk + c * qk;
        }
        for (let k = 0; k < n; k++) {
          const kp = v[k * n + p];
          const kq = v[k * n + q];
          v[k * n + p] = c * kp - s * kq;
          v[k * n + q] = s * kp + c * kq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]), vectors: v };
}

/** The symmetric square root V diag(√max(λ, 0)) Vᵀ of a symmetric PSD matrix. */
function sqrtPsd(matrix: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  const roots = values.map((l) => Math.sqrt(Math.max(0, l)));
  const out = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let c = r; c < n; c++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += vectors[r * n + k] * roots[k] * vectors[c * n + k];
      out[r * n + c] = acc;
      out[c * n + r] = acc;
    }
  }
  return out;
}

/** Row-major n × n product. */
function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < n; k++) {
      const x = a[r * n + k];
      if (x === 0) continue;
      for (let c = 0; c < n; c++) out[r * n + c] += x * b[k * n + c];
    }
  }
  return out;
}

/** The squared Fréchet distance d² above (what FID reports). */
export function frechetDistance(a: Moments, b: Moments): number {
  if (a.dim !== b.dim) throw new RangeError(`feature sizes differ: ${a.dim} and ${b.dim}`);
  const n = a.dim;
  let meanTerm = 0;
  let traces = 0;
  for (let i = 0; i < n; i++) {
    meanTerm += (a.mean[i] - b.mean[i]) ** 2;
    traces += a.cov[i * n + i] + b.cov[i * n + i];
  }
  const s = sqrtPsd(a.cov, n);
  const inner = matmul(matmul(s, b.cov, n), s, n);
  // Symmetrise away round-off before the eigendecomposition.
  for (let r = 0; r < n; r++) {
    for (let c = r + 1; c < n; c++) {
      const m = (inner[r * n + c] + inner[c * n + r]) / 2;
      inner[r * n + c] = m;
      inner[c * n + r] = m;
    }
  }
  const crossTrace = symmetricEigen(inner, n).values.reduce(
    (acc, l) => acc + Math.sqrt(Math.max(0, l)),
    0,
  );
  // Round-off can leave a tiny negative value for identical distributions.
  return Math.max(0, meanTerm + traces - 2 * crossTrace);
}
