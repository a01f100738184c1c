/**
 * Shows the item to classify: a text, an image or a record. User data goes in as text nodes
 * and attribute values only (dom.ts); an image comes as bytes (an object URL) or as an
 * http(s) URL Python already checked.
 */
import { h, replaceChildren } from "../common/dom";
import type { ClassifyModel } from "./model";

type ItemModel = Pick<
  ClassifyModel,
  "kind" | "_text_utf8" | "image" | "image_mime" | "image_url" | "item_name" | "record"
>;

/** Draws the item into `into`; the returned cleanup frees the image's object URL. */
export function showItem(into: HTMLElement, item: ItemModel): () => void {
  if (item.kind === "image") return showImage(into, item);
  if (item.kind === "record") {
    const rows = item.record.map(([key, value]) =>
      h("tr", {}, [h("th", { text: key, attrs: { scope: "row" } }), h("td", { text: value })]),
    );
    const table = h("table", { className: "annolab-classify-record" }, [h("tbody", {}, rows)]);
    replaceChildren(into, [table]);
    into.setAttribute("aria-label", "Record to classify");
    return () => {};
  }
  const bytes = item._text_utf8;
  const text = bytes === null || bytes.byteLength === 0 ? "" : new TextDecoder().decode(bytes);
  const node = h("div", { className: "annolab-classify-text", text: text === "" ? "(empty text)" : text });
  if (text === "") node.classList.add("annolab-classify-empty");
  replaceChildren(into, [node]);
  into.setAttribute("aria-label", "Text to classify");
  return () => {};
}

function showImage(into: HTMLElement, item: ItemModel): () => void {
  let objectUrl: string | null = null;
  const bytes = item.image;
  let src = item.image_url;
  if (bytes !== null && bytes.byteLength > 0) {
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    objectUrl = URL.createObjectURL(new Blob([copy], { type: item.image_mime }));
    src = objectUrl;
  }
  const name = item.item_name;
  const image = h("img", {
    className: "annolab-classify-image",
    attrs: {
      alt: name === "" ? "Image to classify" : `Image to classify: ${name}`,
      src,
      referrerpolicy: "no-referrer",
    },
  });
  const children: Node[] = [image];
  if (name !== "") children.push(h("div", { className: "annolab-classify-caption", text: name }));
  const failed = (): void => {
    const note = `The image could not be loaded${item.image_url === "" ? "" : ` from ${item.image_url}`}.`;
    const attrs = { role: "img", "aria-label": note };
    image.replaceWith(h("div", { className: "annolab-classify-empty", text: note, attrs }));
  };
  image.addEventListener("error", failed);
  replaceChildren(into, children);
  into.setAttribute("aria-label", "Image to classify");
  return () => {
    image.removeEventListener("error", failed);
    if (objectUrl !== null) URL.revokeObjectURL(objectUrl);
  };
}
