/**
 * The cosine noise schedule of the original (T = 1000, s = 0.008, β clamped to
 * [1e-4, 0.999], everything else recomputed from the clamped β), in f64, and the
 * per-step coefficients of the samplers over a (possibly respaced) subsequence
 * of timesteps.
 *
 * Every sampler reduces to one update, x' = A·x0 + B·x + C·x0_prev + σ·z with x0
 * clamped to [−1, 1] and x0_prev the previous step's x0, so a single GPU kernel
 * runs any of them; only A, B, C, σ differ (C ≠ 0 only for DPM-Solver++'s
 * second-order steps, σ ≠ 0 only for the stochastic ones).
 */

export interface Schedule {
  T: number;
  betas: Float64Array;
  alphaBar: Float64Array;
}

export function cosineSchedule(T = 1000, s = 0.008): Schedule {
  const f = (t: number) => Math.cos(((t / T + s) / (1 + s)) * Math.PI / 2) ** 2;
  const f0 = f(0);
  const betas = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const raw = 1 - (f(t + 1) / f0) / (f(t) / f0);
    betas[t] = Math.min(0.999, Math.max(1e-4, raw));
  }
  const alphaBar = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    prod *= 1 - betas[t];
    alphaBar[t] = prod;
  }
  return { T, betas, alphaBar };
}

/** Every sampler there is; front ends list and validate against this. */
export const SAMPLERS = ["ddpm", "ddim", "dpm++", "dpm++sde"] as const;

export type SamplerKind = typeof SAMPLERS[number];

/**
 * One reverse step: the model sees timestep `t`; the update is
 * x' = coefX0·x0 + coefX·x + coefPrevX0·x0_prev + sigma·z.
 */
export interface SamplerStep {
  t: number;
  sqrtAlphaBar: number;
  sqrtOneMinusAlphaBar: number;
  coefX0: number;
  coefX: number;
  /** The weight of the previous step's x0: DPM-Solver++'s second-order term, else 0. */
  coefPrevX0: number;
  sigma: number;
}

/** `steps` timesteps evenly spread over [0, T−1], both ends included, ascending. */
export function spacedTimesteps(T: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new RangeError(`steps must be 1…${T}`);
  }
  if (steps === 1) return [T - 1];
  return Array.from({ length: steps }, (_, i) => Math.round((i * (T - 1)) / (steps - 1)));
}

/**
 * The reverse steps in the order they run (high t first). DDPM over all T steps
 * is exactly the original's ancestral sampler; over fewer steps it is the
 * respaced DDPM (β' = 1 − ᾱ_t/ᾱ_prev). DDIM uses σ = eta·√((1−ᾱ_prev)/(1−ᾱ)·(1−ᾱ/ᾱ_prev))
 * and recomputes ε from the clamped x0 (so its update is also linear in x0 and x).
 */
export function samplerSteps(
  sched: Schedule,
  opts: { sampler: SamplerKind; steps: number; eta?: number },
): SamplerStep[] {
  if (opts.sampler === "dpm++" || opts.sampler === "dpm++sde") {
    return dpmSolverSteps(sched, opts.steps, opts.sampler === "dpm++sde");
  }
  const ts = spacedTimesteps(sched.T, opts.steps);
  const eta = opts.eta ?? 0;
  const out: SamplerStep[] = [];
  for (let i = ts.length - 1; i >= 0; i--) {
    const t = ts[i];
    const ab = sched.alphaBar[t];
    const abPrev = i > 0 ? sched.alphaBar[ts[i - 1]] : 1;
    const base = { t, sqrtAlphaBar: Math.sqrt(ab), sqrtOneMinusAlphaBar: Math.sqrt(1 - ab) };
    if (opts.sampler === "ddpm") {
      // At full spacing β' is the schedule's own β_t; respaced, it is implied by ᾱ.
      const beta = ts.length === sched.T ? sched.betas[t] : 1 - ab / abPrev;
      const variance = (beta * (1 - abPrev)) / (1 - ab);
      out.push({
        ...base,
        coefX0: (beta * Math.sqrt(abPrev)) / (1 - ab),
        coefX: ((1 - abPrev) * Math.sqrt(1 - beta)) / (1 - ab),
        coefPrevX0: 0,
        sigma: i > 0 ? Math.sqrt(variance) : 0,
      });
    } else {
      const sigma = i > 0 ? eta * Math.sqrt(((1 - abPrev) / (1 - ab)) * (1 - ab / abPrev)) : 0;
      const dir = Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma));
      out.push({
        ...base,
        coefX0: Math.sqrt(abPrev) - (dir * Math.sqrt(ab)) / Math.sqrt(1 - ab),
        coefX: dir / Math.sqrt(1 - ab),
        coefPrevX0: 0,
        sigma,
      });
    }
  }
  return out;
}

