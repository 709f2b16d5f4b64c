// The blur baseline: an exact separable Gaussian with half-sample symmetric edges, checked against a 2-D brute force
// over the mirrored image; its cost stops growing with σ, and for σ far beyond the image it is the per-channel mean.
import { describe, expect, it } from 'vitest';
import { blurImage, imageLayout, type LayoutContext } from '../../dist/engine/pipeline/players.js';
import { InvalidOptionError, expectClose, seededRandom } from '../helpers/index.js';

/** Half-sample symmetric extension (… c b a | a b c … z | z y …): period 2n, each pixel twice per period. */
const mirror = (p: number, n: number) => {
  const r = ((p % (2 * n)) + 2 * n) % (2 * n);
  return r < n ? r : 2 * n - 1 - r;
};

/** The definition, written out: Σ_{dy,dx} g(dy)·g(dx)·image(mirror(y+dy), mirror(x+dx)) / (Σ g)², over ±12σ. */
function bruteForceBlur(values: Float64Array, channels: number, height: number, width: number, sigma: number): Float64Array {
  const reach = Math.ceil(12 * sigma);
  const g = Array.from({ length: 2 * reach + 1 }, (_, k) => Math.exp(-((k - reach) ** 2) / (2 * sigma * sigma)));
  const norm = g.reduce((a, b) => a + b, 0) ** 2;
  const out = new Float64Array(values.length);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let dy = -reach; dy <= reach; dy++) {
          const row = c * height * width + mirror(y + dy, height) * width;
          let line = 0;
          for (let dx = -reach; dx <= reach; dx++) line += g[dx + reach] * values[row + mirror(x + dx, width)];
          acc += g[dy + reach] * line;
        }
        out[c * height * width + y * width + x] = acc / norm;
      }
    }
  }
  return out;
}

function channelMeans(values: Float64Array, channels: number, plane: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let c = 0; c < channels; c++) {
    const slice = values.subarray(c * plane, (c + 1) * plane);
    const mean = slice.reduce((a, b) => a + b, 0) / plane;
    out.fill(mean, c * plane, (c + 1) * plane);
  }
  return out;
}

describe('blurImage', () => {
  const [channels, height, width] = [2, 5, 7];
  const image = seededRandom(11, channels * height * width);

  // σ small (truncated support), about the image size (whole folded period), and just below the mean shortcut
  it.each([0.5, 1.7, 4, 9, 19])('matches the 2-D brute force over the mirrored image (σ = %s)', (sigma) => {
    expectClose(blurImage(image, channels, height, width, sigma), bruteForceBlur(image, channels, height, width, sigma), { atol: 1e-12 });
  });

  it('keeps the mean of each channel (the kernel is normalized and the edges mirror)', () => {
    const blurred = blurImage(image, channels, height, width, 2.5);
    expectClose(channelMeans(blurred, channels, height * width), channelMeans(image, channels, height * width), { atol: 1e-12 });
  });

  it('is the identity on a constant image and on a 1×1 image', () => {
    expectClose(blurImage(new Float64Array(35).fill(0.25), 1, 5, 7, 3), new Float64Array(35).fill(0.25), { atol: 1e-15 });
    expect(Array.from(blurImage(Float64Array.of(0.5, -1), 2, 1, 1, 4))).toEqual([0.5, -1]);
  });

  it('tends continuously to the per-channel mean: σ = 1e7 gives it at once, in time and memory of the image size', () => {
    const big = seededRandom(5, 3 * 32 * 32);
    const started = performance.now();
    const blurred = blurImage(big, 3, 32, 32, 1e7);
    expect(performance.now() - started).toBeLessThan(500); // the old kernel of 6·10^7 taps took 33 s and 3 GB
    expectClose(blurred, channelMeans(big, 3, 32 * 32), { atol: 1e-12 });
    // just below the shortcut the exact blur is already the mean to double precision: no jump at the switch
    expectClose(blurImage(big, 3, 32, 32, 2.8 * 64), channelMeans(big, 3, 32 * 32), { atol: 1e-9 });
  });

  it('tends to the image itself as σ → 0, down to the smallest σ (1e-200 squared to 0 gave a NaN baseline; a sweep, stop 47)', () => {
    for (const sigma of [0.05, 1e-100, 1e-200, Number.MIN_VALUE]) expect(Array.from(blurImage(image, channels, height, width, sigma)), String(sigma)).toEqual(Array.from(image));
    // and continuously: at σ = 0.3 a neighbour weighs e^(−1/0.18) ≈ 0.004 of the centre
    expect(Array.from(blurImage(image, channels, height, width, 0.3))).not.toEqual(Array.from(image));
  });

  it('refuses σ that is not a positive finite number', () => {
    expect(() => blurImage(image, channels, height, width, 0)).toThrowError(InvalidOptionError);
    expect(() => blurImage(image, channels, height, width, Number.NaN)).toThrowError(/blurSigma must be a positive number of pixels \(got NaN\)/);
  });
});

describe('the image layout with the blur baseline', () => {
  it('uses the channel means as the baseline when blurSigma is far beyond the image', () => {
    const values = seededRandom(3, 3 * 8 * 8);
    const ctx: LayoutContext = { inputName: 'image', dims: [3, 8, 8], values, baseline: 'blur', background: 'keep' };
    const layout = imageLayout(ctx, { grid: '2x2', blurSigma: 1e7 });
    expect(layout.n).toBe(4);
    expectClose(layout.masked.baseline, channelMeans(values, 3, 64), { atol: 1e-12 });
  });
});
