// Number formats of the comparison and experiment pages.

/** A share as a percentage: 0.4567 → 45.7%. */
export function pct(v: number | undefined | null, digits = 1): string {
  if (v === undefined || v === null || !isFinite(v)) return '—';
  return (v * 100).toFixed(digits) + '%';
}

/** A signed percentage (a lift or a difference of shares). */
export function signedPct(v: number | undefined | null, digits = 1): string {
  if (v === undefined || v === null || !isFinite(v)) return '—';
  return (v > 0 ? '+' : '') + (v * 100).toFixed(digits) + '%';
}

/** A number with up to 3 significant decimals. */
export function num(v: number | undefined | null): string {
  if (v === undefined || v === null || !isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** A p-value: < 0.001 below it. */
export function pval(v: number | undefined | null): string {
  if (v === undefined || v === null || !isFinite(v)) return '—';
  if (v < 0.001) return '< 0.001';
  return v.toFixed(3);
}
