"""What both PyTorch references share: reading the JSON config, the optimizer toklab uses, and timing
steps the way toklab's bench does (one warm-up step, then the upper median)."""
import json
import statistics
import sys
import time

import torch


def read_input(need: list) -> dict:
    """The JSON object on argv[1] (or stdin); keys of a nested "config" are merged in. Refuses missing keys."""
    text = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1].strip() else sys.stdin.read()
    spec = json.loads(text)
    cfg = dict(spec.get("config", {}))
    for k, v in spec.items():
        if k != "config":
            cfg.setdefault(k, v)
    missing = [k for k in need if k not in cfg]
    if missing:
        raise ValueError(f"config lacks {', '.join(missing)}")
    return cfg


def run_settings(cfg: dict, default_steps: int):
    """(batch, steps) from the config; sets the thread count and the seed."""
    batch = int(cfg.get("batch", 32))
    steps = max(1, int(cfg.get("steps", default_steps)))
    torch.set_num_threads(max(1, int(cfg.get("threads", 1))))
    torch.manual_seed(0)
    return batch, steps


def adamw(model: torch.nn.Module, weight_decay: float, lr: float) -> torch.optim.Optimizer:
    """engine/train/optim.ts: AdamW, decoupled decay only on tensors of rank ≥ 2."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.999), eps=1e-8)


def time_and_report(model: torch.nn.Module, step, steps: int) -> None:
    """Runs step() steps + 1 times, the first as warm-up, and prints {params, ms, threads, torch}."""
    times = []
    for s in range(steps + 1):
        t0 = time.perf_counter()
        step()
        if s > 0:
            times.append((time.perf_counter() - t0) * 1000)
    ms = statistics.median_high(times)  # toklab's median takes the upper middle for even counts
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"params": params, "ms": ms, "threads": torch.get_num_threads(), "torch": torch.__version__}))
