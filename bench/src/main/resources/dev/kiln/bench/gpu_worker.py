"""Vendor-library peers of Kiln's GPU bench (cuBLAS, cuDNN, cuSPARSE through PyTorch).

Reads one JSON list of cases on stdin, prints one JSON object per case on stdout:
{"name": ..., "ms": median milliseconds per call, "note": ...}. Timed with CUDA events after a
warm-up, the median of `rounds` blocks of `reps` calls. Started by dev.kiln.bench.GpuReport.
"""
import json
import sys

import torch


def timed(fn, reps, rounds):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(rounds):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / reps)
    times.sort()
    return times[len(times) // 2]


def case(c):
    kind = c["kind"]
    dev = "cuda"
    g = torch.Generator(device=dev).manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = kind == "gemm_tf32"
    torch.backends.cudnn.allow_tf32 = kind == "conv_tf32"
    if kind in ("gemm_fp32", "gemm_tf32", "gemm_bf16"):
        m, n, k = c["m"], c["n"], c["k"]
        dt = torch.bfloat16 if kind == "gemm_bf16" else torch.float32
        a = torch.randn(m, k, device=dev, generator=g).to(dt)
        b = torch.randn(k, n, device=dev, generator=g).to(dt)
        return lambda: torch.mm(a, b), "torch.mm " + str(dt).replace("torch.", "") + (" tf32" if kind == "gemm_tf32" else "")
    if kind == "int8":
        m, n, k = c["m"], c["n"], c["k"]
        a = torch.randint(-128, 127, (m, k), device=dev, dtype=torch.int8, generator=g)
        b = torch.randint(-128, 127, (k, n), device=dev, dtype=torch.int8, generator=g)
        return lambda: torch._int_mm(a, b), "torch._int_mm"
    if kind in ("conv_fp32", "conv_tf32"):
        x = torch.randn(c["n"], c["c"], c["h"], c["w"], device=dev, generator=g)
        w = torch.randn(c["oc"], c["c"], c["k"], c["k"], device=dev, generator=g)
        bias = torch.randn(c["oc"], device=dev, generator=g)
        torch.backends.cudnn.benchmark = True
        return (lambda: torch.nn.functional.conv2d(x, w, bias, padding=c["pad"]),
                "cuDNN conv2d " + ("tf32" if kind == "conv_tf32" else "fp32"))
    if kind == "spmm":
        m, k, n = c["m"], c["k"], c["n"]
        dense = torch.randn(m, k, device=dev, generator=g)
        keep = torch.rand(m, k, device=dev, generator=g) >= c["sparsity"]
        s = (dense * keep).to_sparse_csr()
        x = torch.randn(k, n, device=dev, generator=g)
        return lambda: torch.sparse.mm(s, x), "torch.sparse.mm CSR (cuSPARSE)"
    raise ValueError("unknown case kind " + kind)


def main():
    cases = json.loads(sys.stdin.read())
    print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda,
                      "device": torch.cuda.get_device_name(0)}), flush=True)
    for c in cases:
        try:
            fn, note = case(c)
            ms = timed(fn, c.get("reps", 10), c.get("rounds", 5))
            print(json.dumps({"name": c["name"], "ms": ms, "note": note}), flush=True)
        except Exception as e:  # report and go on with the next case
            print(json.dumps({"name": c["name"], "ms": None, "note": "failed: %s" % e}), flush=True)
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
