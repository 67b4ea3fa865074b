# PyTorch's side of `kiln compare-torch` (written to a temporary file and run by Debian's python3).
# Builds the same model as Kiln, SGD on one fixed synthetic batch, and answers on stdout:
#   "kiln-compare ready <torch version> <threads> <BLAS>" once, then for each "run WARMUP ITERATIONS"
#   line read from stdin "kiln-compare result <images per second>"; "quit" ends it.
# Without torch it prints "kiln-compare unavailable <reason>" and exits.
import argparse
import ctypes
import os
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--model", required=True, choices=["mlp", "lenet5", "cnn"])
p.add_argument("--threads", type=int, required=True)
p.add_argument("--batch-size", type=int, required=True)
p.add_argument("--lr", type=float, required=True)
p.add_argument("--momentum", type=float, required=True)
p.add_argument("--seed", type=int, required=True)
p.add_argument("--cpu", type=int, default=-1)
a = p.parse_args()

if a.cpu >= 0:
    # every thread of this process on the CPU Kiln's training thread runs on (threads started
    # later, OpenMP's and OpenBLAS's, inherit it from the one that starts them)
    for tid in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(tid), {a.cpu})

try:
    import torch
    from torch import nn
except ImportError as e:
    print("kiln-compare unavailable cannot import torch (%s): install python3-torch" % e, flush=True)
    sys.exit(0)

torch.set_num_threads(a.threads)


def system_blas(threads):
    """Debian's torch calls the system libblas.so.3; when that is OpenBLAS (package libopenblas0) its
    thread pool ignores torch.set_num_threads, so it gets the same count here."""
    try:
        lib = ctypes.CDLL("libblas.so.3")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_set_num_threads(threads)
        return "OpenBLAS %s, %d thread%s" % (lib.openblas_get_corename().decode(), threads, "" if threads == 1 else "s")
    except (OSError, AttributeError):
        return "generic libblas.so.3 (install libopenblas0 for a fast PyTorch peer)"


BLAS_NAME = system_blas(a.threads)
torch.manual_seed(a.seed)


class Features(nn.Module):
    """features -> flatten -> classifier, the layout of Kiln's LeNet5 and SmallVgg (same state-dict keys)."""

    def __init__(self, features, classifier):
        super().__init__()
        self.features = features
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.ReLU()]


def model(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                             nn.Linear(100, 10))
    if name == "lenet5":
        return Features(nn.Sequential(nn.Conv2d(1, 6, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 16, 5, 1, 0), nn.ReLU(), nn.MaxPool2d(2)),
                        nn.Sequential(nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)))
    c1, c2 = 32, 64
    return Features(nn.Sequential(*conv_bn_relu(1, c1), *conv_bn_relu(c1, c1), nn.MaxPool2d(2),
                                  *conv_bn_relu(c1, c2), *conv_bn_relu(c2, c2), nn.MaxPool2d(2)),
                    nn.Sequential(nn.Dropout(0.25), nn.Linear(c2 * 7 * 7, 256), nn.ReLU(), nn.Dropout(0.5),
                                  nn.Linear(256, 10)))


net = model(a.model)
net.train()
opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)
x = torch.randn(a.batch_size, 1, 28, 28)
y = torch.randint(0, 10, (a.batch_size,))
loss_fn = nn.CrossEntropyLoss()


def step():
    opt.zero_grad(set_to_none=True)
    loss_fn(net(x), y).backward()
    opt.step()


print("kiln-compare ready %s %d %s" % (torch.__version__, torch.get_num_threads(), BLAS_NAME), flush=True)
for line in sys.stdin:
    parts = line.split()
    if not parts or parts[0] == "quit":
        break
    warmup, iterations = int(parts[1]), int(parts[2])
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(iterations):
        step()
    print("kiln-compare result %r" % (iterations * a.batch_size / (time.perf_counter() - t0)), flush=True)
