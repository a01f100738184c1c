/**
 * The project dashboard tab: `al.dashboards.project(...)` drawn offline by the Vega runtime
 * annolab ships (`annolab/static/vega.js`); no CDN is contacted.
 */
import { Widget } from "@lumino/widgets";

import { request } from "./api";
import { staticUrl } from "./loader";

interface VegaModule {
  embed(el: HTMLElement, spec: unknown, options?: unknown): Promise<{ finalize(): void }>;
}

export class DashboardTab extends Widget {
  private result: { finalize(): void } | null = null;

  constructor(readonly project: string) {
    super();
    this.id = `annolab-dashboard-${project}`;
    this.title.label = `Dashboard: ${project}`;
    this.title.closable = true;
    this.addClass("annolab-DashboardTab");
    void this.draw();
  }

  async draw(): Promise<void> {
    const note = document.createElement("div");
    note.textContent = "Loading…";
    this.node.replaceChildren(note);
    try {
      const { spec, message } = await request<{ spec: unknown; message: string }>(
        `projects/${encodeURIComponent(this.project)}/dashboard`,
      );
      note.textContent = message;
      if (spec === null) return;
      const vega = (await import(/* webpackIgnore: true */ staticUrl("vega.js"))) as VegaModule;
      const chart = document.createElement("div");
      this.node.append(chart);
      this.result = await vega.embed(chart, spec, { actions: false });
    } catch (error) {
      note.textContent = `annolab: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  override dispose(): void {
    this.result?.finalize();
    super.dispose();
  }
}
