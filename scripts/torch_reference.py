#!/usr/bin/python3
"""PyTorch reference of ContextUNet (/work/shared/model-spec.md): fixtures and weight exchange.

A tool for tests and comparisons, never a runtime dependency of the project. Needs torch and
numpy (Debian's /usr/bin/python3 has both); the safetensors format is written by hand below.

  torch_reference.py [--out PATH] [--seed N]
      Writes the tiny-config fixture (default tests/fixtures/unet_tiny.safetensors): the initial
      parameters, one batch of inputs, the model output, the MSE loss, every parameter's gradient
      and the parameters after one clipped AdamW step, all computed in float64 and stored as F32.
  torch_reference.py --check-reference [SEED_STATE_DICT_TXT]
      Verifies that the reference config's state_dict has the original's 239 tensors,
      4,322,243 parameters and exact names/shapes/order (a digest of the listing; with the
      listing file given, also a line-by-line diff).
  torch_reference.py --weights-out PATH [--preset tiny|small|ref] [--config JSON] [--seed N]
                     [--bare]
      Writes a plain weights file (state_dict names, F32, metadata "config") of a seeded
      initialisation (PyTorch default init, then the perturbation of `perturb_init`). --bare
      leaves the metadata out, as safetensors.torch.save_file(model.state_dict()) does.
  torch_reference.py --load PATH [--inputs FILE] [--pred-out FILE]
      Loads a weights file (F32/F16/BF16; config from its "config" metadata, else from
      --preset/--config) strictly into the model and runs one float64 forward, printing a JSON
      checksum line. Inputs come from FILE (x_t F32, t I32, labels I32, e.g. the fixture) or are
      the fixed batch of `fixed_inputs`; --pred-out writes the output as "pred" (F32).
"""

import argparse
import hashlib
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

T_STEPS = 1000
GROUPS = 8

PRESETS = {
    "ref": dict(in_ch=3, base_ch=64, channel_mults=[1, 2, 2], num_res_blocks=2,
                use_attention=[False, True, True], num_classes=5),
    "small": dict(in_ch=3, base_ch=32, channel_mults=[1, 2, 2], num_res_blocks=2,
                  use_attention=[False, True, True], num_classes=5),
    "tiny": dict(in_ch=4, base_ch=8, channel_mults=[1, 2, 2], num_res_blocks=2,
                 use_attention=[False, True, True], num_classes=3),
}

# The original's state_dict listing (seed-state-dict.txt without its comment line, "name AxB"
# per line): 239 tensors, 4,322,243 parameters.
REFERENCE_TENSORS = 239
REFERENCE_PARAMS = 4_322_243
REFERENCE_SHA256 = "4aeee330767809d57a80316df0465007cebf076ad35ff3e8e806195b0168b1fe"


# ---------------------------------------------------------------------------------------------
# Model. Attribute order fixes the state_dict order, so it follows the original's listing.


