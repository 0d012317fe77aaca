/*
 * alerts.js - the alerts on the status view (GET /api/alerts): a short line
 * in the banner for each open alert (the TMI folder affected, the service
 * down, the audit chain broken; for an affected folder, also the files
 * changed outside tmi-console that made it so), and the "Recent alerts"
 * list, newest first.
 */

import { api, on, state } from "./api.js";
import { $, el, fmtTime, replaceChildren, tail, timeEl } from "./lib.js";

const RECENT = 10; // alerts in the list
const BANNER_MAX = 5; // lines in the banner, then "and N more"
// An outside change belongs to an affected verdict when it was raised by
// the scan that made the folder affected (moments before) or after it.
const SAME_SCAN_MS = 2000;

const KIND_TEXT = {
  verdict_change: "Verdict changed",
  outside_change: "Changed outside tmi-console",
  job_failed: "Job failed",
  service_down: "Service down",
  chain_broken: "Audit trail broken",
};

let busy = false;

function kindText(k) {
  return KIND_TEXT[k] || k || "Alert";
}

function timeOf(iso) {
  const t = Date.parse(iso || "");
  return Number.isNaN(t) ? null : t;
}

/* "mrf.exe 1.12.0.1266 -> 1.12.0.1156" from an outside change's details. */
function changeText(d) {
  const file = d.file ? tail(d.file, 1) : "a file";
  return file + " " + (d.old_version || "absent") + " -> " + (d.new_version || "absent");
}

/* The banner's lines for the open alerts. */
export function openLines(doc) {
  const open = (doc && doc.open) || [];
  const recent = (doc && doc.recent && doc.recent.items) || [];
  const lines = [];
  for (const a of open) {
    const since = fmtTime(a.since);
    if (a.kind === "verdict") {
      const from = timeOf(a.since);
      const changes = recent.filter(
        (r) => r.kind === "outside_change" && from !== null && timeOf(r.time) >= from - SAME_SCAN_MS,
      );
      for (const c of changes)
        lines.push(
          "Alert: a file changed outside tmi-console at " +
            fmtTime(c.time) +
            " (" +
            changeText(c.details || {}) +
            ").",
        );
      if (!changes.length) lines.push("Alert: the TMI folder is " + a.state + " since " + since + ".");
    } else if (a.kind === "service") {
      lines.push("Alert: the service " + a.subject + " is down although the files are good, since " + since + ".");
    } else if (a.kind === "chain") {
      lines.push("Alert: the audit trail does not verify, since " + since + ".");
    } else {
      lines.push("Alert: " + a.kind + " " + a.subject + " is " + a.state + " since " + since + ".");
    }
  }
  if (lines.length > BANNER_MAX) {
    const more = lines.length - (BANNER_MAX - 1);
    lines.splice(BANNER_MAX - 1, lines.length, "… and " + more + " more (see Recent alerts below).");
  }
  return lines;
}

function renderBanner(doc) {
  const box = $("banner-alerts");
  const lines = openLines(doc);
  replaceChildren(box, ...lines.map((t) => el("li", null, t)));
  box.hidden = lines.length === 0;
}

function renderRecent(doc) {
  const items = (doc && doc.recent && doc.recent.items) || [];
  replaceChildren(
    $("alerts-list"),
    ...items.map((a) =>
      el(
        "li",
        { class: "alert-item", "data-kind": a.kind, "data-seq": String(a.seq) },
        el("span", { class: "alert-head" }, timeEl(a.time), " ", el("strong", null, kindText(a.kind))),
        el("span", { class: "alert-text" }, a.message || ""),
      ),
    ),
  );
  $("alerts-empty").hidden = items.length > 0;
}

export async function refreshAlerts() {
  if (busy || !state.signedIn || state.view !== "status") return;
  busy = true;
  try {
    const doc = await api("GET", "/api/alerts?limit=" + RECENT);
    renderBanner(doc);
    renderRecent(doc);
  } catch (e) {
    // the connection line says when the server cannot be reached
  } finally {
    busy = false;
  }
}

/* Signed out: nothing of the session stays on the page. */
function clear() {
  replaceChildren($("banner-alerts"));
  $("banner-alerts").hidden = true;
  replaceChildren($("alerts-list"));
  $("alerts-empty").hidden = false;
}

export function setup() {
  on("status", refreshAlerts);
  on("cleared", clear);
}
