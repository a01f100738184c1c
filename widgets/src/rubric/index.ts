/**
 * Rubric: score one model output on each criterion of a rubric.
 * Python side: annolab/widgets/rubric.py. Python validates the state; this view trusts it.
 */
import type { RenderProps } from "@anywidget/types";

import "../common/theme.css";
import "./rubric.css";

import { Editor } from "./editor";
import type { RubricModel } from "./model";

function render({ model, el }: RenderProps<RubricModel>): () => void {
  const editor = new Editor(model, el);
  return () => editor.dispose();
}

export default { render };
