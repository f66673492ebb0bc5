/**
 * Compiles the core's WebAssembly modules (the .wat sources beside this file, assembled into base64 by
 * scripts/build-wasm.mjs) once per runtime. Null where WebAssembly or its SIMD is unavailable: callers
 * keep a JavaScript path for that.
 */
const compiled = new Map<string, WebAssembly.Module | null>();

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function wasmModule(name: string, base64: string): WebAssembly.Module | null {
  let m = compiled.get(name);
  if (m !== undefined) return m;
  try {
    const bytes = decodeBase64(base64);
    m = typeof WebAssembly !== 'undefined' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    m = null;
  }
  compiled.set(name, m);
  return m;
}

/** A fresh zeroed memory of at least `bytes` and an instance of `module` over it. */
export function instantiate(
  module: WebAssembly.Module,
  bytes: number,
): { memory: WebAssembly.Memory; exports: Record<string, unknown> } {
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
  return { memory, exports: new WebAssembly.Instance(module, { env: { memory } }).exports };
}
