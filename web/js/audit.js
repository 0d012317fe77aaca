/*
 * audit.js - the audit view: the hash chain's check, the trail with its
 * filters (action, time range typed as the table shows times: the server's
 * local time), and exports. The records of a job are one group (its own
 * record first, its steps and scans one click away); "#audit?job=3" shows
 * only job 3's records (GET /api/audit?job=3). Each column means one thing:
 * who, how they signed in, the action, its outcome, the folder it acted on;
 * any other target and the details are fields.
 */

import { api, download, state } from "./api.js";
import { detailsNodes } from "./fields.js";
import { $, append, badge, el, localToIso, plural, replaceChildren, showNotice, timeEl } from "./lib.js";

const COLS = 8;

// Suggestions for the action filter besides the jobs and their steps (which
// come from the server's step lists) and the actions seen in the trail.
const OTHER_ACTIONS = [
  "scan",
  "recover",
  "login",
  "logout",
  "login_code",
  "auth",
  "auth_throttle",
  "server_start",
  "server_stop",
  "token_change",
  "export",
];

/* The time filter fields as ISO times; a field that holds no time is
 * marked, and throws. */
function timeFilter(id) {
  const input = $(id);
  try {
    const v = localToIso(input.value);
    input.removeAttribute("aria-invalid");
    return v;
  } catch (e) {
    input.setAttribute("aria-invalid", "true");
    throw e;
  }
}

/* The query of the filters (throws when a time cannot be read). */
function auditQuery() {
  const p = new URLSearchParams();
  const action = $("f-action").value.trim();
  const since = timeFilter("f-since");
  const until = timeFilter("f-until");
  const job = jobFilter();
  if (job) p.set("job", job);
  if (action) p.set("action", action);
  if (since) p.set("since", since);
  if (until) p.set("until", until);
  return p;
}

/* The job the address asks for ("#audit?job=3"), or null. */
function jobFilter() {
  const j = state.view === "audit" && state.params ? state.params.get("job") : null;
  return j && /^[0-9]{1,18}$/.test(j) ? j : null;
}

function showError(text) {
  const err = $("audit-error");
  err.textContent = text;
  err.hidden = !text;
}

function updateExportLinks() {
  let p;
  try {
    p = auditQuery();
  } catch (e) {
    return; // the links keep the last range that could be read
  }
  p.delete("action"); // the exports take the time range only
  p.delete("job");
  const qs = p.toString() ? "?" + p.toString() : "";
  $("exp-audit-csv").href = "/api/export/audit.csv" + qs;
  $("exp-audit-json").href = "/api/export/audit.json" + qs;
  $("exp-history-csv").href = "/api/export/history.csv" + qs;
  $("exp-history-json").href = "/api/export/history.json" + qs;
}

async function loadVerify() {
  const c = $("chain");
  try {
    const v = await api("GET", "/api/audit/verify");
    if (v.intact) {
      c.className = "badge badge-intact";
      c.textContent = "✓ Chain verified: " + plural(v.rows, "record", "records") + " intact";
      c.title =
        "head " +
        v.head +
        (v.anchored ? "; matches the copy kept outside the database" : "") +
        (v.unanchored ? "; " + v.unanchored + " newest not yet anchored" : "");
    } else {
      c.className = "badge badge-broken";
      c.textContent =
        "✗ Chain broken" +
        (v.broken_seq ? " at record " + v.broken_seq : "") +
        ": " +
        (v.detail || v.break);
      c.title = v.detail || "";
    }
    c.dataset.intact = String(!!v.intact);
  } catch (e) {
    c.className = "badge badge-unknown";
    c.textContent = "Chain not checked: " + e.message;
  }
}

/* A target that is a path goes in the Folder column; any other (an alert's
 * kind, "web", an address) is a field of the details, named by the action. */
const isPath = (t) => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(t || "");
const TARGET_LABEL = {
  alert: "Alert",
  login: "Signed in to",
  login_code: "Login link for",
  logout: "Signed out of",
  server_start: "Address",
  server_stop: "Address",
  token_change: "Token",
  export: "Export",
};

function targetField(r) {
  if (!r.target || isPath(r.target)) return [];
  const label = TARGET_LABEL[r.action] || TARGET_LABEL[String(r.action).split(".")[0]] || "On";
  return [[label, r.target.replace(/_/g, " ")]];
}

function detailsCell(r) {
  const extra = targetField(r);
  if (r.params !== null && r.params !== undefined)
    extra.push(["Parameters", el("code", { class: "json-inline" }, JSON.stringify(r.params))]);
  const nodes = detailsNodes(r.details, extra) || [];
  return el(
    "td",
    { class: "details-cell" },
    nodes,
    r.details !== null && r.details !== undefined
      ? el(
          "details",
          { class: "raw" },
          el("summary", null, "As recorded (JSON)"),
          el("pre", { class: "json" }, JSON.stringify(r.details, null, 2)),
        )
      : null,
  );
}

function outcomeBadge(outcome) {
  const kind = outcome === "ok" ? "ok" : outcome === "failed" ? "failed" : "unknown";
  return badge(kind, outcome || "–");
}

/* The job a record belongs to: its "job" (the API's), else its details'. */
export function jobOf(r) {
  if (r.job !== undefined && r.job !== null) return r.job;
  const d = r.details;
  return d && typeof d === "object" && d.job !== undefined && d.job !== null ? d.job : null;
}

