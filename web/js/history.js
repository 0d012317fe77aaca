/*
 * history.js - the history view: a file's timeline (timeline.js) with its
 * zoom, the observation a chosen box stands for, the observations as a
 * table (each with who changed the file), and the list of scans.
 */

import { api, on, serverNow, state } from "./api.js";
import { changedByText } from "./fields.js";
import {
  $,
  append,
  badge,
  durText,
  el,
  fmtSize,
  fmtTime,
  replaceChildren,
  showNotice,
  statusBadge,
  statusText,
  tail,
  timeEl,
} from "./lib.js";
import { sigBadgeParts } from "./signature.js";
import { refreshStatus } from "./status.js";
import { ZOOMS, drawTimeline, lanesOf, laneName } from "./timeline.js";

let zoom = 1;
let current = null; // {name, obs, lanes} of the timeline shown

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
  const want = state.params && state.params.get("file");
  if (want && names.includes(want)) state.historyFile = want;
  if (state.historyFile && names.includes(state.historyFile)) sel.value = state.historyFile;
  state.historyFile = sel.value;
  if (sel.value) loadTimeline(sel.value);
  loadScans(false);
}

const tmiDir = () => state.status && state.status.scan && state.status.scan.tmi_dir;

async function loadTimeline(name) {
  let data;
  try {
    data = await api("GET", "/api/files/" + encodeURIComponent(name) + "/history?limit=500");
  } catch (e) {
    if (e.status !== 401 && e.status !== 0)
      replaceChildren($("timeline"), el("p", { class: "error" }, "Cannot read the history: " + e.message));
    return;
  }
  if (name !== state.historyFile) return;
  const obs = ((data && data.items) || [])
    .slice()
    .sort((a, b) => (a.observed < b.observed ? -1 : a.observed > b.observed ? 1 : a.id - b.id));
  current = { name: name, obs: obs };
  draw();
  renderObsTable(obs);
  const want = state.params && Number(state.params.get("obs"));
  if (want) {
    const o = obs.find((x) => x.id === want);
    if (o) showObservation(o, null);
  }
}

/* "1.12.0.1156 (old) from 2026-... until 2026-..." */
function segWords(s) {
  const o = s.obs;
  const status = o.present ? o.status || "ok" : "missing";
  const version = o.present ? o.version || statusText(status) : "missing";
  return (
    version +
    " (" +
    status +
    ") from " +
    fmtTime(o.observed) +
    (s.also.length ? ", seen again " + s.also.length + (s.also.length === 1 ? " time" : " times") : "")
  );
}

/* Draw the history of the file shown at the current zoom. */
function draw() {
  const box = $("timeline");
  if (!current) return;
  const { name, obs } = current;
  if (obs.length === 0) {
    replaceChildren(box, el("p", { class: "muted" }, "No observations of " + name + " yet."));
    $("timeline-summary").textContent = "";
    $("tl-scale").textContent = "";
    return;
  }
  const lanes = lanesOf(obs, serverNow());
  const wrap = $("timeline-wrap");
  const narrow = wrap.clientWidth < 560;
  const res = drawTimeline(box, lanes, {
    width: wrap.clientWidth || 900,
    labelsW: narrow ? 120 : 200,
    zoom: zoom,
    nowMs: serverNow(),
    tmiDir: tmiDir(),
    title: "Timeline of " + name,
    words: (s, lane) => name + " in the " + laneName(lane, tmiDir()).label + ": " + segWords(s),
    onSelect: (s) => showObservation(s.obs, s),
  });
  $("tl-scale").textContent = "One tick: " + durText(res.stepMs).replace(/\.0 s$/, " s") + (zoom > 1 ? " (zoom ×" + zoom + ")" : "");
  $("tl-zoom-out").disabled = zoom === ZOOMS[0];
  $("tl-zoom-in").disabled = zoom === ZOOMS[ZOOMS.length - 1];
  $("timeline-summary").textContent =
    "Timeline of " +
    name +
    ". " +
    lanes
      .map((lane) => laneName(lane, tmiDir()).label + ": " + lane.segs.map(segWords).join(", then "))
      .join(". ");
}

function setZoom(z, anchorRight) {
  const scroller = document.getElementById("tl-scroll");
  const frac = scroller && scroller.scrollWidth ? (scroller.scrollLeft + scroller.clientWidth / 2) / scroller.scrollWidth : 1;
  zoom = z;
  draw();
  const s = document.getElementById("tl-scroll");
  if (s) s.scrollLeft = anchorRight ? s.scrollWidth : Math.max(0, frac * s.scrollWidth - s.clientWidth / 2);
}

