// The part of the WebAssembly JS API that bindings/ uses. Node 20 has it at runtime, but @types/node 20 does not
// declare it (it lives in lib.dom), and pulling in the DOM types would let browser globals into engine code.
declare namespace WebAssembly {
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  // eslint-disable-next-line @typescript-eslint/no-extraneous-class
  class Module {}
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  class RuntimeError extends Error {}
  function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
  function instantiate(module: Module, imports?: Record<string, unknown>): Promise<Instance>;
}
