/**
 * Label colours and the types that mirror the Python traitlets `labels` and `spans`.
 */

/** One entry of the `labels` traitlet; Python fills in a palette colour, as `#rrggbb`. */
export interface Label {
  name: string;
  color: string;
}

/** One entry of the `spans` traitlet: `[start, end)` in Python code points. */
export interface Span {
  start: number;
  end: number;
  label: string;
  score: number | null;
}

/**
 * A copy of annolab.schema.PALETTE (light tints that keep black text readable), for labels
 * found in spans but not declared, which Python allows when `labels` is empty. A Python test
 * checks the bundle still holds every colour of the Python palette.
 */
export const PALETTE: readonly string[] = [
  "#aec7e8",
  "#ffbb78",
  "#98df8a",
  "#ff9896",
  "#c5b0d5",
  "#c49c94",
  "#f7b6d2",
  "#dbdb8d",
  "#9edae5",
  "#c7c7c7",
];

/**
 * Colour of every label: declared labels have theirs; labels only found in spans follow in
 * order of first use, continuing the palette where the declared labels left it (as
 * LabelSchema assigns colours by position), so no colour repeats however many there are.
 */
export function labelColors(labels: readonly Label[], spans: readonly Span[]): Map<string, string> {
  const colors = new Map<string, string>();
  for (const label of labels) colors.set(label.name, label.color);
  for (const span of spans) {
    if (colors.has(span.label)) continue;
    colors.set(span.label, labelColor(colors.size));
  }
  return colors;
}

// Past the palette: hues a golden angle apart with lightness alternating, as
// annolab.schema.labels.label_color computes them (same arithmetic, same rounding).
const GOLDEN_ANGLE = 137.508;
const SATURATION = 0.62;
const LIGHTNESS = [0.8, 0.7] as const;
/** Black text on a label colour keeps at least this contrast ratio (WCAG AA). */
export const MIN_TEXT_CONTRAST = 4.5;

function hslToHex(hue: number, saturation: number, lightness: number): string {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  // Python's % is a floored modulo; hue is never negative here, so JavaScript's agrees.
  const x = chroma * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = lightness - chroma / 2;
  const sector = Math.floor(hue / 60) % 6;
  const rgb = [
    [chroma, x, 0],
    [x, chroma, 0],
    [0, chroma, x],
    [0, x, chroma],
    [x, 0, chroma],
    [chroma, 0, x],
  ][sector] as [number, number, number];
  return (
    "#" + rgb.map((v) => Math.floor((v + m) * 255 + 0.5).toString(16).padStart(2, "0")).join("")
  );
}

/** WCAG relative luminance of `#rrggbb`, or null for any other string. */
export function relativeLuminance(color: string): number | null {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (hex === null) return null;
  const [r, g, b] = hex.slice(1).map((pair) => {
    const c = parseInt(pair, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The WCAG contrast ratio of black text on `color` (1 to 21; 1 for a non-hex string). */
export function contrastWithBlack(color: string): number {
  const luminance = relativeLuminance(color);
  return luminance === null ? 1 : (luminance + 0.05) / 0.05;
}

/** The colour of the label at position `index`: the palette, then generated, never repeated. */
export function labelColor(index: number): string {
  if (index < PALETTE.length) return PALETTE[index] as string;
  const step = index - PALETTE.length;
  const hue = (step * GOLDEN_ANGLE + 7.0) % 360;
  let lightness: number = LIGHTNESS[step % 2] as number;
  let color = hslToHex(hue, SATURATION, lightness);
  // Blue and violet hues are dark at equal lightness: lighten until black text reads.
  while (contrastWithBlack(color) < MIN_TEXT_CONTRAST) {
    lightness = Math.min(lightness + 0.04, 0.96);
    color = hslToHex(hue, SATURATION, lightness);
  }
  return color;
}

/**
 * Black or white, whichever reads better on a `#rrggbb` background (WCAG relative luminance),
 * or null for any other string. Python only lets `#rrggbb` colours through.
 */
export function readableTextColor(background: string): "#000000" | "#ffffff" | null {
  const luminance = relativeLuminance(background);
  if (luminance === null) return null;
  // Above this luminance black text has the higher contrast ratio of the two.
  return luminance > 0.179 ? "#000000" : "#ffffff";
}
