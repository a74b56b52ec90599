/** Number formatting shared by the views. */
export function formatInt(n: number): string {
  return n.toLocaleString('en-US');
}

/** 1234567 → "1.23 M" */
export function formatCompact(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return formatInt(n);
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `(${shape.map((d) => (d == null ? 'None' : String(d))).join(', ')}${shape.length === 1 ? ',' : ''})`;
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return v.toFixed(3);
}

export function formatPercent(f: number): string {
  return `${(f * 100).toFixed(f > 0 && f < 0.01 ? 2 : 1)}%`;
}
