import { deepStrictEqual, ok } from "node:assert/strict";
import {
  cosineSchedule,
  dpmSolverTimesteps,
  firstOrder,
  samplerSteps,
  spacedTimesteps,
} from "./schedule.ts";

const close = (a: number, b: number, tol = 1e-12) =>
  ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

Deno.test("schedule: cosine values by hand at t = 0 and the clamp at the end", () => {
  const s = cosineSchedule();
  const f = (t: number) => Math.cos(((t / 1000 + 0.008) / 1.008) * Math.PI / 2) ** 2;
  close(s.betas[0], Math.max(1e-4, 1 - f(1) / f(0)));
  close(s.betas[999], 0.999); // the raw β at the last step is 1, clamped
  close(s.alphaBar[0], 1 - s.betas[0]);
  close(s.alphaBar[2], (1 - s.betas[0]) * (1 - s.betas[1]) * (1 - s.betas[2]));
  for (let t = 1; t < 1000; t++) ok(s.alphaBar[t] < s.alphaBar[t - 1]);
});

Deno.test("schedule: full DDPM steps are the original posterior coefficients", () => {
  const s = cosineSchedule();
  const steps = samplerSteps(s, { sampler: "ddpm", steps: 1000 });
  deepStrictEqual(steps.map((x) => x.t), Array.from({ length: 1000 }, (_, i) => 999 - i));
  for (const t of [999, 500, 20, 1, 0]) {
    const st = steps[999 - t];
    const b = s.betas[t];
    const ab = s.alphaBar[t];
    const abPrev = t > 0 ? s.alphaBar[t - 1] : 1;
    close(st.coefX0, (b * Math.sqrt(abPrev)) / (1 - ab));
    close(st.coefX, ((1 - abPrev) * Math.sqrt(1 - b)) / (1 - ab));
    close(st.sigma, t > 0 ? Math.sqrt((b * (1 - abPrev)) / (1 - ab)) : 0);
  }
  // At t = 0 the mean is x0 itself: c1 = 1, c2 = 0.
  close(steps[999].coefX0, 1);
  close(steps[999].coefX, 0);
});

Deno.test("schedule: respaced timesteps keep both ends, ascend, and ᾱ falls", () => {
  const ts = spacedTimesteps(1000, 50);
  deepStrictEqual([ts[0], ts.at(-1), ts.length], [0, 999, 50]);
  for (let i = 1; i < ts.length; i++) ok(ts[i] > ts[i - 1]);
  const s = cosineSchedule();
  const steps = samplerSteps(s, { sampler: "ddpm", steps: 50 });
  for (let i = 1; i < steps.length; i++) ok(steps[i].sqrtAlphaBar > steps[i - 1].sqrtAlphaBar);
});

Deno.test("schedule: DDIM with eta 0 is deterministic and reproduces x_prev from (x0, ε)", () => {
  const s = cosineSchedule();
  const steps = samplerSteps(s, { sampler: "ddim", steps: 10, eta: 0 });
  const ts = spacedTimesteps(1000, 10);
  // Hand check: for x = √ᾱ x0 + √(1−ᾱ) ε, DDIM(η=0) lands on √ᾱ_prev x0 + √(1−ᾱ_prev) ε.
  const x0 = 0.3;
  const eps = -1.1;
  for (let i = 0; i < steps.length; i++) {
    const st = steps[i];
    ok(st.sigma === 0);
    const x = st.sqrtAlphaBar * x0 + st.sqrtOneMinusAlphaBar * eps;
    const j = ts.length - 1 - i;
    const abPrev = j > 0 ? s.alphaBar[ts[j - 1]] : 1;
    close(
      st.coefX0 * x0 + st.coefX * x,
      Math.sqrt(abPrev) * x0 + Math.sqrt(1 - abPrev) * eps,
      1e-9,
    );
  }
});

Deno.test("schedule: DDIM with eta 1 has the DDPM variance", () => {
  const s = cosineSchedule();
  const ddim = samplerSteps(s, { sampler: "ddim", steps: 25, eta: 1 });
  const ddpm = samplerSteps(s, { sampler: "ddpm", steps: 25 });
  for (let i = 0; i < ddim.length; i++) close(ddim[i].sigma, ddpm[i].sigma, 1e-9);
});

Deno.test("schedule: DPM-Solver++ timesteps start at T−1 and come from a list of steps + 1", () => {
  // spacedTimesteps(1000, 5) = round(i·999/4) = 0, 250, 500, 749, 999; t = 0 is never evaluated.
  deepStrictEqual(dpmSolverTimesteps(1000, 4), [999, 749, 500, 250]);
  deepStrictEqual(dpmSolverTimesteps(1000, 1), [999]);
  deepStrictEqual(dpmSolverTimesteps(1000, 999), Array.from({ length: 999 }, (_, i) => 999 - i));
  deepStrictEqual(dpmSolverTimesteps(1000, 1000), Array.from({ length: 1000 }, (_, i) => 999 - i));
  const steps = samplerSteps(cosineSchedule(), { sampler: "dpm++", steps: 4 });
  deepStrictEqual(steps.map((s) => s.t), [999, 749, 500, 250]);
});