/**
 * `s` at first order: DPM-Solver++'s second-order term moved onto this step's x0 (D = x0), for a
 * pass with no previous step's x0 to use (the first step an img2img run takes, and the repeated
 * passes of an inpainting step after a resampling jump). Other samplers' steps are unchanged.
 */
export const firstOrder = (s: SamplerStep): SamplerStep => ({
  ...s,
  coefX0: s.coefX0 + s.coefPrevX0,
  coefPrevX0: 0,
});

/**
 * The timesteps DPM-Solver++ evaluates the model at, descending: `steps` points
 * from T−1 on, each the next of `steps + 1` evenly spread over [0, T−1]; the
 * step after the last lands on the clean image (noise 0), so no evaluation is
 * spent at t = 0, where x is already nearly clean. At `steps` = T every
 * timestep is used.
 */
export function dpmSolverTimesteps(T: number, steps: number): number[] {
  return spacedTimesteps(T, Math.min(T, steps + 1)).reverse().slice(0, steps);
}

/**
 * DPM-Solver++(2M) (Lu et al. 2022): data (x0) prediction, second-order
 * multistep. With α = √ᾱ, σ = √(1−ᾱ), λ = log(α/σ) and h = λ(next) − λ(t),
 * a deterministic step is x' = (σ'/σ)·x + α'·(1 − e^(−h))·D, with D = x0 at
 * first order and D = (1 + 1/2r)·x0 − (1/2r)·x0_prev at second order,
 * r = h_prev/h. The stochastic variant (SDE-DPM-Solver++(2M), `stochastic`)
 * takes x' = (σ'/σ)·e^(−h)·x + α'·(1 − e^(−2h))·D + σ'·√(1 − e^(−2h))·z; at
 * first order that is the respaced ancestral DDPM step. The first step (no
 * previous x0) and the last (to the clean image, where h is infinite and D is
 * x0 itself) are first order.
 */
function dpmSolverSteps(sched: Schedule, steps: number, stochastic: boolean): SamplerStep[] {
  const ts = dpmSolverTimesteps(sched.T, steps);
  const alpha = (i: number) => i < ts.length ? Math.sqrt(sched.alphaBar[ts[i]]) : 1;
  const sigma = (i: number) => i < ts.length ? Math.sqrt(1 - sched.alphaBar[ts[i]]) : 0;
  const lambda = (i: number) => Math.log(alpha(i)) - Math.log(sigma(i));
  return ts.map((t, i) => {
    const base = { t, sqrtAlphaBar: alpha(i), sqrtOneMinusAlphaBar: sigma(i) };
    if (i === ts.length - 1) return { ...base, coefX0: 1, coefX: 0, coefPrevX0: 0, sigma: 0 };
    const h = lambda(i + 1) - lambda(i);
    // 1 − e^(−h), or 1 − e^(−2h) for the SDE, without cancellation at small h.
    const decay = -Math.expm1(stochastic ? -2 * h : -h);
    const phi = alpha(i + 1) * decay;
    const next = {
      ...base,
      coefX: (sigma(i + 1) / sigma(i)) * (stochastic ? Math.exp(-h) : 1),
      sigma: stochastic ? sigma(i + 1) * Math.sqrt(decay) : 0,
    };
    if (i === 0) return { ...next, coefX0: phi, coefPrevX0: 0 };
    const half = 1 / (2 * ((lambda(i) - lambda(i - 1)) / h));
    return { ...next, coefX0: phi * (1 + half), coefPrevX0: -phi * half };
  });
}
