"""Golden fixture for nn's losses: every loss variant and its input gradient.

Computes, in float64 with PyTorch (seed 0), each loss of kiln's
dev.kiln.nn.loss.Losses over a grid of variants, and its gradient with
respect to the input, and writes inputs, values and gradients to

    nn/src/test/resources/golden/losses.safetensors

Inputs are stored as "in.<name>"; each case as "<case>.value" and
"<case>.grad". For reduction "none" the gradient is that of
sum(loss * v) with the stored vector v of the loss's shape
("in.v.<shape>"); otherwise that of the scalar loss.

Cases (names as written):
    ce.w{0,1}.ls{0,0.1}.i{-100,2}.{none,mean,sum}   F.cross_entropy, logits [6,5]
        (class weights or not, label smoothing, ignore index -100 with
        target "in.ce.target" or 2 with "in.ce.target2")
    ce3.w{0,1}.ls{0,0.1}.{none,mean,sum}            F.cross_entropy, logits [2,4,3], target [2,3]
    nll.w{0,1}.i{-100,2}.{none,mean,sum}            F.nll_loss on log-probabilities [6,5]
    mse.{r}, l1.{r}, smoothl1.b{1,0.5,0}.{r}         on x, y [4,3]
    bce.w{0,1}.p{0,1}.{r}                           F.binary_cross_entropy_with_logits (weight [3],
                                                    pos_weight [3]; logits include +-40)
    kl.lt{0,1}.{none,mean,sum,batchmean}             F.kl_div (log_target false/true; a zero target)

Run by hand from the repository root with Debian's interpreter:

    /usr/bin/python3 tools/golden_nn_losses.py

The fixture is committed; this script is never run in CI. It is written with
tools/st_io.py, read back and compared.
"""

import os
import warnings
import sys

import numpy as np
import torch
import torch.nn.functional as F

from st_io import read_safetensors, write_safetensors

OUT = os.path.join("nn", "src", "test", "resources", "golden", "losses.safetensors")
REDUCTIONS = ["none", "mean", "sum"]
warnings.filterwarnings("ignore", message="reduction: 'mean' divides the total loss")
F64 = torch.float64


def inputs():
    torch.manual_seed(0)
    t = {}
    t["ce.logits"] = torch.randn(6, 5, dtype=F64) * 2
    t["ce.target"] = torch.tensor([1, 0, 4, -100, 2, 3])
    t["ce.target2"] = torch.tensor([1, 0, 4, 2, 2, 3])
    t["ce.weight"] = torch.rand(5, dtype=F64) * 1.5 + 0.5
    t["ce3.logits"] = torch.randn(2, 4, 3, dtype=F64) * 2
    t["ce3.target"] = torch.tensor([[0, 3, -100], [2, 1, 1]])
    t["ce3.weight"] = torch.rand(4, dtype=F64) * 1.5 + 0.5
    t["nll.logp"] = F.log_softmax(torch.randn(6, 5, dtype=F64) * 2, dim=1)
    t["reg.x"] = torch.randn(4, 3, dtype=F64)
    t["reg.y"] = torch.randn(4, 3, dtype=F64)
    bce = torch.randn(4, 3, dtype=F64) * 3
    bce[0, 0] = 40.0
    bce[1, 1] = -40.0
    t["bce.logits"] = bce
    t["bce.target"] = torch.rand(4, 3, dtype=F64)
    t["bce.weight"] = torch.rand(3, dtype=F64) * 1.5 + 0.5
    t["bce.pos_weight"] = torch.rand(3, dtype=F64) * 2.5 + 0.5
    t["kl.input"] = F.log_softmax(torch.randn(4, 5, dtype=F64), dim=1)
    kt = F.softmax(torch.randn(4, 5, dtype=F64), dim=1)
    kt[0, 1] = 0.0
    t["kl.target"] = kt
    t["kl.log_target"] = F.log_softmax(torch.randn(4, 5, dtype=F64), dim=1)
    t["v.6"] = torch.rand(6, dtype=F64) + 0.5
    t["v.2x3"] = torch.rand(2, 3, dtype=F64) + 0.5
    t["v.4x3"] = torch.rand(4, 3, dtype=F64) + 0.5
    t["v.4x5"] = torch.rand(4, 5, dtype=F64) + 0.5
    return t


