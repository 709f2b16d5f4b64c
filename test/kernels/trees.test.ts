// The tree kernels of the sparse method's proxy (release and debug builds): the per-node, per-player residual sums
// against a plain loop over the same rows, and the descent of rows one level down a tree against the same rule in
// JavaScript. Word boundaries (n = 31, 32, 33, 70), skipped nodes and repeated rows are covered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKernels } from '../../dist/bindings/index.js';
import type { F64Buffer, KernelHost } from '../../engine/contracts/kernels.js';
import { KERNEL_TARGETS, seededRng } from '../helpers/index.js';

/** A kernel buffer holding the given 32-bit values (i32 or u32). */
function upload32(kernels: KernelHost, values: ArrayLike<number>, signed: boolean): { buffer: F64Buffer } {
  const buffer = kernels.alloc(Math.max(1, Math.ceil(values.length / 2)));
  const memory = kernels.view(buffer).buffer;
  const view = signed ? new Int32Array(memory, buffer.ptr, values.length) : new Uint32Array(memory, buffer.ptr, values.length);
  view.set(Array.from(values));
  return { buffer };
}

describe.each(KERNEL_TARGETS)('tree kernels (%s)', (target) => {
  let kernels: KernelHost;
  beforeAll(async () => {
    kernels = await loadKernels(target);
  });
  afterAll(() => expect(kernels.bytesInUse).toBe(0));

  it.each([[1, 5], [31, 40], [32, 64], [33, 100], [70, 257]])('treeHistogramF64 over %i players and %i rows adds each listed row to its slot', (n, rows) => {
    const random = seededRng(n * 7919 + rows);
    const words = Math.ceil(n / 32);
    const bits = Uint32Array.from({ length: rows * words }, (_, k) => {
      const w = k % words;
      const valid = w === words - 1 && n % 32 !== 0 ? 2 ** (n % 32) - 1 : 0xffffffff;
      return Math.floor(random() * 2 ** 32) & valid;
    });
    const residual = Float64Array.from({ length: rows }, () => random() * 2 - 1);
    const nodes = 7;
    const nodeOf = Int32Array.from({ length: rows }, () => Math.floor(random() * nodes));
    // nodes 3..6 have slots 0..3, except node 5 (skipped); nodes 0..2 have none
    const slots = Int32Array.from([-1, -1, -1, 0, 1, -1, 3]);
    // a subset of the rows, one of them twice
    const list = Int32Array.from({ length: rows }, (_, r) => r).filter(() => random() < 0.7);
    const rowList = Int32Array.from([...list, list[0] ?? 0]);
    const expected = new Float64Array(2 * 4 * n);
    for (const r of rowList) {
      const slot = slots[nodeOf[r]];
      if (slot < 0) continue;
      for (let i = 0; i < n; i++) {
        if ((bits[r * words + (i >>> 5)] >>> (i & 31)) & 1) {
          expected[2 * (slot * n + i)] += residual[r];
          expected[2 * (slot * n + i) + 1] += 1;
        }
      }
    }
    const buffers = [
      upload32(kernels, bits, false).buffer,
      upload32(kernels, rowList, true).buffer,
      kernels.alloc(rows),
      upload32(kernels, nodeOf, true).buffer,
      upload32(kernels, slots, true).buffer,
      kernels.alloc(2 * 4 * n),
    ];
    try {
      const [b, l, res, node, slot, out] = buffers;
      kernels.view(res).set(residual);
      kernels.view(out).fill(0.5); // added to, not overwritten
      kernels.call('treeHistogramF64', b.ptr, words, n, l.ptr, rowList.length, res.ptr, node.ptr, slot.ptr, out.ptr);
      const got = kernels.view(out);
      for (let k = 0; k < expected.length; k++) expect(got[k]).toBeCloseTo(expected[k] + 0.5, 12);
    } finally {
      for (const buffer of buffers) kernels.free(buffer);
    }
  });

  it.each([[3, 10], [32, 50], [45, 300]])('treeDescendI32 over %i players and %i rows moves rows at split nodes to the child their bit names', (n, rows) => {
    const random = seededRng(n + 31 * rows);
    const words = Math.ceil(n / 32);
    const bits = Uint32Array.from({ length: rows * words }, () => Math.floor(random() * 2 ** 32));
    const nodes = 15;
    // split nodes 0..6 on random players; node 4 is a leaf (−1), node 6 no node (−2)
    const split = Int32Array.from({ length: nodes }, (_, k) => (k === 4 ? -1 : k === 6 || k > 6 ? -2 : Math.floor(random() * n)));
    const nodeOf = Int32Array.from({ length: rows }, () => Math.floor(random() * 7));
    const expected = Int32Array.from(nodeOf, (node, r) => {
      const player = split[node];
      return player < 0 ? node : 2 * node + 1 + ((bits[r * words + (player >>> 5)] >>> (player & 31)) & 1);
    });
    const b = upload32(kernels, bits, false);
    const rowsAt = upload32(kernels, nodeOf, true);
    const s = upload32(kernels, split, true);
    try {
      kernels.call('treeDescendI32', b.buffer.ptr, words, rows, rowsAt.buffer.ptr, s.buffer.ptr);
      // a fresh view: a later alloc may have grown the memory
      expect(Array.from(new Int32Array(kernels.view(rowsAt.buffer).buffer, rowsAt.buffer.ptr, rows))).toEqual(Array.from(expected));
    } finally {
      for (const buffer of [b.buffer, rowsAt.buffer, s.buffer]) kernels.free(buffer);
    }
  });
});
