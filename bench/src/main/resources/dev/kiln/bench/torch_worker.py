"""Kiln bench peer: times PyTorch ops on request, one JSON object per line on stdin/stdout.

Started by dev.kiln.bench.TorchPeer with Debian's /usr/bin/python3 (python3-torch). Each request
names an op and its shape; the reply gives the mean seconds per call over a block of calls that
lasts at least `seconds`, after a warm-up. Requests are interleaved with Kiln's own measurements
by the Java side, so both see the same machine state.
"""
import ctypes
import json
import os
import sys
import time

import torch
import torch.nn.functional as F


def system_blas():
    """Debian's torch calls the system libblas.so.3; when that is OpenBLAS (package libopenblas0),
    its own thread pool ignores torch.set_num_threads, so it is set here too."""
    try:
        lib = ctypes.CDLL("libblas.so.3")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib, "OpenBLAS " + lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return None, "generic libblas.so.3 (install libopenblas0 for a fast PyTorch peer)"


BLAS, BLAS_NAME = system_blas()


START_CPUS = os.sched_getaffinity(0)
current_cpus = "all"


def set_cpus(spec):
    """Runs every thread of this process on the CPUs in `spec` ("0", "0,1", or "all": those it
    started with). Threads started later (OpenMP's, OpenBLAS's) inherit the set of the thread that
    starts them, so all present threads get it, not just this one."""
    global current_cpus
    if spec == current_cpus:
        return
    cpus = START_CPUS if spec == "all" else {int(c) for c in spec.split(",")}
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass  # a thread that has just exited
    current_cpus = spec


def set_threads(n):
    torch.set_num_threads(n)
    if BLAS is not None:
        BLAS.openblas_set_num_threads(n)


def timed(fn, seconds):
    for _ in range(3):
        fn()
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return dt / calls
        calls = max(calls * 2, int(calls * seconds / max(dt, 1e-6) * 1.2))


