/**
 * The left sidebar: my projects (queue counts, progress bar, goals), "Open my queue", the
 * dashboard, recent quality alerts, kept current by the server's live event stream.
 */
import { Widget } from "@lumino/widgets";

import { type AlertView, type ProjectView, request, serverUrl, settings } from "./api";

export interface SidebarActions {
  openQueue(project: string): void;
  openDashboard(project: string): void;
}

// Several events commit together (a submit completes a task and moves the queue): one refetch.
const REFRESH_DELAY_MS = 250;

export class Sidebar extends Widget {
  private readonly list = document.createElement("ul");
  private readonly alerts = document.createElement("ul");
  private readonly note = document.createElement("div");
  private source: EventSource | null = null;
  private timer: number | null = null;

  constructor(private readonly actions: SidebarActions) {
    super();
    this.id = "annolab-sidebar";
    this.addClass("annolab-Sidebar");
    this.title.caption = "annolab: my projects";
    this.title.label = "annolab";
    const heading = document.createElement("h2");
    heading.textContent = "My projects";
    this.list.className = "annolab-Sidebar-projects";
    const alertsHeading = document.createElement("h3");
    alertsHeading.textContent = "Recent alerts";
    this.alerts.className = "annolab-Sidebar-alerts";
    this.note.className = "annolab-Sidebar-note";
    this.node.append(heading, this.note, this.list, alertsHeading, this.alerts);
    void this.refresh();
    this.listen();
  }

  /** Fetches the projects and alerts again and redraws. */
  async refresh(): Promise<void> {
    try {
      const [{ user, projects }, { alerts }] = await Promise.all([
        request<{ user: string; projects: ProjectView[] }>("projects"),
        request<{ alerts: AlertView[] }>("alerts"),
      ]);
      this.note.textContent = projects.length ? `as ${user}` : `No projects yet (as ${user}).`;
      this.drawProjects(projects);
      this.drawAlerts(alerts);
    } catch (error) {
      this.note.textContent = `annolab: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  private drawProjects(projects: ProjectView[]): void {
    this.list.replaceChildren(
      ...projects.map((p) => {
        const item = document.createElement("li");
        item.className = "annolab-Sidebar-project";
        item.dataset.project = p.name;
        const name = document.createElement("div");
        name.className = "annolab-Sidebar-name";
        name.textContent = p.name;
        const bar = document.createElement("progress");
        bar.max = Math.max(p.total, 1);
        bar.value = p.completed;
        bar.title = `${p.completed} of ${p.total} tasks completed`;
        const counts = document.createElement("div");
        counts.className = "annolab-Sidebar-counts";
        counts.textContent = `${p.completed}/${p.total} done · my queue: ${p.queue.done} done, ${p.queue.open} open`;
        const goals = document.createElement("ul");
        goals.className = "annolab-Sidebar-goals";
        for (const g of p.goals) {
          const goal = document.createElement("li");
          goal.dataset.state = g.state;
          goal.textContent = `${g.met ? "✓" : "○"} ${g.name}: ${g.detail}`;
          goals.append(goal);
        }
        const open = button("Open my queue", () => this.actions.openQueue(p.name));
        open.classList.add("annolab-Sidebar-open");
        open.disabled = p.queue.open === 0;
        const charts = button("Dashboard", () => this.actions.openDashboard(p.name));
        const buttons = document.createElement("div");
        buttons.className = "annolab-Sidebar-buttons";
        buttons.append(open, charts);
        item.append(name, bar, counts, goals, buttons);
        return item;
      }),
    );
  }

  private drawAlerts(alerts: AlertView[]): void {
    if (alerts.length === 0) {
      const none = document.createElement("li");
      none.textContent = "None.";
      this.alerts.replaceChildren(none);
      return;
    }
    this.alerts.replaceChildren(
      ...alerts.map((a) => {
        const item = document.createElement("li");
        item.textContent = `${a.at.slice(0, 16).replace("T", " ")} ${a.project}: ${describe(a)}`;
        return item;
      }),
    );
  }

  /** The server's event stream: any committed change schedules a refresh. */
  private listen(): void {
    const token = settings().token;
    const url = serverUrl("annolab/api/events") + (token ? `?token=${encodeURIComponent(token)}` : "");
    this.source = new EventSource(url, { withCredentials: true });
    this.source.onmessage = () => this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = window.setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, REFRESH_DELAY_MS);
  }

  override dispose(): void {
    this.source?.close();
    if (this.timer !== null) window.clearTimeout(this.timer);
    super.dispose();
  }
}

function describe(alert: AlertView): string {
  if (!alert.after) return `${alert.entity} ${alert.entity_id ?? ""}`;
  try {
    const after = JSON.parse(alert.after) as Record<string, unknown>;
    const parts = [after.rule, after.user, after.reason].filter(
      (x) => typeof x === "string" && x !== "",
    );
    return parts.join(" · ") || alert.after;
  } catch {
    return alert.after;
  }
}

function button(label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.className = "jp-Button jp-mod-styled annolab-Sidebar-button";
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}
