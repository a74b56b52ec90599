/** Plain-text tables and number formats for the CLI and the output channel. */
export type Align = 'left' | 'right';

export function formatTable(headers: string[], rows: (string | number)[][], align: Align[] = []): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => ((align[i] ?? 'left') === 'right' ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** 1234567 → "1,234,567". */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** FLOPs with an SI prefix: 30.7e9 → "30.7 G". */
export function si(n: number, digits = 3): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [v, u] of units) if (Math.abs(n) >= v) return `${Number((n / v).toPrecision(digits))} ${u}`;
  return String(n);
}
