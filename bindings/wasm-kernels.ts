// Loads the compiled AssemblyScript kernels (build/release.wasm or build/debug.wasm) and owns their memory: a
// first-fit allocator over linear memory, views rebuilt after growth, and traps wrapped as KernelTrapError.
// Only this file touches WebAssembly for the kernels; engine/ sees the KernelHost contract.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { KernelTrapError, MemoryLimitError } from '../engine/contracts/errors.js';
import type { F64Buffer, KernelExports, KernelFunctions, KernelHost, KernelTarget, LinearSolver } from '../engine/contracts/kernels.js';
import { linearSolver } from './highs.js';

const PAGE_BYTES = 65536;
const MAX_PAGES = 65536; // wasm32: 4 GiB
const ALIGN = 16;

/** Where `npm run build:kernels` writes the modules: <package root>/build/<target>.wasm. */
export function kernelPath(target: KernelTarget): string {
  // dist/bindings/wasm-kernels.js and bindings/wasm-kernels.ts are both two levels below the package root
  const here = new URL(import.meta.url);
  const root = new URL(here.pathname.includes('/dist/') ? '../../' : '../', here);
  return fileURLToPath(new URL(`build/${target}.wasm`, root));
}

const modules = new Map<KernelTarget, Promise<WebAssembly.Module>>();

async function compile(target: KernelTarget): Promise<WebAssembly.Module> {
  const path = kernelPath(target);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new KernelTrapError(`Cannot read the ${target} kernels at ${path}. Run "npm run build:kernels" first.`, { cause });
  }
  return WebAssembly.compile(bytes);
}

interface Block {
  ptr: number;
  bytes: number;
}

class WasmKernelHost implements KernelHost {
  private readonly exports: KernelExports;
  private readonly free_: Block[] = [];
  private top: number;
  /** No byte at or above this was ever handed out: it is as memory.grow made it, zero. */
  private untouched: number;
  private live = 0;

  constructor(
    readonly target: KernelTarget,
    exports: KernelExports,
  ) {
    this.exports = exports;
    this.top = align(exports.heapBase() >>> 0);
    this.untouched = this.top;
  }

  get bytesInUse(): number {
    return this.live;
  }

  linearSolver(): Promise<LinearSolver> {
    return linearSolver();
  }

  alloc(length: number): F64Buffer {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`buffer length must be a non-negative integer (got ${length})`);
    const bytes = align(Math.max(length, 1) * 8);
    const index = this.free_.findIndex((b) => b.bytes >= bytes);
    let ptr: number;
    if (index >= 0) {
      const block = this.free_[index];
      ptr = block.ptr;
      if (block.bytes > bytes) {
        block.ptr += bytes;
        block.bytes -= bytes;
      } else this.free_.splice(index, 1);
    } else {
      ptr = this.top;
      this.ensure(ptr + bytes);
      this.top = ptr + bytes;
    }
    this.live += bytes;
    const buffer = { ptr, length };
    // zero-filled: memory handed out before is, memory never handed out is zero already (a fill of it first-touched
    // every page: 1 s per 224 MiB here, most of a preset-none decomposition's 2.2 s at n = 22, whose workspace the
    // solver 'none' never writes)
    const dirty = Math.max(0, Math.min(length, Math.ceil((this.untouched - ptr) / 8)));
    if (dirty > 0) new Float64Array(this.exports.memory.buffer, ptr, dirty).fill(0);
    this.untouched = Math.max(this.untouched, ptr + bytes);
    return buffer;
  }

  free(buffer: F64Buffer): void {
    const bytes = align(Math.max(buffer.length, 1) * 8);
    this.live -= bytes;
    this.free_.push({ ptr: buffer.ptr, bytes });
    this.free_.sort((a, b) => a.ptr - b.ptr);
    // merge neighbours, and give the last block back to the bump pointer
    for (let i = this.free_.length - 1; i > 0; i--) {
      const prev = this.free_[i - 1];
      const block = this.free_[i];
      if (prev.ptr + prev.bytes === block.ptr) {
        prev.bytes += block.bytes;
        this.free_.splice(i, 1);
      }
    }
    const last = this.free_[this.free_.length - 1];
    if (last && last.ptr + last.bytes === this.top) {
      this.top = last.ptr;
      this.free_.pop();
    }
  }

  view(buffer: F64Buffer): Float64Array {
    return new Float64Array(this.exports.memory.buffer, buffer.ptr, buffer.length);
  }

  call<K extends keyof KernelFunctions>(name: K, ...args: Parameters<KernelFunctions[K]>): ReturnType<KernelFunctions[K]> {
    const fn = this.exports[name] as (...a: unknown[]) => ReturnType<KernelFunctions[K]>;
    try {
      return fn(...args);
    } catch (cause) {
      if (cause instanceof WebAssembly.RuntimeError) {
        throw new KernelTrapError(`Kernel ${name}(${args.join(', ')}) trapped in the ${this.target} build: ${cause.message}`, { cause });
      }
      throw cause;
    }
  }

  private ensure(endByte: number): void {
    const memory = this.exports.memory;
    const have = memory.buffer.byteLength;
    if (endByte <= have) return;
    const pages = Math.ceil((endByte - have) / PAGE_BYTES);
    const total = have / PAGE_BYTES + pages;
    if (total > MAX_PAGES) {
      throw new MemoryLimitError(
        `The kernels need ${mib(endByte)} of WebAssembly memory, more than the 4096 MiB a wasm32 module can address (a bound of the kernels, not of --max-memory-mb: the exact method fits at most 24 players, a transform of 2^n values alone about 28). Use fewer players.`,
      );
    }
    try {
      memory.grow(pages);
    } catch (cause) {
      throw new MemoryLimitError(`Could not grow the kernels' memory to ${mib(endByte)}: ${String(cause)}. Use fewer players.`, { cause });
    }
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

function mib(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)} MiB`;
}

/**
 * Instantiates a fresh kernel module (one per thread; the compiled module is shared).
 * @param target - 'release' (the default build) or 'debug' (asserts on)
 * @returns a KernelHost over the new instance
 * @throws KernelTrapError when the .wasm file is missing
 */
export async function loadKernels(target: KernelTarget = 'release'): Promise<KernelHost> {
  let module = modules.get(target);
  if (!module) {
    module = compile(target);
    modules.set(target, module);
    module.catch(() => modules.delete(target));
  }
  const instance = await WebAssembly.instantiate(await module, {});
  return new WasmKernelHost(target, instance.exports as unknown as KernelExports);
}
