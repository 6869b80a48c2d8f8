/**
 * `.wasm` files imported statically are compiled by the bundler (wrangler's CompiledWasm rule,
 * and vitest-pool-workers in tests): the import is a ready `WebAssembly.Module`. Workers refuse to
 * compile WebAssembly from bytes at run time, so this is the only way to use it.
 */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
