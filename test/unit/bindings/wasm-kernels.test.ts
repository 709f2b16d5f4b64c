// The kernel loader: buffers by pointer, views that survive memory growth, freed memory reused, traps and limits.
import { describe, expect, it } from 'vitest';
import { loadKernels } from '../../../dist/bindings/index.js';
import { KERNEL_TARGETS, MemoryLimitError, bruteForce, expectClose, seededRandom } from '../../helpers/index.js';

describe.each(KERNEL_TARGETS)('wasm kernel host (%s)', (target) => {
  it('runs a kernel in place on a buffer, without copying it in or out', async () => {
    const host = await loadKernels(target);
    const buffer = host.alloc(8);
    host.view(buffer).set([1, 2, 3, 4, 5, 6, 7, 8]);
    host.call('zetaSubsetF64', buffer.ptr, 3);
    expectClose(host.view(buffer), bruteForce(Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8), 'zeta'));
    expect(buffer.ptr % 16).toBe(0);
  });

  it('keeps data and pointers valid when memory grows, with fresh views', async () => {
    const host = await loadKernels(target);
    const x = seededRandom(7, 1 << 10);
    const small = host.alloc(x.length);
    host.view(small).set(x);
    const oldView = host.view(small);
    const big = host.alloc(1 << 22); // 32 MiB: forces memory.grow, which detaches old views
    expect(oldView.length).toBe(0); // the detached view is empty, which is why views are rebuilt
    expectClose(host.view(small), x);
    host.call('mobiusSubsetF64', small.ptr, 10);
    expectClose(host.view(small), bruteForce(x, 'mobius'), { atol: 1e-9 });
    host.free(big);
    host.free(small);
    expect(host.bytesInUse).toBe(0);
  });

  it('reuses freed memory and zero-fills new buffers', async () => {
    const host = await loadKernels(target);
    const a = host.alloc(100);
    host.view(a).fill(9);
    host.free(a);
    const b = host.alloc(50);
    expect(b.ptr).toBe(a.ptr);
    expect(host.view(b).every((v) => v === 0)).toBe(true);
  });

  it('zero-fills a buffer that spans memory handed out before and memory never handed out (only the first is filled)', async () => {
    const host = await loadKernels(target);
    const a = host.alloc(1000);
    const b = host.alloc(1000);
    host.view(a).fill(7);
    host.view(b).fill(8);
    host.free(b);
    host.free(a);
    // from a's start over a, b and fresh memory past them (grown on the way)
    const c = host.alloc(1 << 21);
    expect(c.ptr).toBe(a.ptr);
    expect(host.view(c).every((v) => v === 0)).toBe(true);
    host.view(c).fill(3);
    host.free(c);
    const d = host.alloc(1 << 21);
    expect(host.view(d).every((v) => v === 0)).toBe(true);
  });

  it('refuses buffers past the 4 GiB wasm32 limit with MemoryLimitError', async () => {
    const host = await loadKernels(target);
    expect(() => host.alloc(2 ** 30)).toThrowError(MemoryLimitError);
  });
});
