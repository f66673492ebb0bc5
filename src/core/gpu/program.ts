// A kernel as the GPU runtime sees it: its WGSL, its name (the pipeline cache key) and the declared
// layout of its `struct Params` uniform, so call sites pass named values and never pack bytes by hand.
// A unit test parses every kernel's struct and checks it against the declaration (test/unit/wgsl-programs).
export type UniformType = 'u32' | 'f32';

export interface GpuProgram<F extends string = string> {
  readonly name: string;
  readonly code: string;
  /** The WGSL `struct Params` fields in order; names starting with '_' are padding (always 0). */
  readonly params: readonly (readonly [F, UniformType])[];
}

/** The non-padding fields of a program's Params, as the values packParams takes. */
export type ParamValues<F extends string> = { readonly [K in F as K extends `_${string}` ? never : K]: number };

export function program<const F extends string>(
  name: string,
  code: string,
  params: readonly (readonly [F, UniformType])[],
): GpuProgram<F> {
  return { name, code, params };
}

/** Packs named values into the uniform's bytes (4 bytes a field, the buffer a multiple of 16). */
export function packParams<F extends string>(p: GpuProgram<F>, values: ParamValues<F>): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((p.params.length * 4) / 16) * 16));
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  const given = values as Record<string, number>;
  p.params.forEach(([name, type], i) => {
    if (name.startsWith('_')) return;
    const v = given[name];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new RangeError(`${p.name}: uniform field ${name} needs a finite number, got ${String(v)}`);
    if (type === 'f32') f[i] = v;
    else if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
      throw new RangeError(`${p.name}: uniform field ${name} is u32, got ${v}`);
    else u[i] = v;
  });
  return buf;
}

/** The fields of `struct <name>` in WGSL source, in order: [field, type]. Comments are ignored. */
export function wgslStructFields(code: string, name = 'Params'): [string, string][] {
  const noComments = code.replace(/\/\/[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const m = new RegExp(`struct\\s+${name}\\s*\\{([^}]*)\\}`).exec(noComments);
  if (!m) return [];
  return m[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [field, type] = s.split(':').map((t) => t.trim());
      return [field, type] as [string, string];
    });
}