Deno.test("schedule: DPM-Solver++(2M) coefficients, first order at the first and last step", () => {
  const s = cosineSchedule();
  for (const m of [2, 4, 10, 25]) {
    const steps = samplerSteps(s, { sampler: "dpm++", steps: m });
    const ts = dpmSolverTimesteps(1000, m);
    // Independently: λ = ½·log(ᾱ/(1−ᾱ)), and the update in the solver's published form,
    // x_t = (σ_t/σ_s)·x − α_t(e^(−h) − 1)·D0 − ½·α_t(e^(−h) − 1)·D1 with D1 = (m0 − m1)/r0.
    const ab = (i: number) => s.alphaBar[ts[i]];
    const lambda = (i: number) => 0.5 * Math.log(ab(i) / (1 - ab(i)));
    for (let i = 0; i < m; i++) {
      const st = steps[i];
      ok(st.sigma === 0);
      close(st.sqrtAlphaBar, Math.sqrt(ab(i)));
      close(st.sqrtOneMinusAlphaBar, Math.sqrt(1 - ab(i)));
      if (i === m - 1) {
        // To the clean image (σ = 0, h = ∞): x' = x0.
        deepStrictEqual([st.coefX0, st.coefX, st.coefPrevX0], [1, 0, 0]);
        continue;
      }
      const h = lambda(i + 1) - lambda(i);
      const alphaT = Math.sqrt(ab(i + 1));
      const e = Math.exp(-h) - 1;
      close(st.coefX, Math.sqrt((1 - ab(i + 1)) / (1 - ab(i))), 1e-9);
      if (i === 0) {
        close(st.coefX0, -alphaT * e, 1e-9);
        ok(st.coefPrevX0 === 0);
      } else {
        const r0 = (lambda(i) - lambda(i - 1)) / h;
        close(st.coefX0, -alphaT * e - (0.5 * alphaT * e) / r0, 1e-9);
        close(st.coefPrevX0, (0.5 * alphaT * e) / r0, 1e-9);
        ok(st.coefPrevX0 !== 0);
        // Where there is no previous x0 (img2img's first step): the first-order update.
        close(firstOrder(st).coefX0, -alphaT * e, 1e-9);
        deepStrictEqual([firstOrder(st).coefX, firstOrder(st).coefPrevX0], [st.coefX, 0]);
      }
    }
  }
});

Deno.test("schedule: DPM-Solver++(2M) solves the probability-flow ODE at second order", () => {
  // Data N(μ, s²) in each pixel: the exact x0 prediction is D(x) = μ + α·s²·(x − αμ)/v² with
  // v² = α²s² + σ², and the ODE maps x_T to x_t = αμ + v_t·(x_T − α_T·μ)/v_T. The error at
  // t = 400 (on every list below) must fall 4× per doubling of steps (order 2), and 2× with
  // the second-order term folded into a first-order step.
  const s = cosineSchedule();
  const [mu, sd, xT] = [0.3, 0.2, 0.7];
  const v = (a: number, sg: number) => Math.sqrt(a * a * sd * sd + sg * sg);
  const errorAt400 = (m: number, atFirstOrder: boolean) => {
    const steps = samplerSteps(s, { sampler: "dpm++", steps: m });
    const [aT, sT] = [steps[0].sqrtAlphaBar, steps[0].sqrtOneMinusAlphaBar];
    let [x, prev, error] = [xT, 0, NaN];
    for (const st of steps) {
      const [a, sg] = [st.sqrtAlphaBar, st.sqrtOneMinusAlphaBar];
      if (st.t === 400) error = Math.abs(x - (a * mu + (v(a, sg) * (xT - aT * mu)) / v(aT, sT)));
      const d = mu + (a * sd * sd * (x - a * mu)) / v(a, sg) ** 2;
      const [c0, cp] = atFirstOrder ? [st.coefX0 + st.coefPrevX0, 0] : [st.coefX0, st.coefPrevX0];
      [x, prev] = [c0 * d + st.coefX * x + cp * prev, d];
    }
    return error;
  };
  for (const [atFirstOrder, lo, hi] of [[false, 1.7, 2.3], [true, 0.8, 1.2]] as const) {
    for (const m of [20, 40]) {
      const order = Math.log2(errorAt400(m, atFirstOrder) / errorAt400(2 * m, atFirstOrder));
      ok(
        order > lo && order < hi,
        `order ${order} at ${m} → ${2 * m} steps (first order: ${atFirstOrder})`,
      );
    }
  }
});

Deno.test("schedule: SDE-DPM-Solver++(2M) at first order is the ancestral DDPM step between its timesteps", () => {
  const s = cosineSchedule();
  const m = 12;
  const sde = samplerSteps(s, { sampler: "dpm++sde", steps: m });
  const ode = samplerSteps(s, { sampler: "dpm++", steps: m });
  const ts = dpmSolverTimesteps(1000, m);
  for (let i = 0; i < m - 1; i++) {
    // The DDPM posterior from t to t' (β' = 1 − ᾱ/ᾱ'), by hand.
    const [ab, abPrev] = [s.alphaBar[ts[i]], s.alphaBar[ts[i + 1]]];
    const beta = 1 - ab / abPrev;
    close(sde[i].coefX0 + sde[i].coefPrevX0, (beta * Math.sqrt(abPrev)) / (1 - ab), 1e-9);
    close(sde[i].coefX, ((1 - abPrev) * Math.sqrt(1 - beta)) / (1 - ab), 1e-9);
    close(sde[i].sigma, Math.sqrt((beta * (1 - abPrev)) / (1 - ab)), 1e-9);
    // The second-order term splits D as the ODE solver does: the same 1/2r.
    close(
      sde[i].coefPrevX0 / (sde[i].coefX0 + sde[i].coefPrevX0),
      ode[i].coefPrevX0 / (ode[i].coefX0 + ode[i].coefPrevX0),
      1e-9,
    );
    ok((sde[i].coefPrevX0 === 0) === (i === 0));
  }
  deepStrictEqual([sde[m - 1].coefX0, sde[m - 1].coefX, sde[m - 1].sigma], [1, 0, 0]);
});
