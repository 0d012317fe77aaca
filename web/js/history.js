/*
 * history.js - the history view: a file's timeline (a lane per place it was
 * seen, a box per version and hash until the next change), its
 * observations as a table, and the list of scans.
 */

import { api, on, state } from "./api.js";
import {
  $,
  append,
  badge,
  clip,
  el,
  fmtTime,
  replaceChildren,
  showNotice,
  statusBadge,
  statusText,
  svg,
  tail,
  timeEl,
} from "./lib.js";
import { refreshStatus } from "./status.js";

/* The files to choose from: the current scan's, else the playbook's (both
 * as the server lists them). */
function fileNames() {
  const scan = state.status && state.status.scan;
  if (scan && scan.files && scan.files.length) return scan.files.map((f) => f.name);
  return (state.procedure && state.procedure.files) || [];
}

export async function loadHistoryView() {
  if (!state.status) await refreshStatus(false);
  const names = fileNames();
  const sel = $("history-file");
  const have = [...sel.options].map((o) => o.value);
  if (have.join("\n") !== names.join("\n")) {
    replaceChildren(
      sel,
      names.map((n) => el("option", { value: n }, n)),
    );
  }
  if (state.historyFile && names.includes(state.historyFile)) sel.value = state.historyFile;
  state.historyFile = sel.value;
  if (sel.value) loadTimeline(sel.value);
  loadScans(false);
}

async function loadTimeline(name) {
  let data;
  try {
    data = await api("GET", "/api/files/" + encodeURIComponent(name) + "/history?limit=500");
  } catch (e) {
    replaceChildren(
      $("timeline"),
      el("p", { class: "error" }, "Cannot read the history: " + e.message),
    );
    return;
  }
  if (name !== state.historyFile) return;
  const obs = ((data && data.items) || [])
    .slice()
    .sort((a, b) => (a.observed < b.observed ? -1 : a.observed > b.observed ? 1 : a.id - b.id));
  drawTimeline(name, obs);
  renderObsTable(obs);
}

/* A source path shown relative to the TMI folder when it lies below it. */
function relToTmi(path) {
  const tmi = state.status && state.status.scan && state.status.scan.tmi_dir;
  if (tmi && path && path.startsWith(tmi) && path.length > tmi.length + 1) {
    return "TMI" + path.slice(tmi.length).replace(/\\/g, "/");
  }
  return path;
}

function laneName(o) {
  if (o.kind === "tmi")
    return { label: "TMI folder", sub: clip(tail(o.path, 2), 30), full: o.path };
  const folder = relToTmi(o.path).split(/[\\/]/).slice(0, -1).join("/");
  return { label: "Source folder", sub: clip(folder, 30), full: o.path };
}

/* The geometry of a timeline: lanes (one per path, the TMI folder first)
 * and columns (one per scan that saw a change). */
function layout(obs, width) {
  const lanes = new Map();
  for (const o of obs) {
    if (!lanes.has(o.path)) lanes.set(o.path, { path: o.path, kind: o.kind, items: [] });
    lanes.get(o.path).items.push(o);
  }
  const laneList = [...lanes.values()].sort(
    (a, b) => (a.kind === "tmi" ? 0 : 1) - (b.kind === "tmi" ? 0 : 1) || (a.path < b.path ? -1 : 1),
  );
  const cols = [];
  const colOf = new Map();
  for (const o of obs) {
    const key = String(o.scan_id);
    if (!colOf.has(key)) {
      colOf.set(key, cols.length);
      cols.push({ scan: o.scan_id, time: o.observed });
    }
  }
  const g = { labelW: 210, axisH: 44, laneH: 58, lanes: laneList, cols: cols, colOf: colOf };
  const avail = Math.max(600, width - 2);
  g.colW = Math.max(150, Math.floor((avail - g.labelW - 50) / cols.length));
  g.width = g.labelW + cols.length * g.colW + 50;
  g.height = g.axisH + laneList.length * g.laneH + 10;
  g.x0 = g.labelW;
  g.xEnd = g.labelW + cols.length * g.colW;
  return g;
}

/* The axis: one column per scan that saw a change, then "now". */
function axis(g) {
  const out = [];
  g.cols.forEach((c, i) => {
    const x = g.x0 + i * g.colW;
    const t = fmtTime(c.time);
    out.push(svg("line", { class: "tl-grid", x1: x, y1: g.axisH - 6, x2: x, y2: g.height - 6 }));
    out.push(svg("text", { class: "tl-tick", x: x + 4, y: 14 }, t.slice(0, 10)));
    out.push(svg("text", { class: "tl-tick", x: x + 4, y: 28 }, t.slice(11) + " · scan " + c.scan));
  });
  out.push(
    svg("line", { class: "tl-grid", x1: g.xEnd, y1: g.axisH - 6, x2: g.xEnd, y2: g.height - 6 }),
  );
  out.push(svg("text", { class: "tl-tick", x: g.xEnd + 4, y: 28 }, "now"));
  return out;
}

/* One box: a version and hash in a lane, from its scan until the next
 * change. A status the page has no style for is drawn as trouble. */
