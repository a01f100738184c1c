/**
 * Pairwise: which of two model outputs answering a prompt is better.
 * Python side: annolab/widgets/pairwise.py. Python validates the state; this view trusts it.
 */
import type { RenderProps } from "@anywidget/types";

import "../common/theme.css";
import "./pairwise.css";

import { Editor } from "./editor";
import type { PairwiseModel } from "./model";

function render({ model, el }: RenderProps<PairwiseModel>): () => void {
  const editor = new Editor(model, el);
  return () => editor.dispose();
}

export default { render };