def make(req):
    op = req["op"]
    g = torch.Generator().manual_seed(0)
    if op == "sgemm":
        m, n, k = req["m"], req["n"], req["k"]
        a = torch.randn(m, k, generator=g)
        b = torch.randn(n, k, generator=g) if req.get("transB") else torch.randn(k, n, generator=g)
        if req.get("transB"):
            return lambda: torch.mm(a, b.t())
        return lambda: torch.mm(a, b)
    if op == "linear_fb":
        batch, fin, fout = req["batch"], req["in"], req["out"]
        x = torch.randn(batch, fin, generator=g, requires_grad=True)
        w = torch.randn(fout, fin, generator=g, requires_grad=True)
        bias = torch.randn(fout, generator=g, requires_grad=True)
        def run():
            y = F.linear(x, w, bias)
            y.backward(torch.ones_like(y))
        return run
    if op == "linear_f":
        x = torch.randn(req["batch"], req["in"], generator=g)
        w = torch.randn(req["out"], req["in"], generator=g)
        bias = torch.randn(req["out"], generator=g)
        def infer():
            with torch.no_grad():
                return F.linear(x, w, bias)
        return infer
    if op == "conv_fb":
        x = torch.randn(req["n"], req["c"], req["h"], req["w"], generator=g, requires_grad=True)
        w = torch.randn(req["oc"], req["c"], req["k"], req["k"], generator=g, requires_grad=True)
        bias = torch.randn(req["oc"], generator=g, requires_grad=True)
        # the output gradient made once, as Kiln's case does (ones_like per call timed a 4 MB fill too)
        oh = (req["h"] + 2 * req["pad"] - req["k"]) // req["stride"] + 1
        ow = (req["w"] + 2 * req["pad"] - req["k"]) // req["stride"] + 1
        gy = torch.ones(req["n"], req["oc"], oh, ow)
        def run():
            y = F.conv2d(x, w, bias, stride=req["stride"], padding=req["pad"])
            y.backward(gy)
        return run
    if op == "conv_f":
        x = torch.randn(req["n"], req["c"], req["h"], req["w"], generator=g)
        w = torch.randn(req["oc"], req["c"], req["k"], req["k"], generator=g)
        bias = torch.randn(req["oc"], generator=g)
        return lambda: F.conv2d(x, w, bias, stride=req["stride"], padding=req["pad"])
    if op == "qlinear":
        torch.backends.quantized.engine = req.get("engine", "onednn" if "onednn" in torch.backends.quantized.supported_engines else "fbgemm")
        lin = torch.nn.Linear(req["in"], req["out"])
        q = torch.quantization.quantize_dynamic(torch.nn.Sequential(lin), {torch.nn.Linear}, dtype=torch.qint8)
        x = torch.randn(req["batch"], req["in"], generator=g)
        return lambda: q(x)
    if op == "spmm":
        out, fin, batch, density = req["out"], req["in"], req["batch"], req["density"]
        w = torch.randn(out, fin, generator=g)
        w = w * (torch.rand(out, fin, generator=g) < density)
        ws = w.to_sparse()
        x = torch.randn(fin, batch, generator=g)
        return lambda: torch.sparse.mm(ws, x)
    # the memory-bound ops of a training step, as Kiln's "ops" cases: gradients set to None before
    # each call (zero_grad(set_to_none=True)), so nothing accumulates
    if op == "maxpool_fb":
        n, c, h, k = req["n"], req["c"], req["h"], req["k"]
        x = torch.randn(n, c, h, h, generator=g, requires_grad=True)
        gy = torch.randn(n, c, h // k, h // k, generator=g)
        def run():
            x.grad = None
            F.max_pool2d(x, k).backward(gy)
        return run
    if op == "relu_fb":
        x = torch.randn(req["n"], req["c"], req["h"], req["h"], generator=g, requires_grad=True)
        gy = torch.randn(req["n"], req["c"], req["h"], req["h"], generator=g)
        def run():
            x.grad = None
            F.relu(x).backward(gy)
        return run
    if op == "bnrelu_fb":
        c = req["c"]
        x = torch.randn(req["n"], c, req["h"], req["h"], generator=g, requires_grad=True)
        gy = torch.randn(req["n"], c, req["h"], req["h"], generator=g)
        w = torch.randn(c, generator=g, requires_grad=True)
        b = torch.randn(c, generator=g, requires_grad=True)
        mean, var = torch.zeros(c), torch.ones(c)
        def run():
            x.grad = w.grad = b.grad = None
            F.relu(F.batch_norm(x, mean, var, w, b, training=True, momentum=0.1, eps=1e-5)).backward(gy)
        return run
    if op == "xent_fb":
        n, classes = req["n"], req["classes"]
        x = torch.randn(n, classes, generator=g, requires_grad=True)
        t = torch.tensor([(i * 7) % classes for i in range(n)])
        def run():
            x.grad = None
            F.cross_entropy(x, t).backward()
        return run
    if op in ("sgd", "adam"):
        p = torch.randn(req["params"], generator=g, requires_grad=True)
        p.grad = torch.randn(req["params"], generator=g)
        opt = (torch.optim.SGD([p], lr=0.01, momentum=0.9) if op == "sgd"
               else torch.optim.Adam([p], lr=1e-3, betas=(0.9, 0.999), eps=1e-8))
        return opt.step
    raise ValueError("unknown op " + op)


def main():
    print(json.dumps({"ready": True, "torch": torch.__version__ + " (BLAS: " + BLAS_NAME + ")",
                      "engines": list(torch.backends.quantized.supported_engines)}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            set_cpus(req.get("cpus", "all"))
            set_threads(int(req.get("threads", 1)))
            fn = make(req)
            with torch.no_grad() if req["op"] in ("sgemm", "conv_f", "qlinear", "spmm") else torch.enable_grad():
                sec = timed(fn, float(req.get("seconds", 0.3)))
            print(json.dumps({"seconds": sec}), flush=True)
        except Exception as e:  # reported to the Java side, which prints it
            print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}), flush=True)


if __name__ == "__main__":
    main()
