/**
 * Class colours for the embedding view: Tableau 10 (Maureen Stone's 2016 redesign), a categorical
 * palette designed to stay distinguishable on white and on near-black backgrounds, with similar
 * lightness so no class dominates and no pair is confused by the common colour-vision deficiencies.
 * Contrast against VS Code's backgrounds (computed, WCAG formula): on Dark Modern (#1f1f1f) and
 * High Contrast (#000) every colour reaches ≥ 3.6:1; on a white background five (orange, teal,
 * yellow, pink, grey) fall to 1.6–2.4:1, so the plot rims every dot with a darker shade of its
 * colour, and colour is never the only cue: the legend names each class with its count and the
 * hover names a point's true and predicted class. Beyond 10 classes the hues continue by the
 * golden angle at the palette's lightness, so every class keeps a colour of its own.
 */
export type Rgb = [number, number, number];

export const TABLEAU_10: readonly Rgb[] = [
  [0x4e, 0x79, 0xa7],
  [0xf2, 0x8e, 0x2b],
  [0xe1, 0x57, 0x59],
  [0x76, 0xb7, 0xb2],
  [0x59, 0xa1, 0x4f],
  [0xed, 0xc9, 0x48],
  [0xb0, 0x7a, 0xa1],
  [0xff, 0x9d, 0xa7],
  [0x9c, 0x75, 0x5f],
  [0xba, 0xb0, 0xac],
];

function hslToRgb(h: number, s: number, l: number): Rgb {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** Colour of class `index` (0-based). */
export function classColour(index: number): Rgb {
  if (index < 0) return [128, 128, 128];
  if (index < TABLEAU_10.length) return TABLEAU_10[index];
  return hslToRgb(((index - TABLEAU_10.length) * 137.508 + 20) % 360, 0.55, 0.58);
}

export function rgbCss([r, g, b]: Rgb): string {
  return `rgb(${r}, ${g}, ${b})`;
}

/** Parses a CSS colour as `getComputedStyle` returns it (`#rgb`, `#rrggbb[aa]`, `rgb[a](…)`). */
export function parseCssColour(text: string, fallback: Rgb): Rgb {
  const t = text.trim();
  let m = /^#([0-9a-f]{3,8})$/i.exec(t);
  if (m) {
    const h = m[1];
    if (h.length === 3 || h.length === 4) return [0, 1, 2].map((i) => parseInt(h[i] + h[i], 16)) as Rgb;
    if (h.length === 6 || h.length === 8) return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as Rgb;
    return fallback;
  }
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(t);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])].map((v) => Math.round(Math.min(255, Math.max(0, v)))) as Rgb;
  return fallback;
}
