/**
 * Ranking: order model outputs answering one prompt, best first.
 * Python side: annolab/widgets/ranking.py. Python validates the state; this view trusts it.
 */
import type { RenderProps } from "@anywidget/types";

import "../common/theme.css";
import "./ranking.css";

import { Editor } from "./editor";
import type { RankingModel } from "./model";

function render({ model, el }: RenderProps<RankingModel>): () => void {
  const editor = new Editor(model, el);
  return () => editor.dispose();
}

export default { render };
