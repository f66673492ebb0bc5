;; The Nyström preconditioner's low-rank step on the host's SIMD lanes (WebAssembly SIMD, float64):
;;   out = v + C W diag(scale) W^T C^T v
;; for C (n x s, the kernel columns of the landmarks) and W (s x r), one right-hand side at a time
;; (rfm/nystrom.ts applies it every CG iteration).
;;
;; Layout (byte offsets into the imported memory, 16-byte aligned; everything float64, row-major):
;;   c      n x s4   (s4 = s rounded up to 4, columns past s zero)
;;   w      s4 x r4  (r4 = r rounded up to 4, rows past s and columns past r zero)
;;   scale  r4       (zero past r)
;;   v, out n
;;   q      s4, t r4, u s4: scratch
;;
;; Strategy: C^T v walks C's rows four at a time, adding the four rows scaled by v (two f64 lanes per
;; step) into q, which stays in L1 (s4 <= 512: 4 KiB), so C is read once from memory per pass;
;; C u is one dot product per row with two f64x2 accumulators. W is small (s x r) and takes the same
;; two loops. Two passes over C per application: the step is bound by reading C (n s 8 bytes twice).
;; Source of lowrankWasm.ts (scripts/build-wasm.mjs assembles it; test/unit/linalg-wasm.test.ts checks both agree).
(module
  (import "env" "memory" (memory 1))

  ;; y[0..cols) = sum_i A[i, :] x[i] for A rows x cols (cols a multiple of 2).
  (func $gemvT (param $a i32) (param $rows i32) (param $cols i32) (param $x i32) (param $y i32)
    (local $i i32) (local $j i32) (local $rowb i32) (local $yj i32) (local $end i32) (local $aj i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $acc v128)
    (local.set $rowb (i32.shl (local.get $cols) (i32.const 3)))
    ;; y = 0
    (local.set $yj (local.get $y))
    (local.set $end (i32.add (local.get $y) (local.get $rowb)))
    (block $z (loop $zero
      (br_if $z (i32.ge_u (local.get $yj) (local.get $end)))
      (v128.store (local.get $yj) (v128.const i64x2 0 0))
      (local.set $yj (i32.add (local.get $yj) (i32.const 16)))
      (br $zero)))
    ;; four rows at a time
    (local.set $i (i32.const 0))
    (block $quadsDone (loop $quads
      (br_if $quadsDone (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $rows)))
      (local.set $x0 (f64x2.splat (f64.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $x1 (f64x2.splat (f64.load offset=8 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $x2 (f64x2.splat (f64.load offset=16 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $x3 (f64x2.splat (f64.load offset=24 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $aj (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowb))))
      (local.set $yj (local.get $y))
      (block $colsDone (loop $colLoop
        (br_if $colsDone (i32.ge_u (local.get $yj) (local.get $end)))
        (local.set $acc (v128.load (local.get $yj)))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (v128.load (local.get $aj)) (local.get $x0))))
        (local.set $acc (f64x2.add (local.get $acc)
          (f64x2.mul (v128.load (i32.add (local.get $aj) (local.get $rowb))) (local.get $x1))))
        (local.set $acc (f64x2.add (local.get $acc)
          (f64x2.mul (v128.load (i32.add (local.get $aj) (i32.shl (local.get $rowb) (i32.const 1)))) (local.get $x2))))
        (local.set $acc (f64x2.add (local.get $acc)
          (f64x2.mul (v128.load (i32.add (local.get $aj) (i32.mul (local.get $rowb) (i32.const 3)))) (local.get $x3))))
        (v128.store (local.get $yj) (local.get $acc))
        (local.set $yj (i32.add (local.get $yj) (i32.const 16)))
        (local.set $aj (i32.add (local.get $aj) (i32.const 16)))
        (br $colLoop)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $quads)))
    ;; the remaining rows one at a time
    (block $restDone (loop $rest
      (br_if $restDone (i32.ge_u (local.get $i) (local.get $rows)))
      (local.set $x0 (f64x2.splat (f64.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $aj (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowb))))
      (local.set $yj (local.get $y))
      (block $colsDone1 (loop $colLoop1
        (br_if $colsDone1 (i32.ge_u (local.get $yj) (local.get $end)))
        (v128.store (local.get $yj)
          (f64x2.add (v128.load (local.get $yj)) (f64x2.mul (v128.load (local.get $aj)) (local.get $x0))))
        (local.set $yj (i32.add (local.get $yj) (i32.const 16)))
        (local.set $aj (i32.add (local.get $aj) (i32.const 16)))
        (br $colLoop1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rest))))

  ;; y[i] = base[i] + A[i, :] x for A rows x cols (cols a multiple of 4); base = 0: no base term.
  (func $gemv (param $a i32) (param $rows i32) (param $cols i32) (param $x i32) (param $y i32) (param $base i32)
    (local $i i32) (local $aj i32) (local $xj i32) (local $end i32) (local $rowb i32)
    (local $acc0 v128) (local $acc1 v128) (local $sum f64)
    (local.set $rowb (i32.shl (local.get $cols) (i32.const 3)))
    (local.set $i (i32.const 0))
    (block $rowsDone (loop $rowLoop
      (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rows)))
      (local.set $aj (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowb))))
      (local.set $end (i32.add (local.get $aj) (local.get $rowb)))
      (local.set $xj (local.get $x))
      (local.set $acc0 (v128.const i64x2 0 0))
      (local.set $acc1 (v128.const i64x2 0 0))
      (block $colsDone (loop $colLoop
        (br_if $colsDone (i32.ge_u (local.get $aj) (local.get $end)))
        (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (v128.load (local.get $aj)) (v128.load (local.get $xj)))))
        (local.set $acc1 (f64x2.add (local.get $acc1)
          (f64x2.mul (v128.load offset=16 (local.get $aj)) (v128.load offset=16 (local.get $xj)))))
        (local.set $aj (i32.add (local.get $aj) (i32.const 32)))
        (local.set $xj (i32.add (local.get $xj) (i32.const 32)))
        (br $colLoop)))
      (local.set $acc0 (f64x2.add (local.get $acc0) (local.get $acc1)))
      (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0))))
      (if (local.get $base)
        (then (local.set $sum (f64.add (local.get $sum)
          (f64.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 3))))))))
      (f64.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3))) (local.get $sum))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rowLoop))))

  ;; out = v + C W diag(scale) W^T C^T v (layout above).
  (func (export "lowRankApply") (param $c i32) (param $n i32) (param $s4 i32) (param $w i32) (param $r4 i32)
    (param $scale i32) (param $v i32) (param $out i32) (param $q i32) (param $t i32) (param $u i32)
    (local $k i32)
    (call $gemvT (local.get $c) (local.get $n) (local.get $s4) (local.get $v) (local.get $q))
    (call $gemvT (local.get $w) (local.get $s4) (local.get $r4) (local.get $q) (local.get $t))
    (local.set $k (i32.const 0))
    (block $scaled (loop $scaleLoop
      (br_if $scaled (i32.ge_u (local.get $k) (local.get $r4)))
      (v128.store (i32.add (local.get $t) (i32.shl (local.get $k) (i32.const 3)))
        (f64x2.mul (v128.load (i32.add (local.get $t) (i32.shl (local.get $k) (i32.const 3))))
          (v128.load (i32.add (local.get $scale) (i32.shl (local.get $k) (i32.const 3))))))
      (local.set $k (i32.add (local.get $k) (i32.const 2)))
      (br $scaleLoop)))
    (call $gemv (local.get $w) (local.get $s4) (local.get $r4) (local.get $t) (local.get $u) (i32.const 0))
    (call $gemv (local.get $c) (local.get $n) (local.get $s4) (local.get $u) (local.get $out) (local.get $v))))
