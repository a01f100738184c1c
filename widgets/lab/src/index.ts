/**
 * annolab's JupyterLab (and Notebook 7) extension: the sidebar of my projects, the queue tab
 * (annotation without a notebook), the project dashboard, and commands to open a queue, make a
 * project from a layout and export one. The menu and the keyboard shortcuts are declared in
 * schema/plugin.json.
 */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin,
} from "@jupyterlab/application";
import { ICommandPalette, InputDialog, Notification, WidgetTracker } from "@jupyterlab/apputils";
import { LabIcon } from "@jupyterlab/ui-components";
import type { Widget } from "@lumino/widgets";

import { type ProjectView, request } from "./api";
import { DashboardTab } from "./dashboard";
import { QueueTab } from "./queue";
import { Sidebar } from "./sidebar";

const ICON = new LabIcon({
  name: "annolab:icon",
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">' +
    '<path class="jp-icon3" fill="#616161" d="M2 2h9l3 3v9H2zM4 6v1.5h8V6zm0 3v1.5h5V9z"/></svg>',
});

export const COMMANDS = {
  sidebar: "annolab:open-sidebar",
  queue: "annolab:open-queue",
  dashboard: "annolab:open-dashboard",
  newProject: "annolab:new-project",
  export: "annolab:export",
  refresh: "annolab:refresh",
} as const;

async function pickProject(title: string, given: unknown): Promise<string | null> {
  if (typeof given === "string" && given) return given;
  const { projects } = await request<{ projects: ProjectView[] }>("projects");
  if (projects.length === 0) {
    Notification.warning("annolab: there is no project yet; make one with “New project”.");
    return null;
  }
  const result = await InputDialog.getItem({ title, items: projects.map((p) => p.name) });
  return result.button.accept ? result.value : null;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: "annolab:plugin",
  description: "annolab: my projects, my queue without a notebook, alerts and dashboards.",
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
  ) => {
    // Open queue and dashboard tabs come back after a reload: the restorer runs the command
    // again with the arguments saved here (a queue tab's desk, which it reopens if the server
    // still has it, else it opens a new one: a claimed task comes back first).
    const queues = new WidgetTracker<QueueTab>({ namespace: "annolab-queue" });
    const dashboards = new WidgetTracker<DashboardTab>({ namespace: "annolab-dashboard" });
    if (restorer !== null) {
      void restorer.restore(queues, {
        command: COMMANDS.queue,
        args: (tab) => ({ project: tab.project, desk: tab.deskId }),
        name: (tab) => tab.project,
      });
      void restorer.restore(dashboards, {
        command: COMMANDS.dashboard,
        args: (tab) => ({ project: tab.project }),
        name: (tab) => tab.project,
      });
    }
    const opened = new Map<string, Widget>();
    const show = <T extends Widget>(key: string, make: () => T, tracker: WidgetTracker<T>): void => {
      let widget = opened.get(key);
      if (widget === undefined || widget.isDisposed) {
        const made = make();
        widget = made;
        opened.set(key, made);
        void tracker.add(made);
        app.shell.add(widget, "main");
        // Notebook 7's pages keep their one main widget (the file browser, the notebook) and
        // ignore another: there the tab opens in the right side panel instead.
        if (!widget.isAttached) app.shell.add(widget, "right", { rank: 1000 });
      }
      app.shell.activateById(widget.id);
    };
    const sidebar = new Sidebar({
      openQueue: (project) => void app.commands.execute(COMMANDS.queue, { project }),
      openDashboard: (project) => void app.commands.execute(COMMANDS.dashboard, { project }),
    });
    sidebar.title.icon = ICON;
    app.shell.add(sidebar, "left", { rank: 600 });

    app.commands.addCommand(COMMANDS.sidebar, {
      label: "Show My Annotation Projects",
      caption: "The annolab sidebar: my projects, queue counts, goals and alerts",
      icon: ICON,
      execute: () => app.shell.activateById(sidebar.id),
    });
    app.commands.addCommand(COMMANDS.queue, {
      label: (args) => (args.project ? `Open My Queue: ${String(args.project)}` : "Open My Annotation Queue…"),
      caption: "Annotate the project's next task in a tab, without a notebook",
      execute: async (args) => {
        const project = await pickProject("Open my queue in", args.project);
        if (project !== null) {
          const desk = typeof args.desk === "string" ? args.desk : null;
          const make = (): QueueTab => {
            const tab: QueueTab = new QueueTab(
              project,
              () => void sidebar.refresh(),
              desk,
              () => void queues.save(tab),
            );
            return tab;
          };
          show(`queue:${project}`, make, queues);
        }
      },
    });
    app.commands.addCommand(COMMANDS.dashboard, {
      label: (args) => (args.project ? `Project Dashboard: ${String(args.project)}` : "Open Project Dashboard…"),
      execute: async (args) => {
        const project = await pickProject("Dashboard of", args.project);
        if (project !== null) {
          show(`dashboard:${project}`, () => new DashboardTab(project), dashboards);
        }
      },
    });
    app.commands.addCommand(COMMANDS.newProject, {
      label: "New Annotation Project from a Layout…",
      execute: async () => {
        const { layouts } = await request<{ layouts: string[] }>("layouts");
        const name = await InputDialog.getText({ title: "Project name" });
        if (!name.button.accept || !name.value) return;
        const layout = await InputDialog.getItem({ title: "Layout", items: layouts });
        if (!layout.button.accept || !layout.value) return;
        const labels = await InputDialog.getText({
          title: "Labels (comma separated)",
          placeholder: "PER, ORG, LOC",
        });
        if (!labels.button.accept) return;
        const names = (labels.value ?? "").split(",").map((s) => s.trim()).filter((s) => s);
        try {
          await request("projects", "POST", { name: name.value, layout: layout.value, labels: names });
          Notification.success(`annolab: project ${name.value} made from layout ${layout.value}`);
          await sidebar.refresh();
        } catch (error) {
          Notification.error(`annolab: ${error instanceof Error ? error.message : String(error)}`);
        }
      },
    });
    app.commands.addCommand(COMMANDS.export, {
      label: "Export Annotation Project…",
      execute: async (args) => {
        const project = await pickProject("Export", args.project);
        if (project === null) return;
        const path = await InputDialog.getText({
          title: "Export to (a path in this server's folder; the suffix picks the format)",
          text: `exports/${project}.jsonl`,
        });
        if (!path.button.accept || !path.value) return;
        try {
          const report = await request<{ path: string; written: number }>(
            `projects/${encodeURIComponent(project)}/export`,
            "POST",
            { path: path.value },
          );
          Notification.success(`annolab: ${report.written} records written to ${report.path}`);
        } catch (error) {
          Notification.error(`annolab: ${error instanceof Error ? error.message : String(error)}`);
        }
      },
    });
    app.commands.addCommand(COMMANDS.refresh, {
      label: "Refresh My Annotation Projects",
      execute: () => sidebar.refresh(),
    });
    if (palette !== null) {
      for (const command of Object.values(COMMANDS)) palette.addItem({ command, category: "annolab" });
    }
  },
};

export default plugin;
