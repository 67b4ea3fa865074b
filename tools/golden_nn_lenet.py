"""PyTorch-compatibility fixture for nn: a LeNet-5 state dict and its outputs.

Defines the LeNet-5 of Kiln's dev.kiln.nn.layers.Models.lenet5 in PyTorch, with
the same state-dict keys:

    features   = Sequential(Conv2d(1, 6, 5, 1, 2), ReLU, MaxPool2d(2),
                            Conv2d(6, 16, 5, 1, 0), ReLU, MaxPool2d(2))
    classifier = Sequential(Linear(400, 120), ReLU, Linear(120, 84), ReLU,
                            Linear(84, 10))
    forward(x) = classifier(features(x).flatten(1))      x: [N, 1, 28, 28]

initialised by PyTorch's defaults after manual_seed(0), and writes

    nn/src/test/resources/golden/lenet5.safetensors     the float32 state dict
        (features.0.weight, ..., classifier.4.bias), in the layout of
        safetensors.torch.save_file, with __metadata__ {"format": "pt", ...}
    nn/src/test/resources/golden/lenet5_io.safetensors  "input" x [4,1,28,28]
        (randn after the model's initialisation) and "output", the model's
        logits [4, 10] in eval mode

Read by dev.kiln.nn.io.PyTorchCompatTest: the state dict loads strictly into
Kiln's LeNet-5, whose logits must match "output".

Run by hand from the repository root with Debian's interpreter (the one with
python3-torch); never run in CI:

    /usr/bin/python3 tools/golden_nn_lenet.py
"""

import os
import sys

import numpy as np
import torch
from torch import nn

from st_io import read_safetensors, write_safetensors

GOLDEN = os.path.join("nn", "src", "test", "resources", "golden")
STATE = os.path.join(GOLDEN, "lenet5.safetensors")
IO = os.path.join(GOLDEN, "lenet5_io.safetensors")


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, 1, 0), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def main():
    torch.manual_seed(0)
    model = LeNet5().eval()
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        out = model(x)
    assert tuple(out.shape) == (4, 10), out.shape

    state = {k: v.detach().to(torch.float32).contiguous().numpy() for k, v in model.state_dict().items()}
    common = {"generator": "tools/golden_nn_lenet.py", "torch": torch.__version__}
    write_safetensors(STATE, state, {"format": "pt", **common}, reference_layout=True)
    tensors = {"input": x.numpy(), "output": out.numpy()}
    write_safetensors(IO, tensors, {"format": "pt", "seed": "0", **common}, reference_layout=True)

    for path, expected in ((STATE, state), (IO, tensors)):
        back, _ = read_safetensors(path)
        assert sorted(back) == sorted(expected), sorted(back)
        for name, arr in expected.items():
            got = back[name]
            assert got.dtype == arr.dtype and got.shape == arr.shape, name
            assert np.array_equal(got, arr), name
        print(f"wrote {path}: {os.path.getsize(path)} bytes, {len(expected)} tensors")
    print(f"torch {torch.__version__}; logits[0] = {out[0].tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