function segment(g, lane, k, y) {
  const o = lane.items[k];
  const c0 = g.colOf.get(String(o.scan_id));
  const next = lane.items[k + 1];
  const c1 = next ? g.colOf.get(String(next.scan_id)) : g.cols.length;
  const x = g.x0 + c0 * g.colW + 3;
  const w = Math.max(8, (c1 - c0) * g.colW - 6);
  const status = o.present ? o.status || "ok" : "missing";
  const version = o.present ? o.version || statusText(status) : "missing";
  const styled = ["ok", "newer", "old", "missing", "unreadable", "invalid"].includes(status);
  const tip =
    version +
    " (" +
    status +
    ")" +
    (o.sha256 ? "\nSHA-256 " + o.sha256 : "") +
    "\nseen " +
    fmtTime(o.observed) +
    " in scan " +
    o.scan_id +
    "\n" +
    o.path;
  const node = svg(
    "g",
    { class: "tl-seg", "data-version": version, "data-status": status, "data-lane": lane.kind },
    svg("title", null, tip),
    svg("rect", {
      class: "tl-box tl-box-" + status + (styled ? "" : " tl-box-attention"),
      x: x,
      y: y + 8,
      width: w,
      height: g.laneH - 16,
      rx: 3,
    }),
    svg(
      "text",
      { class: "tl-version", x: x + 8, y: y + 26 },
      version + (status === "old" ? " (old)" : ""),
    ),
    svg(
      "text",
      { class: "tl-hash", x: x + 8, y: y + 41 },
      o.sha256 ? o.sha256.slice(0, 16) + "…" : "",
    ),
  );
  return { node: node, words: version + " (" + status + ") from " + fmtTime(o.observed) };
}

/* Draw the history of one file. */
function drawTimeline(name, obs) {
  const box = $("timeline");
  if (obs.length === 0) {
    replaceChildren(box, el("p", { class: "muted" }, "No observations of " + name + " yet."));
    return;
  }
  const g = layout(obs, box.parentElement.clientWidth || 900);
  const nodes = axis(g);
  const summary = [];
  g.lanes.forEach((lane, li) => {
    const y = g.axisH + li * g.laneH;
    const ln = laneName(lane);
    nodes.push(
      svg(
        "g",
        null,
        svg("title", null, ln.full),
        svg("text", { class: "tl-lane-label", x: 8, y: y + 24 }, ln.label),
        svg("text", { class: "tl-lane-sub", x: 8, y: y + 40 }, ln.sub),
      ),
    );
    const parts = [];
    lane.items.forEach((_, k) => {
      const seg = segment(g, lane, k, y);
      nodes.push(seg.node);
      parts.push(seg.words);
    });
    summary.push(ln.label + ": " + parts.join(", then "));
  });
  replaceChildren(
    box,
    svg(
      "svg",
      {
        width: g.width,
        height: g.height,
        viewBox: "0 0 " + g.width + " " + g.height,
        role: "img",
        "aria-label": "Timeline of " + name + ". " + summary.join(". "),
      },
      nodes,
    ),
  );
}

function renderObsTable(obs) {
  const rows = obs.slice().reverse();
  if (rows.length === 0) {
    replaceChildren(
      $("obs-body"),
      el("tr", { class: "empty-row" }, el("td", { colspan: 5 }, "No observations.")),
    );
    return;
  }
  replaceChildren(
    $("obs-body"),
    rows.map((o) =>
      el(
        "tr",
        null,
        el("td", null, timeEl(o.observed)),
        el(
          "td",
          { class: "path mono", title: o.path },
          o.kind === "tmi" ? "TMI folder" : relToTmi(tail(o.path, 4)),
        ),
        el("td", { class: "mono" }, o.present ? o.version || "–" : "missing"),
        el("td", null, statusBadge(o.present ? o.status : "missing")),
        el("td", { class: "hash" }, o.sha256 || "–"),
      ),
    ),
  );
}

async function loadScans(more) {
  let q = "/api/scans?limit=20";
  if (more && state.scansBefore) q += "&before=" + state.scansBefore;
  let data;
  try {
    data = await api("GET", q);
  } catch (e) {
    showNotice("Cannot list the scans: " + e.message);
    return;
  }
  const rows = ((data && data.items) || []).map((s) =>
    el(
      "tr",
      { "data-scan": s.id },
      el("td", { class: "num" }, String(s.id)),
      el("td", null, timeEl(s.started)),
      el("td", null, badge(s.verdict, String(s.verdict).replace("_", " "))),
      el("td", { class: "num" }, String(s.changed)),
      el("td", { class: "path mono" }, s.tmi_dir || "–"),
    ),
  );
  const body = $("scans-body");
  if (more) append(body, rows);
  else if (rows.length) replaceChildren(body, rows);
  else
    replaceChildren(
      body,
      el("tr", { class: "empty-row" }, el("td", { colspan: 5 }, "No scans yet.")),
    );
  state.scansBefore = data ? data.next_before : null;
  $("scans-more").hidden = !state.scansBefore;
}

export function setup() {
  $("history-file").addEventListener("change", (ev) => {
    state.historyFile = ev.target.value;
    loadTimeline(ev.target.value);
  });
  $("scans-more").addEventListener("click", () => loadScans(true));
  on("procedure", () => {
    if (state.view === "history" && fileNames().length !== $("history-file").options.length)
      loadHistoryView();
  });
}
