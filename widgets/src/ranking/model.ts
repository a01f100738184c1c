/** Mirrors the traitlets of annolab.widgets.ranking.Ranking (Python validates them). */

/** The ids ranked so far, best first; [] means nothing ranked yet. */
export type RankingValue = string[];

export interface RankingModel {
  _prompt_utf8: DataView | null;
  /** The outputs' texts as one UTF-8 JSON array, in the order of `ids`. */
  _outputs_utf8: DataView | null;
  ids: string[];
  value: RankingValue;
  read_only: boolean;
  labels: unknown[];
  error: string;
  submit_count: number;
  skip_count: number;
  draft_count: number;
  show_draft: boolean;
  history_limit: number;
  show_submit: boolean;
}
