/**
 * Which key picks which label. A label's own `hotkey` wins; labels without one get a key as
 * annolab.schema.labels.pick_hotkey gives it: the free digits 1-9 in order, then a letter of
 * the label's name, any free letter, capitals, punctuation. So every label has a key, however
 * many there are ("?" opens the shortcut list and 0 + - = _ zoom an image: never handed out).
 */

/** One entry of the `labels` traitlet of an annotation widget (validate_labels' dicts). */
export interface LabelInfo {
  name: string;
  color: string;
  hotkey: string | null;
  description: string;
}

export interface Hotkeys {
  /** key -> label name */
  byKey: Map<string, string>;
  /** label name -> key */
  byLabel: Map<string, string>;
}

const DIGITS = "123456789";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const PUNCTUATION = "!@#$%^&*()[]{};:',.<>/|\\`~\"";

/** The key a label without one gets, given the keys `taken`; null when all are. */
export function pickHotkey(name: string, taken: ReadonlySet<string>): string | null {
  const own = [...name.toLowerCase()].filter((ch) => LOWER.includes(ch));
  const candidates = [...DIGITS, ...own, ...LOWER, ...LOWER.toUpperCase(), ...PUNCTUATION];
  return candidates.find((key) => !taken.has(key)) ?? null;
}

/**
 * `reserved`: keys the widget uses itself (the errors view's "c" for a comment), never handed
 * to a label without a hotkey of its own.
 */
export function assignHotkeys(labels: readonly LabelInfo[], reserved: readonly string[] = []): Hotkeys {
  const byKey = new Map<string, string>();
  const byLabel = new Map<string, string>();
  for (const label of labels) {
    if (label.hotkey === null || label.hotkey === "" || byKey.has(label.hotkey)) continue;
    byKey.set(label.hotkey, label.name);
    byLabel.set(label.name, label.hotkey);
  }
  const taken = new Set([...byKey.keys(), ...reserved]);
  for (const label of labels) {
    if (byLabel.has(label.name)) continue;
    const key = pickHotkey(label.name, taken);
    if (key === null) break;
    taken.add(key);
    byKey.set(key, label.name);
    byLabel.set(label.name, key);
  }
  return { byKey, byLabel };
}

/**
 * The label a key press picks, or undefined. The exact key first; then the other case, so
 * Caps Lock or Shift does not stop "p" from working (unless "P" is a hotkey of its own).
 */
export function labelForKey(hotkeys: Hotkeys, key: string): string | undefined {
  if (key.length === 0) return undefined;
  return (
    hotkeys.byKey.get(key) ?? hotkeys.byKey.get(key.toLowerCase()) ?? hotkeys.byKey.get(key.toUpperCase())
  );
}
