/*
 * api.js - the page's state, the events that tell the views it changed,
 * and the calls to the JSON API of the same origin (with this tab's
 * secret, session.js).
 */

import { el } from "./lib.js";
import { SECRET_HEADER, currentSecret } from "./session.js";

export const state = {
  signedIn: false,
  user: "",
  status: null, // GET /api/status
  procedure: null, // {steps: {action: [step, ...]}, files: [name, ...]} from GET /api/plan
  jobs: [], // GET /api/jobs (newest first)
  runningJob: null, // {id, action} while a job runs
  followId: null, // the job the job panel follows
  backups: [],
  view: "status",
  auditBefore: null,
  scansBefore: null,
  historyFile: null,
  busyScan: false,
};

// ---------------------------------------------------------------- events
//
//   "changed"       the status, the running job or a scan in progress
//                   changed: views that show what may be done re-render
//   "job-ended"     the followed job ended: read the status and lists again
//   "procedure"     the steps of each action are known (loadProcedure)
//   "session-lost"  the server refused this tab's session (401)

const listeners = new Map();

export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, []);
  listeners.get(name).push(fn);
}

export function emit(name, arg) {
  for (const fn of listeners.get(name) || []) fn(arg);
}

// ---------------------------------------------------------------- calls

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title || "HTTP " + status);
    this.status = status;
    this.title = title;
  }
}

function authHeaders() {
  const s = currentSecret();
  return s ? { [SECRET_HEADER]: s } : {};
}

/* Call the API with this tab's secret; resolves to the parsed JSON (or
 * null), rejects with an ApiError carrying the problem's detail. */
export async function api(method, path, body) {
  const opts = { method: method, credentials: "same-origin", headers: authHeaders() };
  if (method === "POST" || method === "PUT" || method === "PATCH") {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body || {});
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(
      0,
      "No answer",
      "the server does not answer (is tmi-console still running?)",
    );
  }
  const type = res.headers.get("Content-Type") || "";
  let data = null;
  if (res.status !== 204 && type.includes("json")) {
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && state.signedIn) emit("session-lost");
    const detail = data && data.detail ? data.detail : res.statusText;
    throw new ApiError(res.status, data && data.title, detail);
  }
  return data;
}

/* Download an export with this tab's secret (a plain link would carry the
 * cookie only, which the server refuses): the whole answer, then a save.
 * Rejects with an ApiError. */
export async function download(href) {
  let res;
  try {
    res = await fetch(href, { credentials: "same-origin", headers: authHeaders() });
  } catch (e) {
    throw new ApiError(0, "No answer", "the server does not answer");
  }
  if (!res.ok) {
    if (res.status === 401 && state.signedIn) emit("session-lost");
    throw new ApiError(res.status, res.statusText, "HTTP " + res.status + " " + res.statusText);
  }
  const m = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  const name = m ? m[1] : new URL(href, location.href).pathname.split("/").pop();
  const url = URL.createObjectURL(await res.blob());
  const a = el("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/* What the server knows about the procedure, read once: each action's steps
 * in the order its job runs them, and the playbook's files. */
export async function loadProcedure() {
  const plan = await api("GET", "/api/plan");
  state.procedure = {
    steps: (plan && plan.steps) || {},
    files: (plan && plan.playbook_files) || [],
  };
  emit("procedure");
  return state.procedure;
}

/* The steps of an action, as the server lists them ([] until known). */
export function stepsOf(action) {
  const p = state.procedure;
  return (p && p.steps && p.steps[action]) || [];
}

export function serviceOf(st) {
  return (st && st.service) || { state: "unknown" };
}
