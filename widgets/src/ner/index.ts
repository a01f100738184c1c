/**
 * NER: label spans of a text with the mouse or the keyboard.
 * Python side: annolab/widgets/ner.py. Python validates the state; this view trusts it.
 */
import type { RenderProps } from "@anywidget/types";

import "../common/theme.css";
import "./ner.css";

import { Editor } from "./editor";
import type { NerModel } from "./model";

function render({ model, el }: RenderProps<NerModel>): () => void {
  const editor = new Editor(model, el);
  return () => editor.dispose();
}

export default { render };
