/**
 * BBox: draw, move, resize and label boxes on an image, in its natural pixels.
 * Python side: annolab/widgets/bbox.py. Python validates the state; this view trusts it.
 */
import type { RenderProps } from "@anywidget/types";

import "../common/theme.css";
import "./bbox.css";

import { Editor } from "./editor";
import type { BBoxModel } from "./model";

function render({ model, el }: RenderProps<BBoxModel>): () => void {
  const editor = new Editor(model, el);
  return () => editor.dispose();
}

export default { render };
