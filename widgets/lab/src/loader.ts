/**
 * Loads a widget front end (`annolab/static/<bundle>.js`, anywidget's ES module) and its CSS
 * from the server, once per page. The same files a notebook's widgets use.
 */
import { settings, serverUrl } from "./api";

export interface RenderProps {
  model: unknown;
  el: HTMLElement;
}

type Cleanup = (() => void) | void;

export interface WidgetModule {
  render?: (props: RenderProps) => Cleanup | Promise<Cleanup>;
  default?: { render?: (props: RenderProps) => Cleanup | Promise<Cleanup> } | ((...a: unknown[]) => unknown);
}

const modules = new Map<string, Promise<WidgetModule>>();

function withToken(url: string): string {
  const token = settings().token;
  return token ? `${url}?token=${encodeURIComponent(token)}` : url;
}

/** `annolab/static/<file>` on this server (with the token when the page has one). */
export function staticUrl(file: string): string {
  return withToken(serverUrl(`annolab/static/${file}`));
}

export function loadBundle(bundle: string): Promise<WidgetModule> {
  let found = modules.get(bundle);
  if (found === undefined) {
    addStyle(bundle);
    found = import(/* webpackIgnore: true */ staticUrl(`${bundle}.js`)) as Promise<WidgetModule>;
    modules.set(bundle, found);
  }
  return found;
}

/** The bundle's `render` (anywidget accepts it at the top level or on `default`). */
export async function renderer(
  bundle: string,
): Promise<(props: RenderProps) => Cleanup | Promise<Cleanup>> {
  const mod = await loadBundle(bundle);
  const fromDefault =
    typeof mod.default === "object" && mod.default !== null ? mod.default.render : undefined;
  const render = fromDefault ?? mod.render;
  if (render === undefined) throw new Error(`annolab/static/${bundle}.js exports no render()`);
  return render;
}

function addStyle(bundle: string): void {
  const id = `annolab-style-${bundle}`;
  if (document.getElementById(id) !== null) return;
  const link = document.createElement("link");
  link.id = id;
  link.rel = "stylesheet";
  link.href = staticUrl(`${bundle}.css`);
  document.head.append(link);
}