def run(inp, v, fn):
    """Value of fn(x) for a fresh leaf copy x of inp, and d(value or sum(value*v))/dx."""
    x = inp.clone().requires_grad_(True)
    value = fn(x)
    (value if value.dim() == 0 else (value * v).sum()).backward()
    return value.detach(), x.grad.detach()


def cases(t):
    """Yields (name, value, grad) for every case of the grid."""
    for w in (0, 1):
        for ls in ("0", "0.1"):
            for ign in (-100, 2):
                target = t["ce.target"] if ign == -100 else t["ce.target2"]
                for r in REDUCTIONS:
                    fn = lambda x: F.cross_entropy(x, target, weight=t["ce.weight"] if w else None,
                                                   ignore_index=ign, reduction=r, label_smoothing=float(ls))
                    yield (f"ce.w{w}.ls{ls}.i{ign}.{r}",) + run(t["ce.logits"], t["v.6"], fn)
            for r in REDUCTIONS:
                fn = lambda x: F.cross_entropy(x, t["ce3.target"], weight=t["ce3.weight"] if w else None,
                                               reduction=r, label_smoothing=float(ls))
                yield (f"ce3.w{w}.ls{ls}.{r}",) + run(t["ce3.logits"], t["v.2x3"], fn)
        for ign in (-100, 2):
            target = t["ce.target"] if ign == -100 else t["ce.target2"]
            for r in REDUCTIONS:
                fn = lambda x: F.nll_loss(x, target, weight=t["ce.weight"] if w else None, ignore_index=ign, reduction=r)
                yield (f"nll.w{w}.i{ign}.{r}",) + run(t["nll.logp"], t["v.6"], fn)
    x, y, v = t["reg.x"], t["reg.y"], t["v.4x3"]
    for r in REDUCTIONS:
        yield (f"mse.{r}",) + run(x, v, lambda a: F.mse_loss(a, y, reduction=r))
        yield (f"l1.{r}",) + run(x, v, lambda a: F.l1_loss(a, y, reduction=r))
        for beta in ("1", "0.5", "0"):
            yield (f"smoothl1.b{beta}.{r}",) + run(x, v, lambda a: F.smooth_l1_loss(a, y, reduction=r, beta=float(beta)))
    for w in (0, 1):
        for p in (0, 1):
            for r in REDUCTIONS:
                fn = lambda a: F.binary_cross_entropy_with_logits(
                    a, t["bce.target"], weight=t["bce.weight"] if w else None,
                    pos_weight=t["bce.pos_weight"] if p else None, reduction=r)
                yield (f"bce.w{w}.p{p}.{r}",) + run(t["bce.logits"], v, fn)
    for lt in (0, 1):
        target = t["kl.log_target"] if lt else t["kl.target"]
        for r in REDUCTIONS + ["batchmean"]:
            fn = lambda a: F.kl_div(a, target, reduction=r, log_target=bool(lt))
            yield (f"kl.lt{lt}.{r}",) + run(t["kl.input"], t["v.4x5"], fn)


def main():
    t = inputs()
    tensors = {"in." + k: v.contiguous().numpy() for k, v in t.items()}
    count = 0
    for name, value, grad in cases(t):
        assert torch.isfinite(value).all() and torch.isfinite(grad).all(), name
        tensors[name + ".value"] = value.contiguous().numpy()
        tensors[name + ".grad"] = grad.contiguous().numpy()
        count += 1
    metadata = {"generator": "tools/golden_nn_losses.py", "torch": torch.__version__, "cases": str(count)}
    write_safetensors(OUT, tensors, metadata)

    back, meta = read_safetensors(OUT)
    assert meta == metadata, meta
    assert list(back) == list(tensors), list(back)
    for name, arr in tensors.items():
        assert back[name].dtype == arr.dtype and back[name].shape == arr.shape, name
        assert np.array_equal(back[name], arr), name

    size = os.path.getsize(OUT)
    print(f"wrote {OUT}: {size} bytes, {count} cases, {len(tensors)} tensors, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
