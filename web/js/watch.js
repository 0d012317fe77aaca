/*
 * watch.js - whether the server watches the TMI folder (GET /api/status's
 * "watch"): when it last looked and why ("checked 12 s ago, after a change
 * in the folders"), a warning when watching is off or does not work, and
 * the automatic repair's countdown with its Cancel (DELETE /api/auto-repair).
 */

import { api, on, serverNow, state } from "./api.js";
import { $, agoText, durText, fmtTime, setText, showNotice } from "./lib.js";

// Why a scan ran (its "reason"), in words.
const REASON_TEXT = {
  watch: "after a change in the watched folders",
  timer: "on the regular timer",
  start: "when the server started",
  user: "because someone asked for it",
  job: "by a job",
};

export function reasonText(r) {
  return REASON_TEXT[r] || (r ? "(" + r + ")" : "");
}

function intervalText(s) {
  if (!s) return "";
  return s % 60 === 0 ? s / 60 + " min" : s + " s";
}

/* The newest scan: the watcher's last, or the status's when newer (a job's
 * or a user's): {id, time, reason}. */
function newestScan(st, w) {
  const last = w && w.last_scan;
  const scan = st && st.scan;
  if (scan && (!last || st.scan_id > last.id))
    return { id: st.scan_id, time: scan.finished || scan.started, reason: scan.reason || null };
  return last || null;
}

/* "Checked 12 s ago, after a change in the watched folders (scan 6, 12:00:03)." */
function checkedLine(st, w) {
  const last = newestScan(st, w);
  if (!last) return "";
  const t = Date.parse(last.time);
  const ago = Number.isNaN(t) ? "" : agoText(serverNow() - t);
  return (
    "Checked " +
    ago +
    (last.reason ? ", " + reasonText(last.reason) : "") +
    ": scan " +
    last.id +
    " at " +
    fmtTime(last.time) +
    "."
  );
}

/* The warning, or "" when the folders are watched as they should be. */
export function watchWarning(w) {
  if (!w) return "This server does not watch the TMI folder: a change is found only when someone scans.";
  if (w.mode === "off")
    return (
      "Watching is off: a change to the files is found only when someone scans" +
      (w.detail ? " (" + w.detail + ")." : ".")
    );
  if (!w.ok)
    return (
      "Watching does not work: " +
      (w.detail || "no reason given") +
      (w.interval_s > 0
        ? ". Until it does, changes are found by the regular check every " +
          intervalText(w.interval_s) +
          "."
        : ". Changes are found only when someone scans.")
    );
  return "";
}

function watchingText(w) {
  if (!w || w.mode === "off" || !w.ok) return "";
  const how =
    w.mode === "poll"
      ? "Looking at " + w.folders + " folder(s) for changes by polling"
      : "Watching " + w.folders + " folder(s) for changes";
  return how + (w.interval_s > 0 ? ", and a full check every " + intervalText(w.interval_s) : "") + ".";
}

/* The automatic repair's line, and whether it can be cancelled. */
function autoRepairState(ar) {
  if (!ar || !ar.enabled) return null;
  if (ar.state === "scheduled") {
    const due = Date.parse(ar.due || "");
    const left = Number.isNaN(due) ? null : Math.max(0, due - serverNow());
    return {
      cls: "auto-scheduled",
      text:
        "Automatic repair " +
        (left === null ? "scheduled" : left < 1000 ? "starts now" : "in " + Math.ceil(left / 1000) + " s") +
        ": this server repairs on its own " +
        durText(ar.delay_s * 1000).replace(/\.0 s$/, " s") +
        " after the fault is found, unless you act first.",
      cancel: true,
    };
  }
  if (ar.state === "running")
    return {
      cls: "auto-running",
      text: "Automatic repair is running" + (ar.job ? " (job " + ar.job + ")" : "") + ".",
      cancel: false,
    };
  if (ar.state === "held")
    return {
      cls: "auto-held",
      text: "Automatic repair is held: " + (ar.detail || "a person must act first") + ".",
      cancel: false,
    };
  if (ar.state === "done" && ar.detail)
    return { cls: "auto-done", text: "Automatic repair: " + ar.detail + ".", cancel: false };
  return null;
}

export function renderWatch() {
  if (!state.status) return;
  const w = state.status.watch;
  setText($("watch-line"), [checkedLine(state.status, w), watchingText(w)].filter(Boolean).join(" "));
  const warn = watchWarning(w);
  setText($("watch-warn"), warn);
  $("watch-warn").hidden = !warn;
  const ar = autoRepairState(w && w.auto_repair);
  const box = $("auto-repair");
  box.hidden = !ar;
  box.className = "auto-repair " + (ar ? ar.cls : "");
  box.dataset.state = w && w.auto_repair ? w.auto_repair.state : "";
  setText($("auto-repair-text"), ar ? ar.text : "");
  $("auto-repair-cancel").hidden = !(ar && ar.cancel);
  $("auto-repair-cancel").disabled = !state.online;
}

async function cancelAutoRepair() {
  const b = $("auto-repair-cancel");
  b.disabled = true;
  try {
    await api("DELETE", "/api/auto-repair");
  } catch (e) {
    if (e.status === 409) showNotice("No automatic repair was scheduled any more.");
    else if (e.status !== 401 && e.status !== 0)
      showNotice("Cannot cancel the automatic repair: " + e.message);
  }
  try {
    state.status = await api("GET", "/api/status");
  } catch (e) {
    return;
  }
  renderWatch();
}

export function setup() {
  $("auto-repair-cancel").addEventListener("click", cancelAutoRepair);
  on("status", renderWatch);
  on("tick", () => {
    if (state.signedIn && state.view === "status") renderWatch();
  });
}
