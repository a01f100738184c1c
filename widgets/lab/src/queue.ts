/**
 * The queue tab: a project's annotation loop without a notebook. The server's desk claims the
 * task and builds the project's widget as `proj.annotate()` does; this tab draws the same
 * front ends over `DeskModel`s and passes what they save and send back to the desk.
 */
import { Widget } from "@lumino/widgets";

import { ApiError, type DeskView, request } from "./api";
import { renderer } from "./loader";
import { DeskModel, type Wire } from "./model";

type Cleanup = (() => void) | void;

export class QueueTab extends Widget {
  private desk: string | null = null;
  private generation: number | null = null;
  private models: DeskModel[] = [];
  private cleanups: Cleanup[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private readonly status = document.createElement("div");
  private readonly note = document.createElement("div");
  private readonly body = document.createElement("div");

  constructor(
    readonly project: string,
    private readonly onChange: () => void,
  ) {
    super();
    this.id = `annolab-queue-${project}`;
    this.title.label = `Queue: ${project}`;
    this.title.closable = true;
    this.addClass("annolab-QueueTab");
    this.node.tabIndex = -1;
    this.status.className = "annolab-QueueTab-status";
    this.note.className = "annolab-QueueTab-message";
    this.note.setAttribute("role", "status");
    this.body.className = "annolab-QueueTab-body";
    const head = document.createElement("div");
    head.className = "annolab-QueueTab-head";
    const name = document.createElement("h2");
    name.textContent = project;
    head.append(name, this.status);
    this.node.append(head, this.note, this.body);
    this.enqueue(() => request<DeskView>(`projects/${encodeURIComponent(project)}/queue`, "POST"));
  }

  // -- Wire: what the widgets save and send ---------------------------------------------------

  private sendChange(part: number, state: Record<string, unknown>): void {
    const widget = this.generation;
    this.enqueue(() => request<DeskView>(`desks/${this.desk}/change`, "POST", { widget, part, state }));
  }

  private sendMessage(part: number, content: unknown): void {
    const widget = this.generation;
    this.enqueue(() =>
      request<DeskView>(`desks/${this.desk}/message`, "POST", { widget, part, content }),
    );
  }

  // -- views ----------------------------------------------------------------------------------

  /** Requests go one after another, in the order the widgets made them. */
  private enqueue(call: () => Promise<DeskView>): void {
    this.chain = this.chain
      .then(call)
      .then((view) => this.present(view))
      .catch((error: unknown) => {
        const text = error instanceof ApiError || error instanceof Error ? error.message : String(error);
        this.note.textContent = `annolab: ${text}`;
        this.note.classList.add("annolab-mod-error");
      });
  }

  private async present(view: DeskView): Promise<void> {
    this.desk = view.desk;
    this.status.textContent = view.progress;
    this.note.textContent = view.message;
    this.note.classList.remove("annolab-mod-error");
    this.node.dataset.task = view.task ?? "";
    this.node.dataset.done = String(view.queue.done);
    this.node.dataset.open = String(view.queue.open);
    if (view.full || view.widget !== this.generation) {
      await this.mount(view);
    } else {
      view.parts.forEach((part, i) => this.models[i]?.update(part.state));
    }
    for (const reply of view.replies) this.models[reply.part]?.receive(reply.content);
    this.onChange();
  }

  private async mount(view: DeskView): Promise<void> {
    this.unmount();
    this.generation = view.widget;
    const wire: Wire = {
      change: (part, state) => this.sendChange(part, state),
      message: (part, content) => this.sendMessage(part, content),
    };
    this.models = view.parts.map((part, i) => new DeskModel(wire, i, part.state));
    for (const [i, part] of view.parts.entries()) {
      const el = document.createElement("div");
      el.className = "annolab-QueueTab-part";
      this.body.append(el);
      const render = await renderer(part.bundle ?? "");
      this.cleanups.push(await render({ model: this.models[i], el }));
    }
  }

  private unmount(): void {
    for (const cleanup of this.cleanups) if (typeof cleanup === "function") cleanup();
    for (const model of this.models) model.off();
    this.cleanups = [];
    this.models = [];
    this.body.replaceChildren();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.unmount();
    if (this.desk !== null) void request(`desks/${this.desk}`, "DELETE").catch(() => undefined);
    super.dispose();
  }
}
