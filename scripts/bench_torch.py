#!/usr/bin/python3
"""Speed baseline: the PyTorch reference ContextUNet on this machine's CPU, float32.

Prints one JSON line per measurement:
  {"impl": "torch", "what": ..., "config": ..., "batch": ..., "ms": ..., "images_per_s": ...}
where ms is the median of --reps timed runs after --warmup untimed ones.

  train    one training step (forward, MSE, backward, clip_grad_norm_ 1.0, AdamW) at batch 128
  forward  one forward pass (no grad) at batch 2 and 32
  sample   one guided sampling step for 1 and 16 images: "sample_step" as the original app runs
           it, two separate forward passes (cond and uncond, each at the image batch), and
           "sample_step_batched", one forward pass over both halves (batch 2 or 32); each plus
           the DDPM update. ms is measured per step; ms_1000_steps = 1000 × ms is extrapolated,
           not measured, and images_per_s is derived from it. (PyTorch 1.13 runs batch-1
           convolutions without oneDNN, so the original's batch-1 passes are slow.)

  bench_torch.py [--only train|forward|sample] [--configs ref,small] [--reps N] [--warmup N]
                 [--threads N] [--device cpu|cuda]
Run with Debian's interpreter (/usr/bin/python3), which has torch. With --device cuda the model,
inputs and noise live on the GPU and every timed run ends with torch.cuda.synchronize().
"""

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F

from torch_reference import PRESETS, T_STEPS, build_model

TRAIN_BATCH = 128
FORWARD_BATCHES = (2, 32)
SAMPLE_BATCHES = (1, 16)
GUIDANCE = 7.5


DEVICE = torch.device("cpu")


def sync():
    """Waits for queued GPU work, so a timed run ends when its kernels do."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def median_ms(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def cosine_schedule(s=0.008):
    """(ᾱ, posterior variance, c1, c2) per the model spec, float32 tensors of length T."""
    steps = torch.arange(T_STEPS + 1, dtype=torch.float64)
    f = torch.cos(((steps / T_STEPS) + s) / (1 + s) * math.pi / 2) ** 2
    abar = f / f[0]
    beta = (1 - abar[1:] / abar[:-1]).clamp(1e-4, 0.999)
    alpha = 1 - beta
    abar = torch.cumprod(alpha, 0)
    abar_prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
    var = beta * (1 - abar_prev) / (1 - abar)
    c1 = beta * abar_prev.sqrt() / (1 - abar)
    c2 = (1 - abar_prev) * alpha.sqrt() / (1 - abar)
    return [v.float().to(DEVICE) for v in (abar, var, c1, c2)]


def inputs(config, batch, gen):
    x = torch.randn(batch, config["in_ch"], 16, 16, generator=gen, device=DEVICE)
    t = torch.randint(0, T_STEPS, (batch,), generator=gen, device=DEVICE)
    labels = torch.randint(0, config["num_classes"] + 1, (batch,), generator=gen, device=DEVICE)
    return x, t, labels


def bench_train(model, config, gen, reps, warmup):
    x, t, labels = inputs(config, TRAIN_BATCH, gen)
    target = torch.randn(x.shape, generator=gen, device=DEVICE)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-4, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=1e-4)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        F.mse_loss(model(x, t, labels), target).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    ms = median_ms(step, reps, warmup)
    yield {"what": "train_step", "batch": TRAIN_BATCH, "ms": ms,
           "images_per_s": TRAIN_BATCH / ms * 1000}


def bench_forward(model, config, gen, reps, warmup):
    model.eval()
    for batch in FORWARD_BATCHES:
        x, t, labels = inputs(config, batch, gen)
        with torch.no_grad():
            ms = median_ms(lambda: model(x, t, labels), reps, warmup)
        yield {"what": "forward", "batch": batch, "ms": ms, "images_per_s": batch / ms * 1000}


def bench_sample(model, config, gen, reps, warmup):
    model.eval()
    abar, var, c1, c2 = cosine_schedule()
    null = config["num_classes"]

    def guided_eps(x, t, cond, batched):
        uncond = torch.full_like(cond, null)
        if not batched:
            return model(x, t, cond), model(x, t, uncond)
        both = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([cond, uncond]))
        return both.chunk(2)

    for batched in (False, True):
        for batch in SAMPLE_BATCHES:
            cond = torch.randint(0, null, (batch,), generator=gen, device=DEVICE)
            state = {"x": torch.randn(batch, config["in_ch"], 16, 16, generator=gen,
                                      device=DEVICE),
                     "i": T_STEPS - 1}

            def step():
                i, x = state["i"], state["x"]
                eps_c, eps_u = guided_eps(x, torch.full((batch,), i, device=DEVICE), cond,
                                          batched)
                eps = eps_u + GUIDANCE * (eps_c - eps_u)
                x0 = ((x - (1 - abar[i]).sqrt() * eps) / abar[i].sqrt()).clamp(-1, 1)
                mean = c1[i] * x0 + c2[i] * x
                state["x"] = mean + var[i].sqrt() * torch.randn(x.shape, generator=gen,
                                                                 device=DEVICE)
                state["i"] = i - 1 if i > 1 else T_STEPS - 1  # keep the timestep walk going

            with torch.no_grad():
                ms = median_ms(step, reps, warmup)
            yield {"what": "sample_step_batched" if batched else "sample_step", "batch": batch,
                   "forward_passes": 1 if batched else 2,
                   "forward_batch": 2 * batch if batched else batch, "ms": ms,
                   "ms_1000_steps": ms * T_STEPS, "extrapolated": True,
                   "images_per_s": batch / (ms * T_STEPS) * 1000}


BENCHES = {"train": bench_train, "forward": bench_forward, "sample": bench_sample}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", choices=sorted(BENCHES), action="append",
                    help="run only this measurement (repeatable); default all")
    ap.add_argument("--configs", default="ref,small", help="comma-separated: ref, small")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this PyTorch sees no CUDA device (torch.cuda.is_available())")
    global DEVICE
    DEVICE = torch.device(args.device)
    torch.set_num_threads(args.threads)
    for name in args.configs.split(","):
        config = PRESETS[name]
        for what in args.only or list(BENCHES):
            torch.manual_seed(0)
            model = build_model(config).to(DEVICE)
            gen = torch.Generator(device=DEVICE).manual_seed(0)
            for row in BENCHES[what](model, config, gen, args.reps, args.warmup):
                line = {"impl": "torch", "what": row.pop("what"), "config": name}
                line.update(row, threads=torch.get_num_threads(), torch=torch.__version__,
                            device=str(DEVICE) if DEVICE.type == "cpu"
                            else torch.cuda.get_device_name(DEVICE))
                for key in ("ms", "ms_1000_steps", "images_per_s"):
                    if key in line:
                        line[key] = float(f"{line[key]:.4g}")
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
