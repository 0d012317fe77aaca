/*
 * audit.js - the audit view: the hash chain's check, the trail with its
 * filters (action, time range in the server's local time), and exports.
 */

import { api, download, state } from "./api.js";
import {
  $,
  append,
  badge,
  clip,
  el,
  localToIso,
  plural,
  replaceChildren,
  showNotice,
  timeEl,
} from "./lib.js";

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

function auditQuery() {
  const p = new URLSearchParams();
  const action = $("f-action").value.trim();
  const since = localToIso($("f-since").value);
  const until = localToIso($("f-until").value);
  if (action) p.set("action", action);
  if (since) p.set("since", since);
  if (until) p.set("until", until);
  return p;
}

function updateExportLinks() {
  const p = auditQuery();
  p.delete("action"); // the exports take the time range only
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

/* The details of an audit row: its message (or short JSON) in view, the
 * whole JSON one click away. */
function detailsCell(d) {
  const td = el("td", { class: "details-cell" });
  if (d === null || d === undefined) return td;
  const json = typeof d === "string" ? d : JSON.stringify(d);
  let shown = json;
  if (typeof d === "object" && typeof d.message === "string") shown = d.message;
  if (shown.length > 160) shown = shown.slice(0, 160) + "…";
  append(td, [el("span", { class: "details-text" }, shown)]);
  if (shown !== json) {
    append(td, [
      el(
        "details",
        null,
        el("summary", null, "All details"),
        el("pre", { class: "json" }, typeof d === "string" ? d : JSON.stringify(d, null, 2)),
      ),
    ]);
  }
  return td;
}

function auditRow(r) {
  const outcome = r.outcome || "";
  return el(
    "tr",
    { "data-seq": r.seq, "data-action": r.action },
    el("td", { class: "num" }, String(r.seq)),
    el("td", null, timeEl(r.time)),
    el("td", null, (r.actor || "?") + (r.auth ? " (" + r.auth + ")" : "")),
    el("td", { class: "mono nowrap" }, r.action || ""),
    el("td", { class: "path mono target-cell", title: r.target || null }, clip(r.target || "", 44)),
    el(
      "td",
      null,
      badge(outcome === "ok" ? "ok" : outcome === "failed" ? "failed" : "unknown", outcome),
    ),
    detailsCell(r.details),
  );
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
  const p = auditQuery();
  p.set("limit", "100");
  if (more && state.auditBefore) p.set("before", String(state.auditBefore));
  const err = $("audit-error");
  let data;
  try {
    data = await api("GET", "/api/audit?" + p.toString());
    err.hidden = true;
  } catch (e) {
    err.textContent = "Cannot read the audit trail: " + e.message;
    err.hidden = false;
    return;
  }
  const items = (data && data.items) || [];
  const body = $("audit-body");
  const rows = items.map(auditRow);
  if (more) append(body, rows);
  else if (rows.length) replaceChildren(body, rows);
  else
    replaceChildren(
      body,
      el("tr", { class: "empty-row" }, el("td", { colspan: 7 }, "No records match.")),
    );
  state.auditBefore = data ? data.next_before : null;
  $("audit-more").hidden = !state.auditBefore;
  suggestActions(items);
}

export function loadAuditView() {
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
  $("audit-more").addEventListener("click", () => loadAudit(true));
  // exports need this tab's secret: a plain link would carry the cookie only
  for (const a of document.querySelectorAll("a.export")) {
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      download(a.href).catch((e) => {
        if (e.status !== 401) showNotice("Cannot download the export: " + e.message);
      });
    });
  }
}
