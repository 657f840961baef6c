#!/usr/bin/env python3
"""Exports toklab's own VQ decoder to ONNX for bench/onnx-decoder.ts (tfjs-wasm vs onnxruntime-node).

Builds the decoder of tokenizer_torch.py (the architecture of engine/models/vq-tokenizer.ts), loads
the weights the bench wrote from a toklab VqTokenizer, and writes it with torch.onnx.export
(opset 13, dynamic batch axis): input "latent" NCHW [n, D, h, w], output "image" NCHW [n, C, H, W].
Both sides then run literally the same weights; the bench checks the outputs agree.

Input: one JSON object as argv[1] (or on stdin): the fully resolved TokenizerConfig plus
  weights   .bin of float32, the decoder's tensors one after another (toklab layouts: conv [k,k,cin,cout],
            transposed conv [k,k,cout,cin])
  manifest  [{"name": "dec.in.w", "shape": [...], "offset": elements}, ...] in the same file order
  out       path of the .onnx to write
  check     optional {"latents": .bin NCHW float32, "expected": .bin NCHW float32 (toklab's decodeLatent), "n": batch}
Output: one JSON line {params, torch, opset, onnx, torchMaxAbsDiff} (torchMaxAbsDiff null without check).
Run it with /usr/bin/python3 (the interpreter that has torch).
"""
import json
import math

import numpy as np
import torch
import torch.nn as nn

from common import read_input
from tokenizer_torch import TOKENIZER_KEYS, Conv, ConvTransposeUp, ResBlock, VqTokenizer

OPSET = 13


def decoder_slots(c: dict) -> list:
    """Toklab's name for each child of VqTokenizer.dec, in order (None: no parameters)."""
    L = int(round(math.log2(c["f"])))
    names = ["dec.in"]
    for i in range(L, -1, -1):
        names += [f"dec.l{i}.r{j}" for j in range(c["resBlocks"][i])]
        if i > 0:
            names += [None, f"dec.l{i}.up"] if c["upsample"] == "nearest" else [f"dec.l{i}.up"]
    return names + ["dec.nout", None, "dec.out"]


class Weights:
    def __init__(self, weights: str, manifest: list):
        flat = np.fromfile(weights, dtype="<f4")
        self.t = {m["name"]: torch.from_numpy(flat[m["offset"] : m["offset"] + int(np.prod(m["shape"]))].reshape(m["shape"]).copy()) for m in manifest}
        self.used = set()

    def take(self, name: str) -> torch.Tensor:
        if name not in self.t:
            raise KeyError(f"toklab's decoder has no tensor {name}")
        self.used.add(name)
        return self.t[name]


def put(param: torch.Tensor, value: torch.Tensor, name: str) -> None:
    if tuple(param.shape) != tuple(value.shape):
        raise ValueError(f"{name}: toklab {tuple(value.shape)} vs PyTorch {tuple(param.shape)}")
    with torch.no_grad():
        param.copy_(value)


def load_conv(m: Conv, w: Weights, name: str) -> None:
    put(m.conv.weight, w.take(f"{name}.w").permute(3, 2, 0, 1), f"{name}.w")  # [k,k,cin,cout] → [cout,cin,k,k]
    put(m.conv.bias, w.take(f"{name}.b"), f"{name}.b")


def load_norm(m: nn.Module, w: Weights, name: str) -> None:
    if isinstance(m, nn.GroupNorm):
        put(m.weight, w.take(f"{name}.g"), f"{name}.g")
        put(m.bias, w.take(f"{name}.b"), f"{name}.b")


def load_module(m: nn.Module, w: Weights, name: str) -> None:
    if isinstance(m, Conv):
        load_conv(m, w, name)
    elif isinstance(m, ConvTransposeUp):
        # tfjs conv2dTranspose filter [k,k,cout,cin] → torch ConvTranspose2d [cin,cout,k,k]
        put(m.conv.weight, w.take(f"{name}.w").permute(3, 2, 0, 1), f"{name}.w")
        put(m.conv.bias, w.take(f"{name}.b"), f"{name}.b")
    elif isinstance(m, ResBlock):
        load_norm(m.n1, w, f"{name}.n1")
        load_conv(m.c1, w, f"{name}.c1")
        load_norm(m.n2, w, f"{name}.n2")
        load_conv(m.c2, w, f"{name}.c2")
        if m.skip is not None:
            load_conv(m.skip, w, f"{name}.skip")
    else:
        load_norm(m, w, name)


class Decoder(nn.Module):
    def __init__(self, dec: nn.Module):
        super().__init__()
        self.dec = dec

    def forward(self, latent):
        return self.dec(latent)


def main() -> None:
    cfg = read_input(TOKENIZER_KEYS + ["weights", "manifest", "out"])
    torch.set_num_threads(1)
    dec = VqTokenizer(cfg).dec
    slots = decoder_slots(cfg)
    children = list(dec.children())
    if len(children) != len(slots):
        raise ValueError(f"decoder has {len(children)} modules, expected {len(slots)}")
    w = Weights(cfg["weights"], cfg["manifest"])
    for m, name in zip(children, slots):
        if name is not None:
            load_module(m, w, name)
    unused = sorted(set(w.t) - w.used)
    if unused:
        raise ValueError(f"toklab tensors not loaded into the PyTorch decoder: {', '.join(unused)}")
    model = Decoder(dec).eval()
    h = cfg["imageSize"] // cfg["f"]
    example = torch.zeros(2, cfg["D"], h, h)
    torch.onnx.export(
        model,
        example,
        cfg["out"],
        input_names=["latent"],
        output_names=["image"],
        dynamic_axes={"latent": {0: "n"}, "image": {0: "n"}},
        opset_version=OPSET,
        do_constant_folding=True,
    )
    diff = None
    chk = cfg.get("check")
    if chk:
        n, S, C = int(chk["n"]), cfg["imageSize"], cfg["channels"]
        z = torch.from_numpy(np.fromfile(chk["latents"], dtype="<f4").reshape(n, cfg["D"], h, h).copy())
        want = np.fromfile(chk["expected"], dtype="<f4").reshape(n, C, S, S)
        with torch.no_grad():
            got = model(z).numpy()
        diff = float(np.max(np.abs(got - want)))
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"params": params, "torch": torch.__version__, "opset": OPSET, "onnx": cfg["out"], "torchMaxAbsDiff": diff}))


if __name__ == "__main__":
    main()
