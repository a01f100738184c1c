/** Mirrors the traitlets of annolab.widgets.pairwise.Pairwise (Python validates them). */

export type Verdict = "a" | "b" | "tie" | "both_bad";

/** An answer as it is being made: no choice yet is null; null as a whole means nothing done. */
export interface PairwiseAnswer {
  choice: Verdict | null;
  rationale: string;
  criteria: Record<string, Verdict>;
}

export type PairwiseValue = PairwiseAnswer | null;

export interface CriterionInfo {
  name: string;
  description: string;
}

export interface PairwiseModel {
  _prompt_utf8: DataView | null;
  _a_utf8: DataView | null;
  _b_utf8: DataView | null;
  criteria: CriterionInfo[];
  tie: boolean;
  both_bad: boolean;
  ask_rationale: "none" | "optional" | "required";
  value: PairwiseValue;
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
