#!/usr/bin/env python3
"""PyTorch reference of toklab's VQ tokenizer training step (bench/tokenizer.ts).

Builds the architecture of engine/models/vq-tokenizer.ts + layers.ts + quantizer.ts for a fully
resolved TokenizerConfig and times AdamW training steps on random images, so the bench can report
toklab's step time against PyTorch's on the identical model (same layers, same parameter count).

Input: one JSON object as argv[1] (or on stdin):
  {f, K, D, widths, resBlocks, norm, groups, act, upsample, codebookNorm, betaCommit,
   imageSize, channels, batch, steps, threads}
(the model fields may also sit under "config"). Output: one JSON line {params, ms, threads, torch}.

Layout is NCHW here (NHWC in toklab); that changes no parameter count and no arithmetic.
Run it with /usr/bin/python3 (the interpreter that has torch).
"""
from common import adamw, read_input, run_settings, time_and_report
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def tf_same_pad(size: int, k: int, stride: int):
    """TensorFlow 'same' padding (before, after) of one spatial axis: the extra pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


class Conv(nn.Module):
    """k×k conv with TF 'same' padding (stride 2 pads 0 before, 1 after on even sizes, as tfjs does)."""

    def __init__(self, k: int, cin: int, cout: int, stride: int = 1, gain: float = 1.0):
        super().__init__()
        self.k, self.stride = k, stride
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=0)
        # layers.ts initConv: He-uniform bound gain·√(6/fan_in), zero bias
        bound = gain * math.sqrt(6 / (k * k * cin))
        nn.init.uniform_(self.conv.weight, -bound, bound)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x):
        if self.k > 1:
            ph = tf_same_pad(x.shape[2], self.k, self.stride)
            pw = tf_same_pad(x.shape[3], self.k, self.stride)
            if self.stride == 1 and ph[0] == ph[1] and pw[0] == pw[1]:
                return F.conv2d(x, self.conv.weight, self.conv.bias, 1, (ph[0], pw[0]))
            x = F.pad(x, (pw[0], pw[1], ph[0], ph[1]))
        return self.conv(x)


class ConvTransposeUp(nn.Module):
    """3×3 stride-2 conv2dTranspose with 'same' padding to 2h×2w (tfjs: the full 2h+1 output cropped at the end)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=0)
        bound = math.sqrt(6 / max(1, 9 * cin / 4))
        nn.init.uniform_(self.conv.weight, -bound, bound)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        return self.conv(x)[:, :, : 2 * h, : 2 * w]


def make_norm(c: int, norm: str, groups: int) -> nn.Module:
    """layers.ts groupNorm: GroupNorm(min(groups, C)), eps 1e-6, affine; identity for 'none' (no parameters)."""
    if norm == "none":
        return nn.Identity()
    g = min(groups, c)
    if c % g != 0:
        raise ValueError(f"{c} channels not divisible by {g} groups")
    return nn.GroupNorm(g, c, eps=1e-6, affine=True)


def make_act(kind: str) -> nn.Module:
    return nn.ReLU() if kind == "relu" else nn.SiLU()


class ResBlock(nn.Module):
    """norm, act, conv3, norm, act, conv3; 1×1 skip when widths differ (layers.ts resBlock)."""

    def __init__(self, cin: int, cout: int, norm: str, groups: int, act: str):
        super().__init__()
        self.n1 = make_norm(cin, norm, groups)
        self.c1 = Conv(3, cin, cout)
        self.n2 = make_norm(cout, norm, groups)
        self.c2 = Conv(3, cout, cout, gain=0.1 if norm == "none" else 1.0)
        self.skip = Conv(1, cin, cout) if cin != cout else None
        self.act = make_act(act)

    def forward(self, x):
        h = self.c1(self.act(self.n1(x)))
        h = self.c2(self.act(self.n2(h)))
        return (self.skip(x) if self.skip is not None else x) + h