class ResidualBlock(nn.Module):
    def __init__(self, in_ch, out_ch, emb_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.norm1 = nn.GroupNorm(GROUPS, out_ch)
        self.norm2 = nn.GroupNorm(GROUPS, out_ch)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()
        self.time_mlp = nn.Sequential(nn.Linear(emb_dim, out_ch), nn.SiLU())

    def forward(self, x, emb):
        h = F.silu(self.norm1(self.conv1(x)))
        h = h + self.time_mlp(emb)[:, :, None, None]
        h = self.norm2(self.conv2(h))
        return F.silu(h + self.skip(x))


class AttentionBlock(nn.Module):
    """Single-head self-attention over the H·W positions, residual."""

    def __init__(self, ch):
        super().__init__()
        self.norm = nn.GroupNorm(GROUPS, ch)
        self.q = nn.Conv1d(ch, ch, 1)
        self.k = nn.Conv1d(ch, ch, 1)
        self.v = nn.Conv1d(ch, ch, 1)
        self.proj_out = nn.Conv1d(ch, ch, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        y = self.norm(x).reshape(b, c, h * w)
        q, k, v = self.q(y), self.k(y), self.v(y)
        attn = torch.softmax(torch.bmm(q.transpose(1, 2), k) * c**-0.5, dim=-1)
        o = torch.bmm(attn, v.transpose(1, 2)).transpose(1, 2)
        return x + self.proj_out(o).reshape(b, c, h, w)


class Level(nn.Module):
    """Residual blocks then optional attention: one resolution of the down or up path."""

    def __init__(self, blocks, attn_ch):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.attn = AttentionBlock(attn_ch) if attn_ch else nn.Identity()

    def forward(self, h, emb):
        for block in self.blocks:
            h = block(h, emb)
        return self.attn(h)


class Middle(nn.Module):
    def __init__(self, ch, emb_dim):
        super().__init__()
        self.block1 = ResidualBlock(ch, ch, emb_dim)
        self.attn = AttentionBlock(ch)
        self.block2 = ResidualBlock(ch, ch, emb_dim)

    def forward(self, h, emb):
        return self.block2(self.attn(self.block1(h, emb)), emb)


class ContextUNet(nn.Module):
    def __init__(self, in_ch, base_ch, channel_mults, num_res_blocks, use_attention, num_classes):
        super().__init__()
        if len(use_attention) != len(channel_mults):
            raise ValueError("use_attention needs one flag per entry of channel_mults")
        emb = 4 * base_ch
        chs = [base_ch] + [base_ch * m for m in channel_mults]
        levels = len(channel_mults)
        self.time_mlp = nn.Sequential(nn.Linear(1, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.label_emb = nn.Embedding(num_classes + 1, emb)
        self.init_conv = nn.Conv2d(in_ch, base_ch, 3, padding=1)
        self.downs = nn.ModuleList()
        ch = base_ch
        for i in range(levels):
            out = chs[i + 1]
            blocks = [ResidualBlock(ch if j == 0 else out, out, emb) for j in range(num_res_blocks)]
            self.downs.append(Level(blocks, out if use_attention[i] else 0))
            ch = out
        self.mid = Middle(ch, emb)
        self.ups = nn.ModuleList()
        for i in reversed(range(levels)):
            out = chs[i]
            first = ResidualBlock(ch + chs[i + 1], out, emb)
            rest = [ResidualBlock(out, out, emb) for _ in range(num_res_blocks)]
            self.ups.append(Level([first] + rest, out if use_attention[i] else 0))
            ch = out
        self.out_conv = nn.Sequential(nn.GroupNorm(GROUPS, ch), nn.SiLU(),
                                      nn.Conv2d(ch, in_ch, 3, padding=1))

    def forward(self, x, t, labels):
        """x: B×in_ch×H×W; t: integer timesteps (B); labels: class ids (B), num_classes = null."""
        t_in = (t.to(x.dtype) / T_STEPS).unsqueeze(1)
        emb = self.time_mlp(t_in) + self.label_emb(labels)
        h = self.init_conv(x)
        skips = [h]  # init_conv's output is pushed but never popped, as in the original
        for i, level in enumerate(self.downs):
            h = level(h, emb)
            skips.append(h)
            if i < len(self.downs) - 1:
                h = F.avg_pool2d(h, 2)
        h = self.mid(h, emb)
        for j, level in enumerate(self.ups):
            if j > 0:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = level(torch.cat([h, skips.pop()], dim=1), emb)
        return self.out_conv(h)


def build_model(config):
    return ContextUNet(**{k: config[k] for k in PRESETS["ref"]})


def perturb_init(model, gen):
    """PyTorch's default init, then GroupNorm weights 1 + 0.1·n and every bias 0.1·n, so that no
    parameter is trivially 0 or 1; finally rounded to f32 so the stored values are exact."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            if name.endswith(".bias"):
                p.copy_(0.1 * noise)
            elif p.dim() == 1:  # the only 1-D weights are GroupNorm's
                p.copy_(1 + 0.1 * noise)
            p.copy_(p.float().to(p.dtype))


def seeded_model(config, seed):
    """A float64 model whose parameters are exactly representable in f32."""
    torch.manual_seed(seed)
    model = build_model(config).double()
    perturb_init(model, torch.Generator().manual_seed(seed + 1))
    return model


# ---------------------------------------------------------------------------------------------
# safetensors: 8-byte LE header length, JSON header, raw little-endian data (names sorted).

NP_DTYPES = {"F32": "<f4", "F16": "<f2", "I32": "<i4", "I64": "<i8", "U8": "u1"}


def write_safetensors(path, tensors, metadata):
    """tensors: name → numpy array (float32 or int32); metadata: str → str, or None for none."""
    header = {} if metadata is None else {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype("float32"): "F32", np.dtype("int32"): "I32"}[arr.dtype]
        data = arr.astype(NP_DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def read_safetensors(path):
    """Returns ({name: float64 or int64 numpy array}, metadata)."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        if end > len(data):
            sys.exit(f"{path}: truncated at tensor {name}")
        chunk = data[begin:end]
        if e["dtype"] == "BF16":
            bits = np.frombuffer(chunk, "<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32).astype(np.float64)
        elif e["dtype"] in NP_DTYPES:
            arr = np.frombuffer(chunk, NP_DTYPES[e["dtype"]])
            arr = arr.astype(np.float64 if e["dtype"].startswith("F") else np.int64)
        else:
            sys.exit(f"{path}: tensor {name} has unsupported dtype {e['dtype']}")
        tensors[name] = arr.reshape(e["shape"])
    return tensors, metadata


def f32(t):
    return t.detach().to(torch.float32).numpy()


# ---------------------------------------------------------------------------------------------
# Actions.


def state_listing(model):
    lines = []
    for name, p in model.state_dict().items():
        lines.append(f"{name} {'x'.join(str(d) for d in p.shape)}")
    return lines


def check_reference(listing_path):
    model = build_model(PRESETS["ref"])
    lines = state_listing(model)
    params = sum(p.numel() for p in model.parameters())
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    problems = []
    if len(lines) != REFERENCE_TENSORS:
        problems.append(f"{len(lines)} tensors, expected {REFERENCE_TENSORS}")
    if params != REFERENCE_PARAMS:
        problems.append(f"{params:,} parameters, expected {REFERENCE_PARAMS:,}")
    if digest != REFERENCE_SHA256:
        problems.append(f"listing digest {digest} differs from {REFERENCE_SHA256}")
    if listing_path:
        expected = [ln.strip() for ln in Path(listing_path).read_text().splitlines()
                    if ln.strip() and not ln.startswith("#")]
        for i, (got, want) in enumerate(zip(lines, expected)):
            if got != want:
                problems.append(f"line {i + 1}: {got!r}, expected {want!r}")
                break
        if len(lines) != len(expected):
            problems.append(f"{len(lines)} entries, {listing_path} has {len(expected)}")
    if problems:
        sys.exit("reference config mismatch:\n  " + "\n  ".join(problems))
    print(f"reference config OK: {len(lines)} tensors, {params:,} parameters, names/shapes/order "
          f"match (sha256 {digest[:16]}…)")


def write_fixture(out, seed):
    config = PRESETS["tiny"]
    recipe = dict(T=T_STEPS, lr=1e-3, betas=[0.9, 0.999], eps=1e-8, weight_decay=1e-4,
                  max_grad_norm=1.0)
    model = seeded_model(config, seed)
    gen = torch.Generator().manual_seed(seed + 2)
    batch = 3
    # Inputs rounded to f32 first so that the stored values are exactly the ones used.
    x_t = torch.randn(batch, config["in_ch"], 16, 16, generator=gen, dtype=torch.float64)
    x_t = x_t.float().double()
    # ε scaled ×2 so that the gradient norm is well above max_grad_norm (clipping active).
    eps = (2 * torch.randn(x_t.shape, generator=gen, dtype=torch.float64)).float().double()
    t = torch.tensor([17, 503, 961])
    labels = torch.tensor([1, config["num_classes"], 0])  # the middle one is the null class

    pred = model(x_t, t, labels)
    loss = F.mse_loss(pred, eps)
    loss.backward()
    tensors = {f"param.{n}": f32(p) for n, p in model.named_parameters()}
    tensors.update({f"grad.{n}": f32(p.grad) for n, p in model.named_parameters()})
    # Gradients that are zero in exact arithmetic (attention k biases: softmax ignores a shift
    # per row; conv biases feeding a GroupNorm of one channel per group) are float64 rounding
    # noise here, so a float32 AdamW step legitimately moves those parameters by up to lr.
    grad_max = {n: float(p.grad.abs().max()) for n, p in model.named_parameters()}
    zero_grads = sorted(n for n, g in grad_max.items() if g < 1e-12 * max(grad_max.values()))
    params = list(model.parameters())
    grad_norm = float(torch.nn.utils.clip_grad_norm_(params, recipe["max_grad_norm"]))
    if grad_norm <= recipe["max_grad_norm"]:
        sys.exit(f"gradient norm {grad_norm} does not exceed max_grad_norm: clipping inactive")
    opt = torch.optim.AdamW(params, lr=recipe["lr"], betas=tuple(recipe["betas"]),
                            eps=recipe["eps"], weight_decay=recipe["weight_decay"])
    opt.step()
    tensors.update({f"adamw.{n}": f32(p) for n, p in model.named_parameters()})
    tensors.update(x_t=f32(x_t), eps=f32(eps), pred=f32(pred), loss=f32(loss.reshape(1)),
                   t=t.to(torch.int32).numpy(), labels=labels.to(torch.int32).numpy())
    recipe.update(grad_norm=grad_norm,
                  note="grad.* are unclipped; the step clips them by max_grad_norm/(grad_norm+1e-6)"
                       " (torch.nn.utils.clip_grad_norm_), then applies one AdamW step (adamw.*);"
                       " model input is t/T as float, shape [B,1]; float64 throughout")
    metadata = {"config": json.dumps(config), "recipe": json.dumps(recipe),
                "format": "pixel-diffusion-fixture", "zero_grads": json.dumps(zero_grads)}
    write_safetensors(out, tensors, metadata)
    count = sum(p.numel() for p in params)
    print(f"wrote {out}: {Path(out).stat().st_size:,} bytes, {len(params)} parameter tensors, "
          f"{count:,} parameters, loss {float(loss):.6f}, grad norm {grad_norm:.4f}")


def write_weights(out, config, seed, bare):
    model = seeded_model(config, seed)
    tensors = {n: f32(p) for n, p in model.state_dict().items()}
    write_safetensors(out, tensors, None if bare else {"config": json.dumps(config)})
    print(f"wrote {out}: {len(tensors)} tensors, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")


def fixed_inputs(config):
    """B = 2: x_t flat NCHW index i ↦ sin(0.61·i + 0.2); t = [100, 800]; labels = [0, null]."""
    n = 2 * config["in_ch"] * 16 * 16
    x_t = torch.sin(0.61 * torch.arange(n, dtype=torch.float64) + 0.2)
    x_t = x_t.float().double().reshape(2, config["in_ch"], 16, 16)
    return x_t, torch.tensor([100, 800]), torch.tensor([0, config["num_classes"]])


def load_and_run(path, fallback_config, inputs_path, pred_out):
    tensors, metadata = read_safetensors(path)
    config = json.loads(metadata["config"]) if "config" in metadata else fallback_config
    model = build_model(config).double()
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        sys.exit(f"{path}: missing {missing[:5]} ({len(missing)}), "
                 f"unexpected {unexpected[:5]} ({len(unexpected)})")
    for name, want in expected.items():
        if tuple(tensors[name].shape) != tuple(want.shape):
            sys.exit(f"{path}: {name} has shape {list(tensors[name].shape)}, "
                     f"expected {list(want.shape)}")
    model.load_state_dict({n: torch.from_numpy(np.asarray(tensors[n])) for n in expected})
    if inputs_path:
        inputs, _ = read_safetensors(inputs_path)
        x_t = torch.from_numpy(np.asarray(inputs["x_t"]))
        t = torch.from_numpy(np.asarray(inputs["t"]))
        labels = torch.from_numpy(np.asarray(inputs["labels"]))
    else:
        x_t, t, labels = fixed_inputs(config)
    with torch.no_grad():
        pred = model(x_t, t, labels)
    if pred_out:
        write_safetensors(pred_out, {"pred": f32(pred)}, {"config": json.dumps(config)})
    flat = pred.flatten()
    print(json.dumps({"weights": str(path), "config": config, "shape": list(pred.shape),
                      "sum": float(flat.sum()), "abs_sum": float(flat.abs().sum()),
                      "first": [float(v) for v in flat[:8]]}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", default="tests/fixtures/unet_tiny.safetensors")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-reference", nargs="?", const="", metavar="SEED_STATE_DICT_TXT")
    ap.add_argument("--weights-out", metavar="PATH")
    ap.add_argument("--bare", action="store_true", help="--weights-out without metadata")
    ap.add_argument("--load", metavar="PATH")
    ap.add_argument("--inputs", metavar="FILE")
    ap.add_argument("--pred-out", metavar="FILE")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    ap.add_argument("--config", default="{}", help="JSON overriding keys of the preset")
    args = ap.parse_args()
    config = {**PRESETS[args.preset], **json.loads(args.config)}
    if args.check_reference is not None:
        check_reference(args.check_reference)
    elif args.weights_out:
        write_weights(args.weights_out, config, args.seed, args.bare)
    elif args.load:
        load_and_run(args.load, config, args.inputs, args.pred_out)
    else:
        write_fixture(args.out, args.seed)


if __name__ == "__main__":
    main()
