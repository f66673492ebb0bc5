;; Dense float64 kernels of the host-side factorizations on the host's SIMD lanes (WebAssembly SIMD,
;; two f64 lanes): the Nyström preconditioner's Gram matrix (rfm/nystrom.ts) and the plane rotations
;; of the symmetric eigensolver (linalg/eigh-tridiagonal.ts). WebAssembly runs at compiled speed from
;; its first call, where the JavaScript loops ran interpreted until the JIT warmed up: in a fresh
;; process the first eigendecomposition of s = 64 took 33 ms against 2 ms once warm (measured).
;;
;; Layout: matrices row-major float64 with a row stride `ld` (a multiple of 2), 16-byte aligned.
;; Source of denseWasm.ts (scripts/build-wasm.mjs assembles it; test/unit/linalg-wasm.test.ts checks both agree).
(module
  (import "env" "memory" (memory 1))

  ;; H += C^T C over rows i0..n-1, upper part: H[a, b] for b >= a rounded down to even, a < s4, for
  ;; C (n x s4, columns past s zero) and H s4 x s4 (zero it first; entries left of each row's start
  ;; are left alone). Rows of C go four at a time, so each H pair is loaded and stored once per four
  ;; rows (H stays in L1/L2: 32 KiB at s = 64, 128 KiB at s = 128); C is read once. A caller may run
  ;; the rows in ranges (n the range's end) to hand the event loop back in between.
  (func (export "gramUpper") (param $c i32) (param $n i32) (param $s4 i32) (param $h i32) (param $i0 i32)
    (local $i i32) (local $a i32) (local $rowb i32) (local $hb i32) (local $hend i32)
    (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $start i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $acc v128)
    (local.set $rowb (i32.shl (local.get $s4) (i32.const 3)))
    (local.set $i (local.get $i0))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $n)))
      ;; rows i..i+3 of C (a row past n repeats row i with weight 0: its x is zeroed below)
      (local.set $c0 (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $rowb))))
      (local.set $c1 (select (i32.add (local.get $c0) (local.get $rowb)) (local.get $c0)
        (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $n))))
      (local.set $c2 (select (i32.add (local.get $c0) (i32.shl (local.get $rowb) (i32.const 1))) (local.get $c0)
        (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $n))))
      (local.set $c3 (select (i32.add (local.get $c0) (i32.mul (local.get $rowb) (i32.const 3))) (local.get $c0)
        (i32.lt_u (i32.add (local.get $i) (i32.const 3)) (local.get $n))))
      (local.set $a (i32.const 0))
      (block $colsDone (loop $cols
        (br_if $colsDone (i32.ge_u (local.get $a) (local.get $s4)))
        (local.set $x0 (f64x2.splat (f64.load (i32.add (local.get $c0) (i32.shl (local.get $a) (i32.const 3))))))
        (local.set $x1 (f64x2.splat (select (f64.load (i32.add (local.get $c1) (i32.shl (local.get $a) (i32.const 3))))
          (f64.const 0) (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $n)))))
        (local.set $x2 (f64x2.splat (select (f64.load (i32.add (local.get $c2) (i32.shl (local.get $a) (i32.const 3))))
          (f64.const 0) (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $n)))))
        (local.set $x3 (f64x2.splat (select (f64.load (i32.add (local.get $c3) (i32.shl (local.get $a) (i32.const 3))))
          (f64.const 0) (i32.lt_u (i32.add (local.get $i) (i32.const 3)) (local.get $n)))))
        ;; H[a, start..s4) += x0 C[i0, .] + x1 C[i1, .] + x2 C[i2, .] + x3 C[i3, .]
        (local.set $start (i32.shl (i32.and (local.get $a) (i32.const -2)) (i32.const 3)))
        (local.set $hb (i32.add (i32.add (local.get $h) (i32.mul (local.get $a) (local.get $rowb))) (local.get $start)))
        (local.set $hend (i32.add (i32.add (local.get $h) (i32.mul (local.get $a) (local.get $rowb))) (local.get $rowb)))
        (block $bDone (loop $b
          (br_if $bDone (i32.ge_u (local.get $hb) (local.get $hend)))
          (local.set $acc (v128.load (local.get $hb)))
          (local.set $acc (f64x2.add (local.get $acc)
            (f64x2.mul (local.get $x0) (v128.load (i32.add (local.get $c0) (local.get $start))))))
          (local.set $acc (f64x2.add (local.get $acc)
            (f64x2.mul (local.get $x1) (v128.load (i32.add (local.get $c1) (local.get $start))))))
          (local.set $acc (f64x2.add (local.get $acc)
            (f64x2.mul (local.get $x2) (v128.load (i32.add (local.get $c2) (local.get $start))))))
          (local.set $acc (f64x2.add (local.get $acc)
            (f64x2.mul (local.get $x3) (v128.load (i32.add (local.get $c3) (local.get $start))))))
          (v128.store (local.get $hb) (local.get $acc))
          (local.set $hb (i32.add (local.get $hb) (i32.const 16)))
          (local.set $start (i32.add (local.get $start) (i32.const 16)))
          (br $b)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $cols)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $rows))))

  ;; Rows r0 and r1 (byte offsets) of length len2 (even) rotated: x = c x0 - s x1 into r0 and
  ;; s x0 + c x1 into r1 (the QL iteration's Givens rotation of Q^T).
  (func (export "rotateRows") (param $r0 i32) (param $r1 i32) (param $len2 i32) (param $c f64) (param $s f64)
    (local $end i32) (local $cv v128) (local $sv v128) (local $z0 v128) (local $z1 v128)
    (local.set $cv (f64x2.splat (local.get $c)))
    (local.set $sv (f64x2.splat (local.get $s)))
    (local.set $end (i32.add (local.get $r0) (i32.shl (local.get $len2) (i32.const 3))))
    (block $done (loop $k
      (br_if $done (i32.ge_u (local.get $r0) (local.get $end)))
      (local.set $z0 (v128.load (local.get $r0)))
      (local.set $z1 (v128.load (local.get $r1)))
      (v128.store (local.get $r1) (f64x2.add (f64x2.mul (local.get $sv) (local.get $z0)) (f64x2.mul (local.get $cv) (local.get $z1))))
      (v128.store (local.get $r0) (f64x2.sub (f64x2.mul (local.get $cv) (local.get $z0)) (f64x2.mul (local.get $sv) (local.get $z1))))
      (local.set $r0 (i32.add (local.get $r0) (i32.const 16)))
      (local.set $r1 (i32.add (local.get $r1) (i32.const 16)))
      (br $k))))

  ;; p[i] = beta sum_j A[i, j] v[j] for rows i0..d-1, columns j0 rounded down to even ..ld (v zero
  ;; where the sum must not reach: below j0 and past d). A: rows of stride ld.
  (func (export "rowsTimes") (param $a i32) (param $ld i32) (param $i0 i32) (param $d i32) (param $j0 i32)
    (param $v i32) (param $p i32) (param $beta f64)
    (local $i i32) (local $aj i32) (local $vj i32) (local $end i32) (local $rowb i32) (local $acc0 v128) (local $acc v128)
    (local.set $rowb (i32.shl (local.get $ld) (i32.const 3)))
    (local.set $j0 (i32.shl (i32.and (local.get $j0) (i32.const -2)) (i32.const 3)))
    (local.set $i (local.get $i0))
    (block $rowsDone (loop $rowLoop
      (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $d)))
      (local.set $aj (i32.add (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowb))) (local.get $j0)))
      (local.set $end (i32.add (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowb))) (local.get $rowb)))
      (local.set $vj (i32.add (local.get $v) (local.get $j0)))
      (local.set $acc (v128.const i64x2 0 0))
      (block $colsDone (loop $colLoop
        (br_if $colsDone (i32.ge_u (local.get $aj) (local.get $end)))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (v128.load (local.get $aj)) (v128.load (local.get $vj)))))
        (local.set $aj (i32.add (local.get $aj) (i32.const 16)))
        (local.set $vj (i32.add (local.get $vj) (i32.const 16)))
        (br $colLoop)))
      (f64.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))
        (f64.mul (local.get $beta) (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rowLoop))))

  ;; A[i, j] -= v[i] w[j] + w[i] v[j] for rows k..d-1, columns k rounded down to even ..ld (v and w
  ;; zero below k and past d, so the extra column and the padding are left as they are).
  (func (export "symRank2") (param $a i32) (param $ld i32) (param $k i32) (param $d i32) (param $v i32) (param $w i32)
    (local $i i32) (local $aj i32) (local $vj i32) (local $wj i32) (local $end i32) (local $rowb i32) (local $j0 i32)
    (local $vi v128) (local $wi v128)
    (local.set $rowb (i32.shl (local.get $ld) (i32.const 3)))
    (local.set $j0 (i32.shl (i32.and (local.get $k) (i32.const -2)) (i32.const 3)))
    (local.set $i (local.get $k))
    (block $rowsDone (loop $rowLoop
      (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $d)))
      (local.set $vi (f64x2.splat (f64.load (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $wi (f64x2.splat (f64.load (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $aj (i32.add (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowb))) (local.get $j0)))
      (local.set $end (i32.add (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowb))) (local.get $rowb)))
      (local.set $vj (i32.add (local.get $v) (local.get $j0)))
      (local.set $wj (i32.add (local.get $w) (local.get $j0)))
      (block $colsDone (loop $colLoop
        (br_if $colsDone (i32.ge_u (local.get $aj) (local.get $end)))
        (v128.store (local.get $aj) (f64x2.sub (v128.load (local.get $aj))
          (f64x2.add (f64x2.mul (local.get $vi) (v128.load (local.get $wj))) (f64x2.mul (local.get $wi) (v128.load (local.get $vj))))))
        (local.set $aj (i32.add (local.get $aj) (i32.const 16)))
        (local.set $vj (i32.add (local.get $vj) (i32.const 16)))
        (local.set $wj (i32.add (local.get $wj) (i32.const 16)))
        (br $colLoop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rowLoop))))

  ;; Q^T <- Q^T - beta v (v^T Q^T) over rows j0..d-1 of Q^T (stride ld): p = sum_j v[j] Q^T[j, :], then
  ;; Q^T[j, :] -= beta v[j] p. p has ld entries (scratch).
  (func (export "reflectRows") (param $q i32) (param $ld i32) (param $j0 i32) (param $d i32) (param $v i32)
    (param $beta f64) (param $p i32)
    (local $j i32) (local $qr i32) (local $pr i32) (local $pend i32) (local $rowb i32) (local $vj v128)
    (local.set $rowb (i32.shl (local.get $ld) (i32.const 3)))
    (local.set $pend (i32.add (local.get $p) (local.get $rowb)))
    (local.set $pr (local.get $p))
    (block $z (loop $zero
      (br_if $z (i32.ge_u (local.get $pr) (local.get $pend)))
      (v128.store (local.get $pr) (v128.const i64x2 0 0))
      (local.set $pr (i32.add (local.get $pr) (i32.const 16)))
      (br $zero)))
    (local.set $j (local.get $j0))
    (block $d1 (loop $acc
      (br_if $d1 (i32.ge_u (local.get $j) (local.get $d)))
      (local.set $vj (f64x2.splat (f64.load (i32.add (local.get $v) (i32.shl (local.get $j) (i32.const 3))))))
      (local.set $qr (i32.add (local.get $q) (i32.mul (local.get $j) (local.get $rowb))))
      (local.set $pr (local.get $p))
      (block $r1 (loop $row
        (br_if $r1 (i32.ge_u (local.get $pr) (local.get $pend)))
        (v128.store (local.get $pr) (f64x2.add (v128.load (local.get $pr)) (f64x2.mul (local.get $vj) (v128.load (local.get $qr)))))
        (local.set $pr (i32.add (local.get $pr) (i32.const 16)))
        (local.set $qr (i32.add (local.get $qr) (i32.const 16)))
        (br $row)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $acc)))
    (local.set $j (local.get $j0))
    (block $d2 (loop $upd
      (br_if $d2 (i32.ge_u (local.get $j) (local.get $d)))
      (local.set $vj (f64x2.splat (f64.mul (local.get $beta)
        (f64.load (i32.add (local.get $v) (i32.shl (local.get $j) (i32.const 3)))))))
      (local.set $qr (i32.add (local.get $q) (i32.mul (local.get $j) (local.get $rowb))))
      (local.set $pr (local.get $p))
      (block $r2 (loop $row2
        (br_if $r2 (i32.ge_u (local.get $pr) (local.get $pend)))
        (v128.store (local.get $qr) (f64x2.sub (v128.load (local.get $qr)) (f64x2.mul (local.get $vj) (v128.load (local.get $pr)))))
        (local.set $pr (i32.add (local.get $pr) (i32.const 16)))
        (local.set $qr (i32.add (local.get $qr) (i32.const 16)))
        (br $row2)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $upd))))

  ;; Conjugate gradients' vector steps (rfm/nystrom.ts), over vectors of n rows with c columns
  ;; interleaved (element i of column col at (i c + col) * 8 bytes; a, b, ... are offsets of column
  ;; col's first element, stride c * 8 bytes). Scalar float64: c is usually 1, and here the point is
  ;; running compiled from the first call (the same JavaScript loops boxed every float until the JIT
  ;; warmed up: a scavenge per millisecond, 0.3-1 ms per iteration at n = 2000, measured).

  ;; sum_i a[i] b[i]
  (func (export "dot") (param $a i32) (param $b i32) (param $n i32) (param $stride i32) (result f64)
    (local $i i32) (local $s0 f64)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s0 (f64.add (local.get $s0) (f64.mul (f64.load (local.get $a)) (f64.load (local.get $b)))))
      (local.set $a (i32.add (local.get $a) (local.get $stride)))
      (local.set $b (i32.add (local.get $b) (local.get $stride)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $s0))

  ;; x[i] += step p[i]; r[i] -= step q[i]
  (func (export "cgStep") (param $x i32) (param $p i32) (param $r i32) (param $q i32) (param $n i32) (param $stride i32)
    (param $step f64)
    (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (f64.store (local.get $x) (f64.add (f64.load (local.get $x)) (f64.mul (local.get $step) (f64.load (local.get $p)))))
      (f64.store (local.get $r) (f64.sub (f64.load (local.get $r)) (f64.mul (local.get $step) (f64.load (local.get $q)))))
      (local.set $x (i32.add (local.get $x) (local.get $stride)))
      (local.set $p (i32.add (local.get $p) (local.get $stride)))
      (local.set $r (i32.add (local.get $r) (local.get $stride)))
      (local.set $q (i32.add (local.get $q) (local.get $stride)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; p[i] = z[i] + beta p[i]
  (func (export "xpby") (param $p i32) (param $z i32) (param $n i32) (param $stride i32) (param $beta f64)
    (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (f64.store (local.get $p) (f64.add (f64.load (local.get $z)) (f64.mul (local.get $beta) (f64.load (local.get $p)))))
      (local.set $p (i32.add (local.get $p) (local.get $stride)))
      (local.set $z (i32.add (local.get $z) (local.get $stride)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; q[i] += reg v[i] over len contiguous values
  (func (export "addScaled") (param $q i32) (param $v i32) (param $len i32) (param $reg f64)
    (local $end i32)
    (local.set $end (i32.add (local.get $q) (i32.shl (local.get $len) (i32.const 3))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $q) (local.get $end)))
      (f64.store (local.get $q) (f64.add (f64.load (local.get $q)) (f64.mul (local.get $reg) (f64.load (local.get $v)))))
      (local.set $q (i32.add (local.get $q) (i32.const 8)))
      (local.set $v (i32.add (local.get $v) (i32.const 8)))
      (br $l)))))
