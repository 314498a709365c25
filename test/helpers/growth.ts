// Does the cost of `run` grow linearly with its input? Wall-clock ratios on a shared
// 2-core machine are noisy (another tap job, GC, frequency scaling), so each size is
// timed as the best of several long-enough samples, the pair is measured up to three
// times, and the bound sits at the geometric midpoint between linear growth (factor)
// and quadratic growth (factor²): for 8x the input, 22.6x — a quadratic scan lands
// near 64x every time, a linear one under 10x almost always.

function perCall(fn: () => void): number {
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    let iters = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0;
    do {
      fn();
      iters++;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
    } while (elapsed < 20);
    best = Math.min(best, elapsed / iters);
  }
  return best;
}

export interface Growth {
  small: number; // ms per call on the small input
  large: number; // ms per call on the large input
  ratio: number;
  bound: number;
  linear: boolean;
}

export function measureGrowth(small: () => void, large: () => void, factor = 8): Growth {
  const bound = factor ** 1.5;
  small();
  large(); // warm up both shapes
  let best: Growth = { small: 0, large: Infinity, ratio: Infinity, bound, linear: false };
  for (let attempt = 0; attempt < 3 && !best.linear; attempt++) {
    const a = perCall(small);
    const b = perCall(large);
    if (b / a < best.ratio) best = { small: a, large: b, ratio: b / a, bound, linear: b / a < bound };
  }
  return best;
}

export function describeGrowth(name: string, g: Growth): string {
  return `${name}: ${g.small.toFixed(2)} ms -> ${g.large.toFixed(2)} ms (${g.ratio.toFixed(1)}x, bound ${g.bound.toFixed(1)}x)`;
}
