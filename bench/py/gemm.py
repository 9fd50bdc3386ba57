"""GEMM timings for bench/gemm.ts: numpy (np.dot, float32) and, when installed, torch.mm.

argv[1]: JSON {"shapes": [{"name", "m", "n", "k", "transA", "transB"}], "repeats": int, "minMs": float,
"maxCallS": float}. Prints one JSON line: {"blas": str, "numpy": {name: ms}, "torch": {name: ms}}; a shape
whose single call takes longer than maxCallS seconds is timed once. Thread counts come from the
environment (runPython sets OMP/OPENBLAS/MKL_NUM_THREADS).
"""
import json
import sys
import time

import numpy as np


def median_ms(fn, repeats, min_ms, max_call_s):
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    if first > max_call_s:
        return first * 1e3
    fn()
    iters = max(1, int(min_ms / 1e3 / max(first, 1e-6)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter() - t0) / iters * 1e3)
    samples.sort()
    return samples[len(samples) // 2]


def blas_name():
    """The BLAS library numpy loaded, from this process's memory map (e.g. netlib's reference libblas
    or OpenBLAS), resolved through symlinks and alternatives."""
    import os

    names = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path).lower()
                if "blas" in base or "mkl" in base or "blis" in base:
                    names.add(os.path.realpath(path))
    except OSError:
        pass
    return ", ".join(sorted(names)) or "unknown"


def main():
    args = json.loads(sys.argv[1])
    rng = np.random.default_rng(0)
    out = {"blas": blas_name(), "numpy": {}, "torch": {}}
    try:
        import torch

        torch.set_num_threads(int(__import__("os").environ.get("OMP_NUM_THREADS", "1")))
    except Exception:  # noqa: BLE001
        torch = None
    for s in args["shapes"]:
        m, n, k, ta, tb = s["m"], s["n"], s["k"], s["transA"], s["transB"]
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        op_a = a.T if ta else a
        op_b = b.T if tb else b
        c = np.empty((m, n), dtype=np.float32)
        out["numpy"][s["name"]] = median_ms(lambda: np.dot(op_a, op_b, out=c), args["repeats"], args["minMs"],
                                            args["maxCallS"])
        if torch is not None:
            ta_t = torch.from_numpy(a)
            tb_t = torch.from_numpy(b)
            top_a = ta_t.t() if ta else ta_t
            top_b = tb_t.t() if tb else tb_t
            tc = torch.empty((m, n), dtype=torch.float32)
            out["torch"][s["name"]] = median_ms(lambda: torch.mm(top_a, top_b, out=tc), args["repeats"],
                                                args["minMs"], args["maxCallS"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
