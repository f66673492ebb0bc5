// The committed numpy reference of the catapult lab's two-layer ReLU network (test/fixtures/catapult/
// relu-ntk.json, written by make_relu_ntk.py), shared by the CPU and the WebGPU tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mat } from '../../src/core/mat';

export interface ReluNtkReference {
  n: number;
  d: number;
  m: number;
  X: number[];
  y: number[];
  W: number[];
  a: number[];
  residuals: number[];
  v: number[];
  Kv: number[];
  lambda_max: number;
  lambda_2: number;
  agop: number[];
  lr: number;
  gd: { W: number[]; a: number[] };
  sgd_rows: number[];
  sgd: { W: number[]; a: number[] };
}

export const reluNtkRef = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'catapult', 'relu-ntk.json'), 'utf8'),
) as ReluNtkReference;

export const F = (xs: number[]): Float64Array => Float64Array.from(xs);

/** The reference's problem (X, y, initial W and a, width m) as the catapult backends take it. */
export const reluNtkProblem = () => ({
  X: mat(reluNtkRef.n, reluNtkRef.d, F(reluNtkRef.X)),
  y: F(reluNtkRef.y),
  W: F(reluNtkRef.W),
  a: F(reluNtkRef.a),
  width: reluNtkRef.m,
});
