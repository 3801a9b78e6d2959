import { deepStrictEqual, ok } from "node:assert/strict";
import { cosineSchedule, samplerSteps, spacedTimesteps } from "./schedule.ts";

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
