"""Golden fixture for the optimizers and learning-rate schedules of dev.kiln.nn.optim.

Optimizers: in float64, parameters w [3,4] and b [4] minimise
    loss = sum((x @ w + b - t)^2)      x [6,3], t [6,4] ~ randn (seed 0), w, b ~ randn * 0.5
with gradients recomputed each step; after each of STEPS steps the parameters are saved as
"<config>.w" [STEPS,3,4] and "<config>.b" [STEPS,4]. The problem is saved as x, t, w0, b0.

Schedules: an optimizer with two groups (lr 0.1 and 0.02) is driven for 30 steps; the
learning rates at steps 0..30 are saved as "<schedule>.lr" [31,2] and, for the one-cycle
schedules, the momentum (SGD) or beta1 (Adam) as "<schedule>.momentum" [31,2].

The configurations below are mirrored one to one by OptimGoldenTest.

Run by hand from the repository root with Debian's interpreter (python3-torch):

    /usr/bin/python3 tools/golden_optim.py

writes nn/src/test/resources/golden/optim.safetensors (never run in CI), with the
safetensors writer of tools/st_io.py, and reads it back and compares before reporting.
"""

import json
import os
import sys
import warnings

import numpy as np
import torch
from torch.optim import SGD, Adam, AdamW
from torch.optim.lr_scheduler import (CosineAnnealingLR, LinearLR, MultiStepLR, OneCycleLR,
                                      SequentialLR, StepLR)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from st_io import read_safetensors, write_safetensors  # noqa: E402

OUT = os.path.join("nn", "src", "test", "resources", "golden", "optim.safetensors")
STEPS = 6
SCHEDULE_STEPS = 30
F64 = torch.float64

# name -> (optimizer class, per-group overrides for [w, b] or None for one group, kwargs)
OPTIMIZERS = {
    "sgd": (SGD, None, dict(lr=0.01)),
    "sgd_momentum": (SGD, None, dict(lr=0.01, momentum=0.9)),
    "sgd_dampening": (SGD, None, dict(lr=0.01, momentum=0.9, dampening=0.3)),
    "sgd_nesterov": (SGD, None, dict(lr=0.01, momentum=0.9, nesterov=True)),
    "sgd_wd": (SGD, None, dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    "sgd_groups": (SGD, [dict(lr=0.005, weight_decay=0.2), dict(momentum=0.5)], dict(lr=0.01, momentum=0.9)),
    "adam": (Adam, None, dict(lr=0.05)),
    "adam_wd": (Adam, None, dict(lr=0.05, weight_decay=0.1)),
    "adam_amsgrad": (Adam, None, dict(lr=0.05, betas=(0.8, 0.9), amsgrad=True)),
    "adamw": (AdamW, None, dict(lr=0.05)),
    "adamw_wd_amsgrad": (AdamW, None, dict(lr=0.05, betas=(0.85, 0.95), eps=1e-6, weight_decay=0.3, amsgrad=True)),
    "adam_groups": (Adam, [dict(lr=0.02, betas=(0.5, 0.9)), dict(weight_decay=0.1)], dict(lr=0.05)),
}


def problem():
    torch.manual_seed(0)
    x = torch.randn(6, 3, dtype=F64)
    t = torch.randn(6, 4, dtype=F64)
    w0 = torch.randn(3, 4, dtype=F64) * 0.5
    b0 = torch.randn(4, dtype=F64) * 0.5
    return x, t, w0, b0


def trajectory(x, t, w0, b0, cls, groups, kwargs):
    w = w0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    params = [w, b] if groups is None else [dict(params=[p], **g) for p, g in zip([w, b], groups)]
    opt = cls(params, **kwargs)
    ws, bs = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((x @ w + b - t) ** 2).sum()
        loss.backward()
        opt.step()
        ws.append(w.detach().clone())
        bs.append(b.detach().clone())
    return torch.stack(ws), torch.stack(bs)


def two_groups(cls=SGD, **kwargs):
    a = torch.zeros(2, dtype=F64, requires_grad=True)
    c = torch.zeros(3, dtype=F64, requires_grad=True)
    return cls([dict(params=[a], lr=0.1), dict(params=[c], lr=0.02)], **kwargs)


# name -> function(optimizer) -> scheduler; the optimizer comes from make (SGD momentum 0.9 unless told)
SCHEDULES = {
    "step": lambda o: StepLR(o, step_size=7, gamma=0.5),
    "multistep": lambda o: MultiStepLR(o, milestones=[5, 12, 12, 20], gamma=0.3),
    "cosine": lambda o: CosineAnnealingLR(o, T_max=12, eta_min=0.001),
    "warmup_cosine": lambda o: SequentialLR(o, [LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5),
                                                CosineAnnealingLR(o, T_max=25, eta_min=0.0005)], milestones=[5]),
    "warmup_constant": lambda o: LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=8),
    "warmup_step": lambda o: SequentialLR(o, [LinearLR(o, start_factor=0.5, end_factor=1.0, total_iters=4),
                                              StepLR(o, step_size=6, gamma=0.5)], milestones=[4]),
    "onecycle": lambda o: OneCycleLR(o, max_lr=[0.5, 0.1], total_steps=SCHEDULE_STEPS),
    "onecycle_linear3": lambda o: OneCycleLR(o, max_lr=0.3, total_steps=SCHEDULE_STEPS, pct_start=0.25,
                                             anneal_strategy="linear", three_phase=True, div_factor=10.0,
                                             final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9),
}
ADAM_SCHEDULES = {"onecycle_linear3"}


