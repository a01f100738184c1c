/**
 * Classify: choose one label (or several) for a text, an image or a record.
 * Python side: annolab/widgets/classify.py. Python validates the state; this view trusts it.
 */
import type { RenderProps } from "@anywidget/types";

import "../common/theme.css";
import "./classify.css";

import { Editor } from "./editor";
import type { ClassifyModel } from "./model";

function render({ model, el }: RenderProps<ClassifyModel>): () => void {
  const editor = new Editor(model, el);
  return () => editor.dispose();
}

export default { render };
