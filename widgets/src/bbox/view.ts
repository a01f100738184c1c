/**
 * The editor's DOM: built once per view, then only updated. User text (the file name, label
 * names) enters as textContent or attribute values, never as HTML.
 *
 *   .annolab.annolab-bbox
 *     toolbar           label chips, zoom, selection and suggestion buttons
 *     stage             role=application, focusable, takes the pointer and keys
 *       img             the image, placed by a CSS transform (the GPU scales it)
 *       canvas.base     all boxes
 *       canvas.overlay  the selected or edited box
 *     status            counts and a one-line reminder of the controls
 *     disputed          how many boxes are not in every answer (adjudication), if any
 *     caption           the image's file name
 *     hidden list, live region  (for screen readers)
 */
import { h } from "../common/dom";
import { Announcer, BoxList, DISPUTED_TEXT, describeDisputed } from "./a11y";
import { ImageLayer } from "./image";
import { Layers } from "./render";
import { Toolbar, type ToolbarAction } from "./toolbar";

export const HELP =
  "Drag to draw · drag a box to move it, its handles to resize · Ctrl+wheel to zoom · " +
  "Space+drag or middle button to pan · arrows nudge · Tab selects · Delete removes";
/** A read-only view only looks. */
export const VIEW_HELP = "Read only · Ctrl+wheel to zoom · drag to pan · click or Tab selects";

export class EditorView {
  readonly root: HTMLElement;
  readonly toolbar: Toolbar;
  readonly stage: HTMLElement;
  readonly image: ImageLayer;
  readonly layers: Layers;
  readonly status: HTMLElement;
  readonly message: HTMLElement;
  readonly caption: HTMLElement;
  /** "⚠ 2 boxes not in every answer", shown while some are disputed. */
  readonly disputed: HTMLElement;
  readonly list: BoxList;
  readonly announcer: Announcer;

  constructor(act: (action: ToolbarAction) => void) {
    this.toolbar = new Toolbar(act);
    const image = h("img", {
      className: "annolab-bbox-image",
      attrs: { alt: "", draggable: "false" },
    });
    this.image = new ImageLayer(image);
    const base = h("canvas", { className: "annolab-bbox-base" });
    const overlay = h("canvas", { className: "annolab-bbox-overlay" });
    this.layers = new Layers(base, overlay);
    this.message = h("div", { className: "annolab-bbox-message", attrs: { role: "status" } });
    this.stage = h(
      "div",
      {
        className: "annolab-bbox-stage",
        attrs: {
          role: "application",
          tabindex: "0",
          "aria-roledescription": "bounding box editor",
        },
      },
      [image, base, overlay, this.message],
    );
    this.status = h("div", { className: "annolab-bbox-status" });
    this.caption = h("div", { className: "annolab-bbox-caption" });
    this.disputed = h("div", {
      className: "annolab-bbox-disputed",
      title: `Boxes outlined in dashed amber with a ⚠ are ${DISPUTED_TEXT}`,
      attrs: { hidden: "" },
    });
    this.list = new BoxList("Boxes on the image");
    this.announcer = new Announcer();
    this.root = h("div", { className: "annolab annolab-bbox" }, [
      this.toolbar.element,
      this.stage,
      this.status,
      this.disputed,
      this.caption,
      this.list.element,
      this.announcer.element,
    ]);
  }

  /** The stage's label for screen readers: what it is, on which image, and how to use it. */
  describe(
    name: string,
    boxes: number,
    suggestions: number,
    disputed: number,
    readOnly: boolean,
  ): void {
    const image = name === "" ? "the image" : name;
    const counts =
      `${plural(boxes, "box", "boxes")}, ` +
      `${plural(suggestions, "suggestion", "suggestions")}`;
    const flagged = describeDisputed(disputed);
    const help = readOnly ? VIEW_HELP : HELP;
    const said = flagged === "" ? counts : `${counts}, ${flagged}`;
    this.stage.setAttribute("aria-label", `Bounding boxes on ${image}: ${said}. ${help}.`);
    this.stage.setAttribute(
      "aria-roledescription",
      readOnly ? "bounding box viewer" : "bounding box editor",
    );
    this.caption.textContent = name;
    this.caption.hidden = name === "";
    this.status.textContent = `${counts} · ${help}`;
    this.disputed.textContent = flagged === "" ? "" : `⚠ ${flagged}`;
    this.disputed.hidden = flagged === "";
  }

  dispose(): void {
    this.image.dispose();
    this.toolbar.dispose();
    this.root.remove();
  }
}

export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}
