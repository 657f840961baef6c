#!/usr/bin/env python3
"""PyTorch reference of toklab's AR generator training step (bench/generator.ts).

Builds the class-conditional decoder-only transformer of engine/models/transformer.ts for a
GeneratorConfig and times AdamW cross-entropy steps on random tokens, so the bench can report
toklab's step time against PyTorch's on the identical model (same layers, same parameter count).

Model (as transformer.ts initWeights / run):
  embed [K + C + 1, d]   tokens 0..K-1, classes K..K+C-1, the null class K+C
  pos   [L + 1, d]       0 = class slot, 1 + p = grid position p
  target_pos [L, d]      RAR only
  per layer: pre-norm (LayerNorm γ,β or RMSNorm γ; eps 1e-5), fused qkv d→3d with bias, causal
             softmax attention (q scaled by 1/√dh, additive −1e9 mask), out d→d, pre-norm,
             MLP d→r·d (GELU, tanh form) →d, all with biases
  ln_f, untied head d→K with bias
Input of one row (trainingInput, raster order): [class, t_0, …, t_{L−2}] at positions 0..L−1,
targets t_0..t_{L−1}; labels drop to the null class with probability 0.1.

Input: one JSON object as argv[1] (or on stdin):
  {vocabSize, seqLen, numClasses, dModel, nLayers, nHeads, mlpRatio, norm, arch, batch, steps, threads}
(the model fields may also sit under "config"). Output: one JSON line {params, ms, threads, torch}.
Run it with /usr/bin/python3 (the interpreter that has torch).
"""
from common import adamw, read_input, run_settings, time_and_report
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RmsNorm(nn.Module):
    """x · rsqrt(mean(x²) + eps) · γ (toklab's 'rms'; torch 1.13 has no nn.RMSNorm)."""

    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.g = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.g


def make_norm(d: int, kind: str) -> nn.Module:
    return RmsNorm(d) if kind == "rms" else nn.LayerNorm(d, eps=1e-5)


class Block(nn.Module):
    def __init__(self, d: int, n_heads: int, hidden: int, norm: str, resid_std: float):
        super().__init__()
        self.h, self.dh = n_heads, d // n_heads
        self.ln1 = make_norm(d, norm)
        self.qkv = nn.Linear(d, 3 * d)
        self.wo = nn.Linear(d, d)
        self.ln2 = make_norm(d, norm)
        self.w1 = nn.Linear(d, hidden)
        self.w2 = nn.Linear(hidden, d)
        # GPT-2 init as toklab: N(0, 0.02), residual projections N(0, 0.02/√(2·layers)), zero biases
        for lin, std in ((self.qkv, 0.02), (self.wo, resid_std), (self.w1, 0.02), (self.w2, resid_std)):
            nn.init.normal_(lin.weight, 0.0, std)
            nn.init.zeros_(lin.bias)

    def attention(self, x, mask):
        B, T, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        heads = lambda t: t.reshape(B, T, self.h, self.dh).transpose(1, 2)  # [B,H,T,dh]
        q = heads(q) * (1 / math.sqrt(self.dh))
        scores = q @ heads(k).transpose(-2, -1) + mask  # [B,H,T,T]
        out = torch.softmax(scores, dim=-1) @ heads(v)
        return self.wo(out.transpose(1, 2).reshape(B, T, d))

    def forward(self, x, mask):
        x = x + self.attention(self.ln1(x), mask)
        return x + self.w2(F.gelu(self.w1(self.ln2(x)), approximate="tanh"))


class Generator(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        d, K, L, C = c["dModel"], c["vocabSize"], c["seqLen"], c["numClasses"]
        if d % c["nHeads"] != 0:
            raise ValueError(f"dModel {d} is not divisible by nHeads {c['nHeads']}")
        self.c = c
        self.embed = nn.Embedding(K + C + 1, d)
        self.pos = nn.Embedding(L + 1, d)
        self.target_pos = nn.Embedding(L, d) if c["arch"] == "rar" else None
        for e in (self.embed, self.pos, self.target_pos):
            if e is not None:
                nn.init.normal_(e.weight, 0.0, 0.02)
        resid = 0.02 / math.sqrt(2 * c["nLayers"])
        hidden = int(c["mlpRatio"] * d)
        self.blocks = nn.ModuleList([Block(d, c["nHeads"], hidden, c["norm"], resid) for _ in range(c["nLayers"])])
        self.ln_f = make_norm(d, c["norm"])
        self.head = nn.Linear(d, K)
        nn.init.normal_(self.head.weight, 0.0, 0.02)
        nn.init.zeros_(self.head.bias)
        mask = torch.full((L, L), -1e9).triu(1)  # query j sees keys 0..j
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, ids, pos, target_pos):
        x = self.embed(ids) + self.pos(pos)
        if self.target_pos is not None:
            x = x + self.target_pos(target_pos)
        T = ids.shape[1]
        mask = self.mask[:T, :T]
        for blk in self.blocks:
            x = blk(x, mask)
        return self.head(self.ln_f(x))  # [B,T,K]


GENERATOR_KEYS = ["vocabSize", "seqLen", "numClasses", "dModel", "nLayers", "nHeads", "mlpRatio"]


def main() -> None:
    cfg = read_input(GENERATOR_KEYS)
    cfg.setdefault("arch", "raster")
    cfg.setdefault("norm", "layer")
    batch, steps = run_settings(cfg, 3)
    model = Generator(cfg)
    opt = adamw(model, 0.05, 1e-4)
    K, L, C = cfg["vocabSize"], cfg["seqLen"], cfg["numClasses"]
    tokens = torch.randint(0, K, (batch, L))
    labels = torch.randint(0, C, (batch,))
    pos = torch.arange(L).expand(batch, L)  # class slot 0, then 1 + p for grid position p = j − 1
    target_pos = torch.arange(L).expand(batch, L)  # raster: input j predicts position j

    def step() -> None:
        # trainingInput: class dropout 0.1 to the null class, raster order
        lab = torch.where(torch.rand(batch) < 0.1, torch.full_like(labels, C), labels)
        ids = torch.cat([(K + lab)[:, None], tokens[:, : L - 1]], dim=1)
        opt.zero_grad(set_to_none=True)
        logits = model(ids, pos, target_pos)
        loss = F.cross_entropy(logits.reshape(-1, K), tokens.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()

    time_and_report(model, step, steps)


if __name__ == "__main__":
    main()
