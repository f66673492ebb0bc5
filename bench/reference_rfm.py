#!/usr/bin/env python3
"""Reference RFM fit in PyTorch (docs/science.md §1), timed per phase, for bench/backends.mjs.

Reads float64 little-endian files written by the benchmark: train X (n x d), train y (n), test X,
test y; fits M_0 = I, T rounds of (solve, AGOP), a final solve, then reports seconds per phase and
the test MSE as JSON on stdout. Same defaults as Feature Lens: standardised features, Laplace
kernel, L = 10, reg = 1e-3, T = 3, M = AGOP / max(AGOP).

usage: reference_rfm.py DIR n d n_test [--dtype float32|float64] [--threads N] [--warmup ROWS]
"""
import json
import resource
import sys
import time

import numpy as np
import torch


def laplace(a, b, bandwidth):
    # Euclidean distances of points already transformed by R (R^T R = M): as accurate as the
    # Mahalanobis form and lets torch use cdist.
    return torch.exp(-torch.cdist(a, b) / bandwidth)


def fit(X, y, Xt, yt, dtype):
    """The timed RFM fit: seconds per phase, total and CPU seconds, test MSE."""
    n, d = X.shape
    L, reg, T = 10.0, 1e-3, 3
    phases = {"kernel": 0.0, "solve": 0.0, "predict": 0.0, "agop": 0.0}
    M = torch.eye(d, dtype=dtype)
    started = time.perf_counter()
    cpu_started = time.process_time()
    test_mse = None
    for t in range(T + 1):
        # R with R^T R = M (symmetric square root), points transformed once per round.
        w, v = torch.linalg.eigh(M)
        R = (v * w.clamp(min=0).sqrt()) @ v.T
        Z, Zt = X @ R, Xt @ R
        t0 = time.perf_counter()
        K = laplace(Z, Z, L)
        K.diagonal().add_(reg)
        t1 = time.perf_counter()
        chol = torch.linalg.cholesky(K)
        alpha = torch.cholesky_solve(y, chol)
        t2 = time.perf_counter()
        pred = laplace(Zt, Z, L) @ alpha
        test_mse = float(((pred - yt) ** 2).mean())
        t3 = time.perf_counter()
        phases["kernel"] += t1 - t0
        phases["solve"] += t2 - t1
        phases["predict"] += t3 - t2
        if t == T:
            break
        # AGOP: grad f(z) = (1/L) sum_i alpha_i k(z, x_i) / |z - x_i| (x_i - z) in transformed space,
        # mapped back by R (grad_x = R^T grad_z); terms at |z - x_i| < 1e-10 dropped. In chunks of
        # z so that no n x n x d tensor exists.
        G = torch.zeros(d, d, dtype=dtype)
        for s in range(0, n, 2000):
            zc = Z[s : s + 2000]
            dist = torch.cdist(zc, Z)
            wgt = torch.where(dist < 1e-10, torch.zeros_like(dist), torch.exp(-dist / L) / (L * dist.clamp(min=1e-10)))
            wa = wgt * alpha.T  # c = 1
            g = wa @ Z - wa.sum(1, keepdim=True) * zc
            g = g @ R
            G += g.T @ g
        G /= n
        M = G / G.max()
        phases["agop"] += time.perf_counter() - t3
    total = time.perf_counter() - started
    cpu_total = time.process_time() - cpu_started
    return phases, total, cpu_total, test_mse


def main():
    args = sys.argv[1:]
    folder, n, d, n_test = args[0], int(args[1]), int(args[2]), int(args[3])
    dtype = torch.float32
    if "--dtype" in args and args[args.index("--dtype") + 1] == "float64":
        dtype = torch.float64
    warmup = int(args[args.index("--warmup") + 1]) if "--warmup" in args else 0
    if "--threads" in args:
        torch.set_num_threads(int(args[args.index("--threads") + 1]))
    load = lambda name, shape: np.fromfile(f"{folder}/{name}", dtype="<f8").reshape(shape)
    X = load("train_x.f64", (n, d))
    y = load("train_y.f64", (n, 1))
    Xt = load("test_x.f64", (n_test, d))
    yt = load("test_y.f64", (n_test, 1))
    mean, std = X.mean(0), X.std(0)
    std[std == 0] = 1
    X = torch.tensor((X - mean) / std, dtype=dtype)
    Xt = torch.tensor((Xt - mean) / std, dtype=dtype)
    y = torch.tensor(y, dtype=dtype)
    yt = torch.tensor(yt, dtype=dtype)
    if warmup > 0:
        # Untimed warm-up fit on the first rows (thread pools, allocator), as the Feature Lens side does.
        fit(X[:warmup], y[:warmup], Xt[:100], yt[:100], dtype)
    phases, total, cpu_total, test_mse = fit(X, y, Xt, yt, dtype)
    print(json.dumps({
        "backend": "pytorch-reference",
        "dtype": str(dtype).replace("torch.", ""),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "seconds": total,
        "cpu_seconds": cpu_total,
        "phases": phases,
        "test_mse": test_mse,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main()