def schedule(name):
    opt = two_groups(Adam) if name in ADAM_SCHEDULES else two_groups(SGD, momentum=0.9)
    sched = SCHEDULES[name](opt)
    lrs, moms = [], []
    for step in range(SCHEDULE_STEPS + 1):
        if step > 0:
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append([g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups])
    out = {name + ".lr": torch.tensor(lrs, dtype=F64)}
    if name.startswith("onecycle"):
        out[name + ".momentum"] = torch.tensor(moms, dtype=F64)
    return out


def build():
    x, t, w0, b0 = problem()
    named = {"x": x, "t": t, "w0": w0, "b0": b0}
    for name, (cls, groups, kwargs) in OPTIMIZERS.items():
        ws, bs = trajectory(x, t, w0, b0, cls, groups, kwargs)
        named[name + ".w"] = ws
        named[name + ".b"] = bs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in SCHEDULES:
            named.update(schedule(name))
    return {k: v.detach().contiguous().numpy() for k, v in named.items()}


def main():
    tensors = build()
    configs = {name: dict(optimizer=cls.__name__, groups=groups, **kwargs)
               for name, (cls, groups, kwargs) in OPTIMIZERS.items()}
    metadata = {
        "generator": "tools/golden_optim.py",
        "torch": torch.__version__,
        "problem": "loss=sum((x@w+b-t)^2); float64; manual_seed(0); x[6,3],t[6,4]~randn; w0[3,4],b0[4]~randn*0.5",
        "steps": str(STEPS),
        "optimizers": json.dumps(configs, sort_keys=True),
        "schedules": "two groups lr 0.1, 0.02; steps 0.." + str(SCHEDULE_STEPS),
    }
    write_safetensors(OUT, tensors, metadata)

    back, meta = read_safetensors(OUT)
    assert meta == metadata, meta
    assert list(back) == list(tensors), list(back)
    for name, arr in tensors.items():
        got = back[name]
        assert got.dtype == arr.dtype and got.shape == arr.shape, name
        assert np.array_equal(got, arr), name

    size = os.path.getsize(OUT)
    print(f"wrote {OUT}: {size} bytes, {len(tensors)} tensors, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
