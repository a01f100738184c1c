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
 * LabelSchema assigns colours by position).
 */
export function labelColors(labels: readonly Label[], spans: readonly Span[]): Map<string, string> {
  const colors = new Map<string, string>();
  for (const label of labels) colors.set(label.name, label.color);
  for (const span of spans) {
    if (colors.has(span.label)) continue;
    colors.set(span.label, PALETTE[colors.size % PALETTE.length] as string);
  }
  return colors;
}

/**
 * Black or white, whichever reads better on a `#rrggbb` background (WCAG relative luminance),
 * or null for any other string. Python only lets `#rrggbb` colours through.
 */
export function readableTextColor(background: string): "#000000" | "#ffffff" | null {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(background);
  if (hex === null) return null;
  const [r, g, b] = hex.slice(1).map((pair) => {
    const c = parseInt(pair, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // Above this luminance black text has the higher contrast ratio of the two.
  return luminance > 0.179 ? "#000000" : "#ffffff";
}
