# Writes the lin-RFM example (README "Matrix completion (lin-RFM)"): a 60 x 40 matrix of rank 3 with
# 40% of its entries observed, well above the r(m + d - r) = 291 degrees of freedom (989 observed).
#   lowrank.npy        float64, NaN = missing
#   lowrank.csv        the same, no header, empty cell = missing
#   lowrank-truth.npy  the full matrix, to check a completion against
# Run from the repository root: /usr/bin/python3 examples/make_lowrank.py
import numpy as np

rng = np.random.default_rng(17)
m, d, r = 60, 40, 3
truth = rng.standard_normal((m, r)) @ rng.standard_normal((r, d))
observed = rng.random((m, d)) < 0.4
partial = np.where(observed, truth, np.nan)
np.save("examples/lowrank-truth.npy", truth)
np.save("examples/lowrank.npy", partial)
with open("examples/lowrank.csv", "w") as f:
    for row in partial:
        f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")
print(f"{m} x {d}, rank {r}, {int(observed.sum())} observed")
