/** The few statistics the bench reports: medians and ranges, never means of noisy samples. */

/** The q-quantile of ascending `sorted` values, interpolated linearly; NaN for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** The median of `values`, in any order; NaN for none. */
export function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((x, y) => x - y),
    0.5,
  );
}

/** Median, extremes and relative spread of repeated measurements. */
export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
  /** (max − min) / median, in percent. */
  spreadPct: number;
}

/** Summarises repeated measurements; undefined for none. */
export function spread(values: readonly number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { n: values.length, median: m, min, max, spreadPct: m === 0 ? 0 : ((max - min) / m) * 100 };
}
