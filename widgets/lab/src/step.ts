/**
 * A review or adjudication step in the queue tab: the stored answers side by side (each with
 * its read-only views, its line of text and what it disagrees on) and the notebook panel's
 * decisions. Review: Approve (A), Reject (R, a reason is required), Revise (E, an editable copy
 * comes below). Adjudication: Pick answer n (1…9), Merge (M), Write my own (W).
 *
 * The tab only reports the decision; the server's desk takes it with the loop's own code and
 * answers a refusal (a reject without a reason) with an error shown here.
 */
import type { StepView } from "./api";

type Decide = (decision: string, reason: string, answer: number | null) => void;

export class StepPanel {
  readonly node = document.createElement("div");
  private error: HTMLElement | null = null;

  constructor(private readonly decide: Decide) {
    this.node.className = "annolab-QueueTab-step";
    this.node.hidden = true;
  }

  /** Draw `step` (or nothing), moving the read-only parts into their answers' columns. */
  draw(step: StepView | null, parts: HTMLElement[]): void {
    this.node.replaceChildren();
    this.error = null;
    this.node.hidden = step === null;
    if (step === null) return;
    this.node.dataset.kind = step.kind;
    const heading = document.createElement("h3");
    heading.textContent = step.heading;
    this.node.append(heading);
    const revising = step.kind === "review" && step.editing;
    if (!revising) this.node.append(this.answers(step, parts));
    if (step.editing) {
      const hint = document.createElement("div");
      hint.className = "annolab-QueueTab-hint";
      hint.textContent = revising
        ? "Revise: edit the copy below and submit it (Ctrl+Enter)"
        : "Edit the answer below and submit it (Ctrl+Enter), or pick one above";
      this.node.append(hint);
    }
    if (!revising) this.node.append(this.bar(step));
  }

  /** A refusal from the server (shown under the buttons). */
  fail(text: string): void {
    if (this.error !== null) this.error.textContent = text;
  }

  private answers(step: StepView, parts: HTMLElement[]): HTMLElement {
    const row = document.createElement("div");
    row.className = "annolab-QueueTab-answers";
    step.answers.forEach((answer, i) => {
      const column = document.createElement("div");
      column.className = "annolab-QueueTab-answer";
      column.dataset.answer = String(i);
      const name = document.createElement("div");
      name.className = "annolab-QueueTab-who";
      name.textContent = answer.name;
      column.append(name);
      for (const part of answer.parts) if (parts[part] !== undefined) column.append(parts[part]);
      const line = document.createElement("div");
      line.className = "annolab-QueueTab-line";
      line.textContent = answer.line;
      column.append(line);
      if (answer.note) {
        const note = document.createElement("div");
        note.className = "annolab-QueueTab-note";
        note.textContent = answer.note;
        column.append(note);
      }
      row.append(column);
    });
    return row;
  }

  private bar(step: StepView): HTMLElement {
    const bar = document.createElement("div");
    bar.className = "annolab-QueueTab-decisions";
    bar.tabIndex = 0;
    // While focus is in the bar, JupyterLab's command-mode keys (a, r, m, digits) stay away.
    bar.addEventListener("focusin", (e) =>
      (e.target as HTMLElement).setAttribute("data-lm-suppress-shortcuts", ""),
    );
    bar.addEventListener("focusout", (e) =>
      (e.target as HTMLElement).removeAttribute("data-lm-suppress-shortcuts"),
    );
    let reason: HTMLInputElement | null = null;
    const press = (name: string): void => {
      const pick = /^pick(\d+)$/.exec(name);
      const text = reason?.value ?? "";
      if (pick !== null) this.decide("pick", text, Number(pick[1]));
      else this.decide(name, text, null);
    };
    for (const action of step.actions) {
      const button = document.createElement("button");
      button.className = "jp-Button annolab-QueueTab-decision";
      button.dataset.decision = action.name;
      button.textContent = `${action.title} (${action.key})`;
      button.addEventListener("click", () => press(action.name));
      bar.append(button);
    }
    if (step.reason !== null) {
      reason = document.createElement("input");
      reason.className = "annolab-QueueTab-reason";
      reason.placeholder = "Reason (required to reject)";
      reason.size = 32;
      reason.value = step.reason;
      bar.append(reason);
    }
    bar.addEventListener("keydown", (e) => {
      if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey) return;
      const hit = step.actions.find((a) => a.key.toLowerCase() === e.key.toLowerCase());
      if (hit !== undefined) {
        e.preventDefault();
        press(hit.name);
      }
    });
    this.error = document.createElement("div");
    this.error.className = "annolab-QueueTab-error";
    this.error.setAttribute("role", "alert");
    this.error.textContent = step.error;
    bar.append(this.error);
    return bar;
  }
}