function auditRow(r, cls) {
  return el(
    "tr",
    {
      "data-seq": r.seq,
      "data-action": r.action,
      "data-job": jobOf(r),
      class: cls || null,
    },
    el("td", { class: "num" }, String(r.seq)),
    el("td", null, timeEl(r.time)),
    el("td", null, r.actor || "?"),
    el("td", null, r.auth || "–"),
    el("td", { class: "mono nowrap" }, r.action || ""),
    el("td", null, outcomeBadge(r.outcome)),
    el("td", { class: "path mono folder-cell" }, isPath(r.target) ? r.target : ""),
    detailsCell(r),
  );
}

/* The rows of a page, a job's records gathered under its first (newest)
 * record with a button that shows or hides the others. */
function groupRows(items, expandAll) {
  const groups = new Map();
  const order = [];
  for (const r of items) {
    const j = jobOf(r);
    if (j === null) {
      order.push({ row: r });
      continue;
    }
    if (!groups.has(j)) {
      const g = { job: j, rows: [] };
      groups.set(j, g);
      order.push(g);
    }
    groups.get(j).rows.push(r);
  }
  const out = [];
  for (const o of order) {
    if (o.row) {
      out.push(auditRow(o.row));
      continue;
    }
    // the job's own record ("repair", no dot) heads the group when here
    const head = o.rows.find((r) => !String(r.action).includes(".") && r.action !== "scan") || o.rows[0];
    const rest = o.rows.filter((r) => r !== head);
    const tr = auditRow(head, "group-head");
    if (rest.length) {
      const id = "audit-job-" + o.job + "-" + head.seq;
      const btn = el(
        "button",
        {
          type: "button",
          class: "btn btn-small group-toggle",
          "aria-expanded": expandAll ? "true" : "false",
          "aria-controls": id,
        },
        (expandAll ? "Hide " : "Show ") + plural(rest.length, "more record", "more records") + " of job " + o.job,
      );
      btn.addEventListener("click", () => toggleGroup(btn, o.job, head.seq, rest.length));
      tr.cells[COLS - 1].prepend(el("div", { class: "group-line" }, btn));
    }
    out.push(tr);
    rest.forEach((r, i) => {
      const c = auditRow(r, "group-row");
      c.dataset.group = o.job + "-" + head.seq;
      if (i === 0) c.id = "audit-job-" + o.job + "-" + head.seq;
      c.hidden = !expandAll;
      out.push(c);
    });
  }
  return out;
}

function toggleGroup(btn, job, headSeq, n) {
  const open = btn.getAttribute("aria-expanded") !== "true";
  btn.setAttribute("aria-expanded", String(open));
  btn.textContent = (open ? "Hide " : "Show ") + plural(n, "more record", "more records") + " of job " + job;
  for (const tr of document.querySelectorAll('#audit-body tr[data-group="' + job + "-" + headSeq + '"]'))
    tr.hidden = !open;
}

/* Offer every action name known so far in the filter's list. */
function suggestActions(items) {
  const names = new Set(OTHER_ACTIONS);
  const steps = (state.procedure && state.procedure.steps) || {};
  for (const [action, list] of Object.entries(steps)) {
    names.add(action);
    for (const s of list) names.add(action + "." + s);
  }
  for (const r of items) if (r.action) names.add(r.action);
  for (const o of $("action-names").options) names.delete(o.value);
  append(
    $("action-names"),
    [...names].sort().map((n) => el("option", { value: n })),
  );
}

async function loadAudit(more) {
  let p;
  try {
    p = auditQuery();
  } catch (e) {
    showError(e.message);
    return;
  }
  p.set("limit", "100");
  if (more && state.auditBefore) p.set("before", String(state.auditBefore));
  let data;
  try {
    data = await api("GET", "/api/audit?" + p.toString());
    showError("");
  } catch (e) {
    if (e.status !== 401) showError("Cannot read the audit trail: " + e.message);
    return;
  }
  const items = (data && data.items) || [];
  const body = $("audit-body");
  const rows = groupRows(items, !!jobFilter());
  if (more) append(body, rows);
  else if (rows.length) replaceChildren(body, rows);
  else
    replaceChildren(
      body,
      el("tr", { class: "empty-row" }, el("td", { colspan: COLS }, "No records match.")),
    );
  state.auditBefore = data ? data.next_before : null;
  $("audit-more").hidden = !state.auditBefore;
  suggestActions(items);
}

function showJobFilter() {
  const job = jobFilter();
  $("audit-job").hidden = !job;
  $("audit-job-text").textContent = job ? "Only the records of job " + job + "." : "";
}

export function loadAuditView() {
  showJobFilter();
  updateExportLinks();
  loadVerify();
  loadAudit(false);
}

export function setup() {
  $("audit-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    updateExportLinks();
    loadAudit(false);
  });
  $("f-reset").addEventListener("click", () => {
    $("audit-filter").reset();
    updateExportLinks();
    loadAudit(false);
  });
  for (const id of ["f-since", "f-until"]) $(id).addEventListener("change", updateExportLinks);
  // no job filter once the address has none
  $("audit-job-clear").addEventListener("click", () => {
    state.params = new URLSearchParams();
  });
  $("audit-more").addEventListener("click", () => loadAudit(true));
  // exports need this tab's secret: a plain link would carry the cookie only
  for (const a of document.querySelectorAll("a.export")) {
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      download(a.href).catch((e) => {
        if (e.status !== 401 && e.status !== 0)
          showNotice("Cannot download the export: " + e.message);
      });
    });
  }
}
