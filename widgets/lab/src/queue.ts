/**
 * The queue tab: a project's annotation loop without a notebook. The server's desk claims the
 * task and builds the project's widget as `proj.annotate()` does; this tab draws the same
 * front ends over `DeskModel`s and passes what they save and send back to the desk.
 *
 * At a review or adjudication step the desk sends the stored answers: their read-only views
 * come first among the parts and are drawn inside each answer's column, and the tab offers
 * the notebook panel's decisions (`step.ts`), which the desk takes with the loop's own code.
 */
import { Widget } from "@lumino/widgets";

import { ApiError, type DeskView, request } from "./api";
import { renderer } from "./loader";
import { DeskModel, type Wire } from "./model";
import { StepPanel } from "./step";

type Cleanup = (() => void) | void;

export class QueueTab extends Widget {
  private desk: string | null = null;
  private generation: number | null = null;
  private models: DeskModel[] = [];
  private cleanups: Cleanup[] = [];
  private partEls: HTMLElement[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private readonly status = document.createElement("div");
  private readonly note = document.createElement("div");
  private readonly step: StepPanel;
  private readonly body = document.createElement("div");

  /**
   * `desk`: a desk this tab had before the page reloaded; when the server no longer has it
   * (restarted, closed), the tab opens a new one. `onDesk` hears the desk's id once known.
   */
  constructor(
    readonly project: string,
    private readonly onChange: () => void,
    desk: string | null = null,
    private readonly onDesk: (desk: string) => void = () => undefined,
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
    this.step = new StepPanel((decision, reason, answer) => this.decide(decision, reason, answer));
    const head = document.createElement("div");
    head.className = "annolab-QueueTab-head";
    const name = document.createElement("h2");
    name.textContent = project;
    head.append(name, this.status);
    this.node.append(head, this.note, this.step.node, this.body);
    const open = (): Promise<DeskView> =>
      request<DeskView>(`projects/${encodeURIComponent(project)}/queue`, "POST");
    if (desk === null) {
      this.enqueue(open);
    } else {
      this.enqueue(() =>
        request<DeskView>(`desks/${desk}`).catch((error: unknown) => {
          if (error instanceof ApiError && error.status === 404) return open();
          throw error;
        }),
      );
    }
  }

  /** The desk this tab draws, once the server has answered. */
  get deskId(): string | null {
    return this.desk;
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

  private decide(decision: string, reason: string, answer: number | null): void {
    // The task on screen goes with the decision: a repeated request cannot decide the next one.
    const body: Record<string, unknown> = { task: this.node.dataset.task ?? null, decision, reason };
    if (answer !== null) body.answer = answer;
    this.enqueue(() => request<DeskView>(`desks/${this.desk}/decide`, "POST", body));
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
        this.step.fail(text);
      });
  }

  private async present(view: DeskView): Promise<void> {
    if (this.desk !== view.desk) {
      this.desk = view.desk;
      this.onDesk(view.desk);
    }
    this.status.textContent = view.progress;
    this.note.textContent = view.message;
    this.note.classList.remove("annolab-mod-error");
    this.node.dataset.task = view.task ?? "";
    this.node.dataset.done = String(view.queue.done);
    this.node.dataset.open = String(view.queue.open);
    this.node.dataset.step = view.step?.kind ?? "";
    if (view.full || view.widget !== this.generation) {
      await this.mount(view);
    } else {
      view.parts.forEach((part, i) => this.models[i]?.update(part.state));
    }
    // The answers' columns are drawn afresh each time; their read-only parts move into them.
    this.step.draw(view.step, this.partEls);
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
      if (i < view.read_only) el.classList.add("annolab-mod-readonly");
      this.partEls.push(el);
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
    for (const el of this.partEls) el.remove();
    this.partEls = [];
    this.body.replaceChildren();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.unmount();
    if (this.desk !== null) void request(`desks/${this.desk}`, "DELETE").catch(() => undefined);
    super.dispose();
  }
}
