/** Mirrors the traitlets of annolab.widgets.BBox (Python validates them; the view trusts them). */
import type { Box } from "./doc";
import type { BoxLabel } from "./toolbar";

export interface BBoxModel {
  /** The encoded image, sent as a binary buffer (a DataView here); empty for a URL image. */
  image: DataView<ArrayBuffer> | null;
  image_mime: string;
  /** An http(s) URL the browser loads itself, when `image` is empty. */
  image_url: string;
  /** Shown as the caption; a file name or the last part of the URL. */
  image_name: string;
  /** Natural size in pixels, 0 while unknown (a URL image, until the browser reports it). */
  image_width: number;
  image_height: number;
  value: Box[];
  suggestions: Box[];
  /** The uuid of the last patch Python handled, synced with its changes (see channel.ts). */
  last_patch: string;
  labels: BoxLabel[];
  error: string;
  submit_count: number;
  skip_count: number;
  draft_count: number;
  show_submit: boolean;
  show_draft: boolean;
  history_limit: number;
  /** A view, not an editor: zoom, pan and select only; no Submit, Skip or Save draft. */
  read_only: boolean;
  /** Indexes into `value` of the boxes not in every answer (adjudication): outlined, flagged. */
  disputed: number[];
}
