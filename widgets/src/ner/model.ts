/** Mirrors the traitlets of annolab.widgets.NER (Python validates them; the view trusts them). */
import type { LabelInfo } from "../common/hotkeys";
import type { Span } from "./doc";
import type { WireSpans } from "./wire";

export interface NerModel {
  /** The text as UTF-8 bytes, sent as a binary buffer (a DataView here). */
  _text_utf8: DataView | null;
  /** Spans in Python code points, sorted by (start, end, label); as columns (wire.ts). */
  value: WireSpans | Span[];
  /** Pre-annotations with scores, sorted the same way; they may overlap. */
  suggestions: WireSpans | Span[];
  labels: LabelInfo[];
  allow_overlap: boolean;
  snap_to_words: boolean;
  error: string;
  submit_count: number;
  skip_count: number;
  draft_count: number;
  show_draft: boolean;
  history_limit: number;
  show_submit: boolean;
}