class VqTokenizer(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.c = c
        L = int(round(math.log2(c["f"])))
        self.L = L
        w, rb = c["widths"], c["resBlocks"]
        if len(w) != L + 1 or len(rb) != L + 1:
            raise ValueError(f"widths and resBlocks need {L + 1} entries for f = {c['f']}")
        blk = dict(norm=c["norm"], groups=c["groups"], act=c["act"])
        # encoder: enc.in, per level resBlocks then a stride-2 3×3 down conv, nout + act, 1×1 out
        enc = [Conv(3, c["channels"], w[0])]
        for i in range(L + 1):
            enc += [ResBlock(w[i], w[i], **blk) for _ in range(rb[i])]
            if i < L:
                enc.append(Conv(3, w[i], w[i + 1], stride=2))
        enc += [make_norm(w[L], c["norm"], c["groups"]), make_act(c["act"]), Conv(1, w[L], c["D"])]
        self.enc = nn.Sequential(*enc)
        # quantizer.ts initCodebook: K×D, N(0,1) for l2, N(0,1/D) otherwise
        s = 1.0 if c["codebookNorm"] == "l2" else 1 / math.sqrt(c["D"])
        self.codebook = nn.Parameter(torch.randn(c["K"], c["D"]) * s)
        # decoder: dec.in, per level (deepest first) resBlocks then ×2 up (nearest + 3×3 conv, or transpose)
        dec = [Conv(3, c["D"], w[L])]
        for i in range(L, -1, -1):
            dec += [ResBlock(w[i], w[i], **blk) for _ in range(rb[i])]
            if i > 0:
                if c["upsample"] == "nearest":
                    dec += [nn.Upsample(scale_factor=2, mode="nearest"), Conv(3, w[i], w[i - 1])]
                else:
                    dec.append(ConvTransposeUp(w[i], w[i - 1]))
        dec += [make_norm(w[0], c["norm"], c["groups"]), make_act(c["act"]), Conv(3, w[0], c["channels"])]
        self.dec = nn.Sequential(*dec)

    def losses(self, x):
        c = self.c
        l2 = c["codebookNorm"] == "l2"
        z = self.enc(x)  # [B,D,h,w]
        if l2:
            z = F.normalize(z, dim=1, eps=1e-12)
        codes = F.normalize(self.codebook, dim=1, eps=1e-12) if l2 else self.codebook  # [K,D]
        B, D, h, w = z.shape
        zf = z.permute(0, 2, 3, 1).reshape(-1, D)  # [N,D]
        with torch.no_grad():  # nearest code: max cosine (l2) or max 2·z·e − ‖e‖²; no backward pass
            sim = zf @ codes.t()
            if not l2:
                sim = 2 * sim - (codes * codes).sum(1)[None, :]
            idx = sim.argmax(1)
            counts = torch.bincount(idx, minlength=c["K"])  # toklab computes the code histogram every step
        e = codes.index_select(0, idx).reshape(B, h, w, D).permute(0, 3, 1, 2)  # gather, grad into the codebook
        codebook_loss = torch.mean((e - z.detach()) ** 2)
        commit_loss = torch.mean((e.detach() - z) ** 2)
        zq = z + (e - z).detach()  # straight-through
        xr = self.dec(zq)
        recon = torch.mean((xr - x) ** 2)
        return recon + codebook_loss + c["betaCommit"] * commit_loss, counts


TOKENIZER_KEYS = ["f", "K", "D", "widths", "resBlocks", "norm", "groups", "act", "upsample", "codebookNorm", "betaCommit", "imageSize", "channels"]


def main() -> None:
    cfg = read_input(TOKENIZER_KEYS)
    if cfg["imageSize"] % cfg["f"] != 0:
        raise ValueError(f"image size {cfg['imageSize']} is not divisible by f = {cfg['f']}")
    batch, steps = run_settings(cfg, 4)
    model = VqTokenizer(cfg)
    opt = adamw(model, 1e-4, 1e-3)
    S, C = cfg["imageSize"], cfg["channels"]
    x = torch.rand(batch, C, S, S) * 2 - 1

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss, counts = model.losses(x)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
        counts.tolist()

    time_and_report(model, step, steps)


if __name__ == "__main__":
    main()