/* The observation a box stands for, in full. */
function showObservation(o, seg) {
  const panel = $("obs-panel");
  const facts = [
    ["File", el("span", { class: "mono" }, o.name)],
    ["Where", el("span", { class: "path mono" }, o.path)],
    ["Version", o.present ? o.version || "–" : "missing"],
    ["Status", statusBadge(o.present ? o.status : "missing")],
    ["SHA-256", el("span", { class: "hash full", id: "obs-sha256" }, o.sha256 || "–")],
    ["Size", fmtSize(o.size)],
    ["Modified", o.mtime ? timeEl(o.mtime) : "–"],
    ["First seen", el("span", null, timeEl(o.observed), " (scan " + o.scan_id + ")")],
    ["Changed by", el("span", { id: "obs-changed-by" }, changedByText(o.changed_by), jobLink(o.changed_by))],
  ];
  if (seg && seg.also.length)
    facts.push([
      "Seen again",
      seg.also.length + " more time(s) with the same version and hash, last " + fmtTime(seg.also[seg.also.length - 1].observed),
    ]);
  if (o.signature) facts.push(["Signature", obsSignature(o.signature)]);
  if (o.error) facts.push(["Error", o.error]);
  replaceChildren(
    $("obs-facts"),
    facts.map(([k, v]) => [el("dt", null, k), el("dd", null, v)]),
  );
  $("obs-title").textContent = "Observation " + o.id + ": " + o.name + (o.kind === "tmi" ? " in the TMI folder" : " in a source folder");
  panel.dataset.obs = o.id;
  panel.hidden = false;
  panel.scrollIntoView({ block: "nearest" });
  $("obs-close").focus();
}

/* The signature an observation recorded: the badge, and the thumbprint. */
function obsSignature(sig) {
  const p = sigBadgeParts({ status: sig.status, reason: sig.reason, signer: sig.signer ? { organization: sig.signer } : null });
  return el(
    "span",
    { id: "obs-signature" },
    badge(p.kind, p.text),
    sig.thumbprint_sha256 ? [" ", el("span", { class: "hash full" }, "SHA-256 " + sig.thumbprint_sha256)] : null,
  );
}

function jobLink(cb) {
  if (!cb || cb.kind !== "job") return null;
  return el("span", null, " – ", el("a", { href: "#audit?job=" + cb.job }, "its audit records"));
}

function renderObsTable(obs) {
  const rows = obs.slice().reverse();
  if (rows.length === 0) {
    replaceChildren(
      $("obs-body"),
      el("tr", { class: "empty-row" }, el("td", { colspan: 6 }, "No observations.")),
    );
    return;
  }
  replaceChildren(
    $("obs-body"),
    rows.map((o) =>
      el(
        "tr",
        { "data-obs": o.id, "data-changed-by": o.changed_by ? o.changed_by.kind : null },
        el("td", null, timeEl(o.observed)),
        el(
          "td",
          { class: "path mono", title: o.path },
          o.kind === "tmi" ? "TMI folder" : laneName({ kind: "source", path: o.path }, tmiDir()).sub || tail(o.path, 4),
        ),
        el("td", { class: "mono" }, o.present ? o.version || "–" : "missing"),
        el("td", null, statusBadge(o.present ? o.status : "missing")),
        el("td", null, changedByText(o.changed_by)),
        el("td", { class: "hash full" }, o.sha256 || "–"),
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
    if (e.status !== 401 && e.status !== 0) showNotice("Cannot list the scans: " + e.message);
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
    $("obs-panel").hidden = true;
    loadTimeline(ev.target.value);
  });
  $("scans-more").addEventListener("click", () => loadScans(true));
  $("tl-zoom-in").addEventListener("click", () => setZoom(ZOOMS[Math.min(ZOOMS.indexOf(zoom) + 1, ZOOMS.length - 1)]));
  $("tl-zoom-out").addEventListener("click", () => setZoom(ZOOMS[Math.max(ZOOMS.indexOf(zoom) - 1, 0)]));
  $("tl-zoom-fit").addEventListener("click", () => setZoom(1));
  $("obs-close").addEventListener("click", () => {
    const id = $("obs-panel").dataset.obs;
    $("obs-panel").hidden = true;
    const box = document.querySelector('#timeline g.tl-seg[data-obs="' + id + '"]');
    if (box) box.focus();
  });
  on("procedure", () => {
    if (state.view === "history" && fileNames().length !== $("history-file").options.length)
      loadHistoryView();
  });
  on("cleared", () => {
    current = null;
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (state.view === "history" && state.signedIn) draw();
    }, 150);
  });
}
