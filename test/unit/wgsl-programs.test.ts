// Every kernel's declared uniform layout matches the `struct Params` of its WGSL, field by field, and
// every .wgsl file of the tree is declared as (part of) a program: a field added to a shader without
// its declaration, or reordered, fails here instead of reading garbage on the GPU.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as catapult from '../../src/core/catapult/kernels/programs';
import * as shared from '../../src/core/gpu/programs';
import { packParams, program, wgslStructFields, type GpuProgram } from '../../src/core/gpu/program';
import * as linrfm from '../../src/core/linrfm/kernels/programs';
import * as nfa from '../../src/core/nfa/kernels/programs';
import * as rfm from '../../src/core/rfm/kernels/programs';

const programs: GpuProgram[] = [rfm, nfa, catapult, linrfm, shared].flatMap((m) => Object.values(m) as GpuProgram[]);

test('each program declares its WGSL Params struct exactly', () => {
  assert.ok(programs.length >= 16);
  for (const p of programs) {
    assert.deepEqual(
      wgslStructFields(p.code),
      p.params.map(([f, t]) => [f, t]),
      `${p.name}: declared uniform layout differs from its WGSL struct Params`,
    );
  }
});

test('every kernel file with a Params struct belongs to a program', () => {
  const wgsl = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? wgsl(join(dir, e.name)) : e.name.endsWith('.wgsl') ? [join(dir, e.name)] : [],
    );
  for (const f of wgsl('src/core')) {
    const code = readFileSync(f, 'utf8');
    if (!wgslStructFields(code).length) continue;
    assert.ok(
      programs.some((p) => p.code.includes(code)),
      `${f} has a struct Params but no program declares it`,
    );
  }
});

test('packParams writes u32 and f32 fields in declared order, padding zero, 16-byte multiple', () => {
  const p = program('t', '', [
    ['a', 'u32'],
    ['x', 'f32'],
    ['_pad', 'u32'],
    ['b', 'u32'],
    ['c', 'u32'],
  ]);
  const buf = packParams(p, { a: 7, x: 0.5, b: 9, c: 4294967295 });
  assert.equal(buf.byteLength, 32);
  const u = new Uint32Array(buf);
  assert.equal(u[0], 7);
  assert.equal(new Float32Array(buf)[1], 0.5);
  assert.deepEqual([u[2], u[3], u[4], u[5]], [0, 9, 4294967295, 0]);
  assert.throws(() => packParams(p, { a: -1, x: 0, b: 0, c: 0 }), /a is u32, got -1/);
  assert.throws(() => packParams(p, { a: 1, x: NaN, b: 0, c: 0 }), /x needs a finite number/);
});
