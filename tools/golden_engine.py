"""Golden fixture for the engine: a small conv net's forward values and gradients.

Builds one fixed expression in float64 with PyTorch (seed 0), runs backward,
and writes every input, intermediate and gradient to

    nn/src/test/resources/golden/engine_chain.safetensors

The expression:

    x [2,3,8,8] ~ randn; w1 [4,3,3,3], b1 [4], w2 [6,2,3,3], b2 [6],
    w3 [24,5], b3 [5] ~ randn * 0.3; target = [1, 3] (int64)
    h1 = conv2d(x, w1, b1, stride=1, padding=1)
    p1 = max_pool2d(relu(h1), 2)                         -> [2,4,4,4]
    h2 = conv2d(p1, w2, b2, stride=1, padding=1, groups=2)
    p2 = avg_pool2d(gelu(h2), 2)   (exact erf gelu)      -> [2,6,2,2]
    logits = p2.reshape(2, 24) @ w3 + b3
    logp = log_softmax(logits, dim=1)
    loss = nll_loss(logp, target)  (mean)
    loss.backward()  -> grad.x, grad.w1, grad.b1, grad.w2, grad.b2, grad.w3, grad.b3

Run by hand from the repository root with Debian's interpreter, which is the
one that has Debian's PyTorch (package python3-torch):

    /usr/bin/python3 tools/golden_engine.py

The fixture is committed; this script is never run in CI. The file is written
by the small safetensors writer of tools/st_io.py (no dependency on the
safetensors package) and read back and compared before the script reports
success.
"""

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from st_io import read_safetensors, write_safetensors

OUT = os.path.join("nn", "src", "test", "resources", "golden", "engine_chain.safetensors")

EXPRESSION = (
    "h1=conv2d(x,w1,b1,s1,p1); p1=max_pool2d(relu(h1),2); "
    "h2=conv2d(p1,w2,b2,s1,p1,groups=2); p2=avg_pool2d(gelu_erf(h2),2); "
    "logits=p2.reshape(2,24)@w3+b3; logp=log_softmax(logits,1); "
    "loss=nll_loss(logp,target,mean); float64, manual_seed(0), "
    "x~randn, weights~randn*0.3"
)

def build():
    """Runs the expression and returns the named tensors, in file order."""
    torch.manual_seed(0)
    f64 = torch.float64
    x = torch.randn(2, 3, 8, 8, dtype=f64)
    w1 = torch.randn(4, 3, 3, 3, dtype=f64) * 0.3
    b1 = torch.randn(4, dtype=f64) * 0.3
    w2 = torch.randn(6, 2, 3, 3, dtype=f64) * 0.3
    b2 = torch.randn(6, dtype=f64) * 0.3
    w3 = torch.randn(24, 5, dtype=f64) * 0.3
    b3 = torch.randn(5, dtype=f64) * 0.3
    target = torch.tensor([1, 3], dtype=torch.int64)
    leaves = [x, w1, b1, w2, b2, w3, b3]
    for t in leaves:
        t.requires_grad_(True)

    h1 = F.conv2d(x, w1, b1, stride=1, padding=1)
    p1 = F.max_pool2d(F.relu(h1), 2)
    h2 = F.conv2d(p1, w2, b2, stride=1, padding=1, groups=2)
    p2 = F.avg_pool2d(F.gelu(h2, approximate="none"), 2)
    logits = p2.reshape(2, 24) @ w3 + b3
    logp = F.log_softmax(logits, dim=1)
    loss = F.nll_loss(logp, target, reduction="mean")
    loss.backward()

    assert tuple(p1.shape) == (2, 4, 4, 4), p1.shape
    assert tuple(p2.shape) == (2, 6, 2, 2), p2.shape

    named = {
        "x": x, "w1": w1, "b1": b1, "w2": w2, "b2": b2, "w3": w3, "b3": b3,
        "target": target,
        "h1": h1, "p1": p1, "h2": h2, "p2": p2,
        "logits": logits, "logp": logp, "loss": loss,
    }
    for name, t in zip(["x", "w1", "b1", "w2", "b2", "w3", "b3"], leaves):
        named["grad." + name] = t.grad
    return {k: v.detach().contiguous().numpy() for k, v in named.items()}


def main():
    tensors = build()
    metadata = {
        "generator": "tools/golden_engine.py",
        "torch": torch.__version__,
        "expression": EXPRESSION,
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
    print(f"loss = {float(tensors['loss']):.17g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
