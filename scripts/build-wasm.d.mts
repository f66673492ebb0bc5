// Types of scripts/build-wasm.mjs for the unit test that checks committed modules against their sources.
export function assemble(path: string): Promise<Uint8Array>;
export function moduleText(name: string, bytes: Uint8Array): string;
