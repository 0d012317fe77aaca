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
  lastJob: null, // the newest job as GET /api/jobs/{id} told it (the job panel's)
  online: true, // false while the server does not answer
  lastAnswer: null, // Date.now() of the last answer from the server
  lostSince: null, // Date.now() when it stopped answering
  skewMs: 0, // the server's clock minus this browser's (from the Date header)
  signedOut: null, // why this tab is signed out ("logout", "ended", ...), or null
};

// ---------------------------------------------------------------- events
//
//   "changed"       the status, the running job or a scan in progress
//                   changed: views that show what may be done re-render
//   "job-ended"     the followed job ended: read the status and lists again
//   "procedure"     the steps of each action are known (loadProcedure)
//   "session-lost"  the server refused this tab's session (401)
//   "connection"    the server stopped or started answering (state.online)
//   "tick"          a second passed (ages and countdowns move on)

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

/* The time on the server's clock now (ms), as far as the page can tell. */
export function serverNow() {
  return Date.now() + state.skewMs;
}

/* An answer came: the server is there (and its clock is read from Date). */
function answered(res) {
  state.lastAnswer = Date.now();
  const d = Date.parse(res.headers.get("Date") || "");
  if (!Number.isNaN(d)) {
    // Date has whole seconds: only a skew past that is worth correcting
    const skew = d - Date.now();
    state.skewMs = Math.abs(skew) > 1500 ? skew : 0;
  }
  if (!state.online) {
    state.online = true;
    state.lostSince = null;
    emit("connection");
  }
}

/* No answer (refused, timed out) or a gateway's "unavailable": the page
 * shows its data as of the last answer until the server is back. */
function unanswered() {
  if (!state.online) return;
  state.online = false;
  state.lostSince = Date.now();
  emit("connection");
}

const TIMEOUT_MS = 8000; // a request without an answer by then counts as lost

async function send(path, opts) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), opts.timeoutMs || TIMEOUT_MS);
  let res;
  try {
    res = await fetch(path, Object.assign({ signal: ctl.signal }, opts));
  } catch (e) {
    unanswered();
    throw new ApiError(
      0,
      "No answer",
      "the server does not answer (is tmi-console still running?)",
    );
  } finally {
    clearTimeout(timer);
  }
  if (res.status === 502 || res.status === 503 || res.status === 504) unanswered();
  else answered(res);
  return res;
}

/* A refused session: tell the page once, and never show the server's
 * words for it (they are meant for scripts). */
function refused(res) {
  if (res.status !== 401) return false;
  if (state.signedIn) emit("session-lost");
  return true;
}

function authHeaders() {
  const s = currentSecret();
  return s ? { [SECRET_HEADER]: s } : {};
}

/* Call the API with this tab's secret; resolves to the parsed JSON (or
 * null), rejects with an ApiError carrying the problem's detail. */
export async function api(method, path, body, timeoutMs) {
  const opts = {
    method: method,
    credentials: "same-origin",
    headers: authHeaders(),
    timeoutMs: timeoutMs,
  };
  if (method === "POST" || method === "PUT" || method === "PATCH") {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body || {});
  }
  const res = await send(path, opts);
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
    if (refused(res)) throw new ApiError(401, "Signed out", "this tab is signed out");
    const detail = data && data.detail ? data.detail : res.statusText;
    throw new ApiError(res.status, data && data.title, detail);
  }
  return data;
}

/* GET a path with this tab's secret as a Blob (a report, an export);
 * resolves to {blob, name} (name from Content-Disposition, if any). */
export async function fetchBlob(href) {
  const res = await send(href, {
    credentials: "same-origin",
    headers: authHeaders(),
    timeoutMs: 60000,
  });
  if (!res.ok) {
    if (refused(res)) throw new ApiError(401, "Signed out", "this tab is signed out");
    let detail = "HTTP " + res.status + " " + res.statusText;
    if ((res.headers.get("Content-Type") || "").includes("json")) {
      try {
        detail = (await res.json()).detail || detail;
      } catch (e) {
        // keep the status line
      }
    }
    throw new ApiError(res.status, res.statusText, detail);
  }
  const m = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  return { blob: await res.blob(), name: m ? m[1] : null, type: res.headers.get("Content-Type") };
}

/* Download an export with this tab's secret (a plain link would carry the
 * cookie only, which the server refuses): the whole answer, then a save.
 * Rejects with an ApiError. */
export async function download(href) {
  const got = await fetchBlob(href);
  const name = got.name || new URL(href, location.href).pathname.split("/").pop();
  const url = URL.createObjectURL(got.blob);
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
