/**
 * Calls to annolab's server extension (`/annolab/api/...`), through Jupyter's own connection
 * settings: the base URL, the token or login cookie, and the XSRF header.
 */
import { URLExt } from "@jupyterlab/coreutils";
import { ServerConnection } from "@jupyterlab/services";

/** An error the API answered: the message, and the field, value and rule when it names them. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function settings(): ServerConnection.ISettings {
  return ServerConnection.makeSettings();
}

/** A URL under the server for `path` (like `annolab/static/ner.js`). */
export function serverUrl(path: string): string {
  return URLExt.join(settings().baseUrl, path);
}

export async function request<T>(path: string, method = "GET", body?: unknown): Promise<T> {
  const s = settings();
  const init: RequestInit = { method };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await ServerConnection.makeRequest(
    URLExt.join(s.baseUrl, "annolab", "api", path),
    init,
    s,
  );
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const message = data && typeof data.message === "string" ? data.message : response.statusText;
    throw new ApiError(message, response.status, data ? data.field : undefined);
  }
  return data as T;
}

export interface GoalView {
  name: string;
  kind: string;
  met: boolean;
  state: string;
  detail: string;
}

export interface ProjectView {
  id: number;
  name: string;
  status: string;
  layout: string;
  total: number;
  completed: number;
  fraction: number;
  queue: { done: number; open: number };
  goals: GoalView[];
}

export interface AlertView {
  project: string;
  id: number;
  at: string;
  actor: string;
  entity: string;
  entity_id: number | null;
  after: string | null;
}

export interface PartView {
  bundle?: string;
  state: Record<string, unknown>;
}

/** A stored answer at a review or adjudication step, and the read-only parts that draw it. */
export interface AnswerView {
  name: string;
  line: string;
  note: string;
  parts: number[];
}

/** A review (approve / reject / revise) or adjudication (pick / merge / own) step. */
export interface StepView {
  kind: "review" | "adjudicate";
  heading: string;
  answers: AnswerView[];
  actions: { name: string; title: string; key: string }[];
  reason: string | null;
  error: string;
  editing: boolean;
}

export interface DeskView {
  desk: string;
  project: string;
  widget: number | null;
  full: boolean;
  parts: PartView[];
  progress: string;
  queue: { done: number; open: number };
  message: string;
  task: string | null;
  replies: { part: number; content: unknown }[];
  /** Set at a review or adjudication step; the first `read_only` parts draw its answers. */
  step: StepView | null;
  read_only: number;
}
