/** Mirrors the traitlets of annolab.widgets.rubric.Rubric (Python validates them). */

export interface RubricAnswer {
  scores: Record<string, number>;
  comment: string;
}

/** null: nothing scored and no comment yet. */
export type RubricValue = RubricAnswer | null;

export interface RubricCriterion {
  name: string;
  description: string;
  scale: number;
}

export interface RubricModel {
  _prompt_utf8: DataView | null;
  _output_utf8: DataView | null;
  criteria: RubricCriterion[];
  value: RubricValue;
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
