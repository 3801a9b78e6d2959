/**
 * Kernel inception distance (KID, Bińkowski et al. 2018), here in the sprite classifier's
 * features: the squared maximum mean discrepancy between two feature distributions under the
 * cubic polynomial kernel
 *
 *   k(x, y) = (xᵀy / d + 1)³,   KID = E k(x, x′) + E k(y, y′) − 2 E k(x, y)
 *
 * estimated without bias: the within-set expectations average over pairs of distinct rows.
 * Unlike FID, whose estimate grows as the sample count shrinks, its expected value does not
 * depend on how many sprites are compared, so small per-class samples can be judged against
 * its real-vs-real floor at the same count without a bias of their own.
 *
 * A set may be split into groups (classes) that count equally, as "all classes" does: then each
 * expectation is the mean over group pairs of the group-pair means, which is again unbiased
 * for the equal mixture of the groups. All sums are in f64.
 *
 * The kernel assumes features of order 1 (Inception's pooled activations are). The sprite
 * classifier's are not: their scale is whatever training left, and cubed it makes the estimate
 * swing wildly. So `eval` first standardises every feature by the real sprites' mean and
 * standard deviation ({@link standardizer}), which makes KID independent of that scale.
 */

/** Rows of `dim` features, split into groups of row indices that are weighted equally. */
export interface FeatureGroups {
  rows: ArrayLike<number>;
  dim: number;
  groups: readonly (readonly number[])[];
}

/** The mean of k(a_i, b_j) over i in `ai`, j in `bj`, leaving out i = j when `distinct`. */
function pairMean(
  a: FeatureGroups,
  ai: readonly number[],
  b: FeatureGroups,
  bj: readonly number[],
  distinct: boolean,
): number {
  const d = a.dim;
  let sum = 0;
  let pairs = 0;
  for (const i of ai) {
    for (const j of bj) {
      if (distinct && i === j) continue;
      let dot = 0;
      for (let e = 0; e < d; e++) dot += a.rows[i * d + e] * b.rows[j * d + e];
      sum += (dot / d + 1) ** 3;
      pairs++;
    }
  }
  return sum / pairs;
}

/** E k over pairs drawn from the equal mixture of the groups of `a` and of `b`. */
function expectation(a: FeatureGroups, b: FeatureGroups, within: boolean): number {
  let sum = 0;
  for (const [g, ag] of a.groups.entries()) {
    for (const [h, bh] of b.groups.entries()) sum += pairMean(a, ag, b, bh, within && g === h);
  }
  return sum / (a.groups.length * b.groups.length);
}

/**
 * The unbiased KID estimate between `a` and `b`; NaN when a group has fewer than 2 rows (no
 * pair of distinct rows). It can be slightly negative when the two are alike.
 */
export function kernelDistance(a: FeatureGroups, b: FeatureGroups): number {
  if (a.dim !== b.dim) throw new RangeError(`feature sizes differ: ${a.dim} and ${b.dim}`);
  if (a.groups.length === 0 || b.groups.length === 0) {
    throw new RangeError("kernelDistance needs at least one group on each side");
  }
  if ([...a.groups, ...b.groups].some((g) => g.length < 2)) return NaN;
  return expectation(a, a, true) + expectation(b, b, true) - 2 * expectation(a, b, false);
}

/** Per-feature mean and 1 / standard deviation of a reference set. */
export interface Standardizer {
  mean: Float64Array;
  inverseStd: Float64Array;
}

/**
 * The mean and population standard deviation of each of `dim` features over `count` rows; a
 * constant feature gets a scale of 1 (it becomes 0 everywhere).
 */
export function standardizer(rows: ArrayLike<number>, count: number, dim: number): Standardizer {
  const mean = new Float64Array(dim);
  const inverseStd = new Float64Array(dim);
  for (let r = 0; r < count; r++) for (let e = 0; e < dim; e++) mean[e] += rows[r * dim + e];
  mean.forEach((v, e) => (mean[e] = v / count));
  for (let r = 0; r < count; r++) {
    for (let e = 0; e < dim; e++) inverseStd[e] += (rows[r * dim + e] - mean[e]) ** 2;
  }
  inverseStd.forEach((v, e) => (inverseStd[e] = v > 0 ? 1 / Math.sqrt(v / count) : 1));
  return { mean, inverseStd };
}

/** (x − mean) / std of every row of `rows`, in f64. */
export function standardize(rows: ArrayLike<number>, s: Standardizer): Float64Array {
  const dim = s.mean.length;
  return Float64Array.from(
    { length: rows.length },
    (_, i) => (rows[i] - s.mean[i % dim]) * s.inverseStd[i % dim],
  );
}
