// The CPU backend on worker threads (src/core/rfm/node.ts) against the single-thread float64 oracle:
// the same row-range functions, so predictions, gradient moments and CG solves agree to rounding
// (sums across threads are added in another order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { CpuPool, ThreadedCpuBackend, rowSplits } from '../../src/core/rfm/node';
import { mat } from '../../src/core/mat';
import { rng } from '../../src/core/random';

const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
};

test('rowSplits: contiguous, covering, balanced for uniform rows and for a triangle', () => {
  assert.deepEqual(rowSplits(10, 2, 0), [
    [0, 5],
    [5, 10],
  ]);
  const t = rowSplits(1000, 2, 1);
  assert.deepEqual(t, [
    [0, 707],
    [707, 1000],
  ]);
  // Triangle rows 0..706 hold 707 * 708 / 2 = 250,278 entries of 500,500: half.
  assert.deepEqual(rowSplits(1, 4, 0), [[0, 1]]);
});

test('ThreadedCpuBackend equals CpuBackend: predict, gradMoments, CG solve (2 threads)', async () => {
  const r = rng(9);
  const n = 600,
    d = 6,
    c = 2;
  const X = mat(
    n,
    d,
    Float64Array.from({ length: n * d }, () => 2 * r() - 1),
  );
  const Z = mat(
    300,
    d,
    Float64Array.from({ length: 300 * d }, () => 2 * r() - 1),
  );
  const Y = mat(
    n,
    c,
    Float64Array.from({ length: n * c }, (_, i) => Math.sin(3 * X.data[Math.floor(i / c) * d + (i % c)])),
  );
  const kernel = { name: 'laplace' as const, bandwidth: 2 };
  const one = new CpuBackend();
  const two = new ThreadedCpuBackend(new CpuPool(2));
  try {
    const alpha = (await one.solve(X, kernel, Y, 1e-3, { solver: 'cg' })) as { alpha: typeof X };
    const alpha2 = (await two.solve(X, kernel, Y, 1e-3, { solver: 'cg' })) as { alpha: typeof X };
    assert.ok(rel(alpha2.alpha.data, alpha.alpha.data) < 1e-10);
    assert.deepEqual(
      two.solveLog.map((s) => s.iterations),
      one.solveLog.map((s) => s.iterations),
    );
    const p1 = await one.predict(Z, X, kernel, alpha.alpha),
      p2 = await two.predict(Z, X, kernel, alpha.alpha);
    assert.ok(rel(p2.data, p1.data) < 1e-13);
    for (const diagOnly of [false, true]) {
      const g1 = await one.gradMoments(X, X, kernel, alpha.alpha, diagOnly),
        g2 = await two.gradMoments(X, X, kernel, alpha.alpha, diagOnly);
      assert.ok(rel(g2.outer, g1.outer) < 1e-12);
      assert.ok(rel(g2.sum.data, g1.sum.data) < 1e-10);
    }
  } finally {
    two.dispose();
  }
});

test('AGOP over the packed K a CG solve kept (agopNext) equals the recomputing oracle; without agopNext nothing is kept', async () => {
  const r = rng(21);
  const n = 500,
    d = 5;
  const X = mat(
    n,
    d,
    Float64Array.from({ length: n * d }, () => r() * 2 - 1),
  );
  const oracle = new CpuBackend();
  for (const kernel of [
    { name: 'laplace' as const, bandwidth: 2 },
    { name: 'gaussian' as const, bandwidth: 1.5 },
  ])
    for (const c of [1, 3])
      for (const diagOnly of [false, true]) {
        const Y = mat(
          n,
          c,
          Float64Array.from({ length: n * c }, () => r()),
        );
        for (const backend of [new CpuBackend(), new ThreadedCpuBackend(new CpuPool(2))]) {
          try {
            const sol = await backend.solve(X, kernel, Y, 1e-3, { solver: 'cg', agopNext: true });
            assert.ok(sol.ok);
            const got = await backend.gradMoments(X, X, kernel, sol.alpha, diagOnly);
            const want = await oracle.gradMoments(X, X, kernel, sol.alpha, diagOnly);
            const what = `${kernel.name} c = ${c} diag ${diagOnly} ${backend.constructor.name}`;
            assert.ok(rel(got.outer, want.outer) < 1e-12, `${what}: outer ${rel(got.outer, want.outer)}`);
            assert.ok(rel(got.sum.data, want.sum.data) < 1e-12, `${what}: sum ${rel(got.sum.data, want.sum.data)}`);
          } finally {
            backend.dispose();
          }
        }
        // Without the hint the single-thread backend runs the oracle's own loop: bit-identical.
        const plain = new CpuBackend();
        const sol = await plain.solve(X, kernel, Y, 1e-3, { solver: 'cg' });
        assert.ok(sol.ok);
        const got = await plain.gradMoments(X, X, kernel, sol.alpha, diagOnly);
        const want = await oracle.gradMoments(X, X, kernel, sol.alpha, diagOnly);
        assert.deepEqual(Array.from(got.outer), Array.from(want.outer));
      }
});
