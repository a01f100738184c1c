/**
 * Which key picks which label. A label's own `hotkey` wins; labels without one get the digits
 * 1-9 that no label claimed, in order, so `labels=[{"name": ...}, ...]` still has hotkeys.
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

export function assignHotkeys(labels: readonly LabelInfo[]): Hotkeys {
  const byKey = new Map<string, string>();
  const byLabel = new Map<string, string>();
  for (const label of labels) {
    if (label.hotkey === null || label.hotkey === "" || byKey.has(label.hotkey)) continue;
    byKey.set(label.hotkey, label.name);
    byLabel.set(label.name, label.hotkey);
  }
  const free = "123456789".split("").filter((digit) => !byKey.has(digit));
  for (const label of labels) {
    if (byLabel.has(label.name)) continue;
    const digit = free.shift();
    if (digit === undefined) break;
    byKey.set(digit, label.name);
    byLabel.set(label.name, digit);
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
