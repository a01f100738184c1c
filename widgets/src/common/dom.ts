/**
 * DOM helpers. User data (texts, label names, scores) reaches the page only as text nodes or
 * attribute values, never through innerHTML, so a document containing markup shows as text
 * and cannot run script in the notebook.
 */

export interface ElementOptions {
  className?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
  style?: Partial<Record<"backgroundColor" | "color" | "borderColor", string>>;
}

/** Creates an element; `text` is set with textContent and attributes with setAttribute. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions = {},
  children: readonly Node[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (options.className !== undefined) node.className = options.className;
  if (options.text !== undefined) node.textContent = options.text;
  if (options.title !== undefined) node.title = options.title;
  for (const [name, value] of Object.entries(options.attrs ?? {})) node.setAttribute(name, value);
  // Style properties, not a style string: an invalid colour is dropped by the browser and a
  // value cannot smuggle in other declarations.
  if (options.style !== undefined) Object.assign(node.style, options.style);
  for (const child of children) node.append(child);
  return node;
}

/** A text node: the one way user text enters the DOM. */
export function text(content: string): Text {
  return document.createTextNode(content);
}

/**
 * Replaces all children of `parent` in one DOM operation. Goes through a fragment because
 * spreading a long list into replaceChildren(...) can exceed the engine's argument limit.
 */
export function replaceChildren(parent: Element, children: Iterable<Node>): void {
  const fragment = document.createDocumentFragment();
  for (const child of children) fragment.append(child);
  parent.replaceChildren(fragment);
}
