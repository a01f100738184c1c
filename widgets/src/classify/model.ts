/** Mirrors the traitlets of annolab.widgets.Classify (Python validates them; the view trusts them). */
import type { LabelInfo } from "../common/hotkeys";

export type ItemKind = "text" | "image" | "record";

/** One label name or null (single choice), or the chosen names (multi). */
export type Value = string | null | string[];

export interface Suggestion {
  label: string;
  score?: number;
}

export interface ClassifyModel {
  kind: ItemKind;
  /** A text item as UTF-8 bytes, sent as a binary buffer (a DataView here). */
  _text_utf8: DataView | null;
  /** An image item's bytes (binary buffer), empty for a URL image. */
  image: DataView | null;
  image_mime: string;
  /** An http(s) URL the browser loads itself, when `image` is empty. */
  image_url: string;
  item_name: string;
  /** A record item as [key, value] rows of text. */
  record: [string, string][];
  multi: boolean;
  value: Value;
  suggestions: Suggestion[];
  labels: LabelInfo[];
  error: string;
  submit_count: number;
  skip_count: number;
  draft_count: number;
  show_draft: boolean;
  history_limit: number;
  show_submit: boolean;
}
