/*
 * status.js - the status view: the verdict banner (which follows a running
 * job, and tells what the last job that did not work left behind), the
 * evidence (service, event log, files, folder), the files table and the
 * repair source.
 */

import { api, emit, on, serviceOf, state } from "./api.js";
import {
  actionLabel,
  eventText,
  failedStep,
  jobOutcome,
  nextStep,
  stepLabel,
} from "./jobpanel.js";
import {
  $,
  badge,
  capital,
  el,
  fmtSize,
  hashCell,
  hashToggle,
  plural,
  replaceChildren,
  setText,
  showNotice,
  statusBadge,
  statusIsGood,
  statusText,
  timeEl,
} from "./lib.js";
import { sigDetails } from "./signature.js";

export async function refreshStatus(scanFirst) {
  try {
    if (scanFirst) await scanNow(true);
    let st = await api("GET", "/api/status");
    if (!st.scan && !scanFirst) {
      // nothing scanned yet on this data folder: look now
      await scanNow(true);
      st = await api("GET", "/api/status");
    }
    state.status = st;
    renderStatus();
  } catch (e) {
    if (e.status !== 401 && e.status !== 0) showNotice("Cannot read the status: " + e.message);
  }
}

async function scanNow(quiet) {
  state.busyScan = true;
  emit("changed");
  try {
    await api("POST", "/api/scan", {});
    if (!quiet) showNotice("");
  } finally {
    state.busyScan = false;
    emit("changed");
  }
}

/* How many files are in each status (any status the server sends). */
function fileCounts(scan) {
  const c = { total: 0, byStatus: new Map(), oldVersions: new Set() };
  for (const f of scan.files || []) {
    c.total++;
    c.byStatus.set(f.status, (c.byStatus.get(f.status) || 0) + 1);
    if (f.status === "old" && f.version) c.oldVersions.add(f.version);
  }
  c.n = (status) => c.byStatus.get(status) || 0;
  return c;
}

/* "8 of 8 files are the old 1.12.0.1156 version" and the like; a status the
 * page has no words for is named as it is ("1 file is quarantined"). */
export function badFilesText(scan) {
  const c = fileCounts(scan);
  const parts = [];
  const old = c.n("old");
  if (old > 0) {
    const vers = [...c.oldVersions];
    const which =
      vers.length === 1
        ? "the old " + vers[0] + " version"
        : "older versions (" + vers.join(", ") + ")";
    parts.push(old + " of " + c.total + (old === 1 ? " file is " : " files are ") + which);
  }
  if (c.n("missing") > 0) parts.push(plural(c.n("missing"), "file is", "files are") + " missing");
  if (c.n("unreadable") > 0)
    parts.push(plural(c.n("unreadable"), "file cannot", "files cannot") + " be read");
  if (c.n("invalid") > 0) parts.push(plural(c.n("invalid"), "file is", "files are") + " damaged");
  for (const [status, n] of c.byStatus) {
    if (statusIsGood(status) || ["old", "missing", "unreadable", "invalid"].includes(status))
      continue;
    parts.push(plural(n, "file is", "files are") + " " + statusText(status));
  }
  return parts.join("; ");
}

/* While a job runs, the banner tells the job, not the scan from before it. */
function bannerForJob(job) {
  const steps = job.steps || [];
  const cur = steps.length ? steps[steps.length - 1] : null;
  return {
    cls: "running",
    state: "job",
    title: actionLabel(job.action) + " running" + (cur ? ": " + stepLabel(cur.step) : ""),
    detail:
      "Job " + job.id + (cur ? ", step " + steps.length + ": " + (cur.what || "") : ": starting") + ".",
    meta: "The files and the evidence below are read again when the job ends.",
  };
}

/* The last job, when it did not fully work and the server is not healthy
 * now: what failed, the event text, and what to try next. */
function lastJobNote(st) {
  const job = state.lastJob;
  if (!job || job.status === "running") return null;
  const o = jobOutcome(job);
  if (o.kind === "ok") return null;
  const scan = st && st.scan;
  if (scan && scan.verdict === "healthy" && serviceOf(st).state === "running") return null;
  const f = failedStep(job);
  const label = actionLabel(job.action) + " (job " + job.id + ")";
  let what;
  if (o.kind === "warn") what = label + " put the files in place, but the TMI service did not stay up.";
  else if (job.status === "recovered") what = label + " was interrupted and rolled back.";
  else
    what =
      label +
      " failed" +
      (f ? " at “" + stepLabel(f.step) + "”" : "") +
      (job.rolled_back ? " and was rolled back: the files are as before it." : ".");
  const ev = eventText(job);
  return {
    kind: o.kind,
    nodes: [
      el("strong", null, what),
      ev ? el("span", null, " Event log: “" + ev + "”.") : null,
      el("span", null, " What to try next: " + nextStep(job)),
    ],
  };
}

function bannerFor(st) {
  const scan = st && st.scan;
  const svc = serviceOf(st);
  const b = { cls: "unknown", title: "No scan yet", detail: "", meta: "" };
  if (!scan) return b;
  const exp = scan.expected_version;
  if (scan.verdict === "affected") {
    b.cls = "affected";
    b.title =
      svc.state === "running"
        ? "The TMI files are the wrong version"
        : "The TMI service cannot run";
    b.detail = badFilesText(scan) + ". Control Manager 6.0 SP3 or later needs " + exp + ".";
    const last = state.lastJob;
    const lastFailed = last && last.status !== "running" && jobOutcome(last).kind !== "ok";
    b.meta =
      scan.repair && scan.repair.possible
        ? lastFailed
          ? "A complete good set was found (see the last job above before you try again)."
          : "A complete good set was found: use Repair to put it in place."
        : "No repair possible yet: " +
          ((scan.repair && scan.repair.reason) || "no good copies found") +
          ".";
  } else if (scan.verdict === "healthy") {
    const files = scan.files || [];
    const ok = files.filter((f) => statusIsGood(f.status)).length;
    const newer = files.some((f) => f.status === "newer");
    if (svc.state === "running" || svc.state === "unknown") {
      b.cls = "healthy";
      b.title = "Healthy";
      b.detail =
        "All " +
        ok +
        " TMI files are at " +
        exp +
        (newer ? " or newer" : "") +
        (svc.state === "running" ? " and the TMI service is running." : ".");
    } else {
      b.cls = "warn";
      b.title = "Files are fine, but the TMI service is " + svc.state.replace("_", " ");
      b.detail = "All " + ok + " TMI files are at " + exp + ". Use Restart service to start it.";
    }
  } else if (scan.verdict === "not_installed") {
    b.cls = "not_installed";
    b.title = "Not installed";
    b.detail =
      "No TMI folder was found on this server, so there is nothing to repair." +
      (scan.repair && scan.repair.reason ? " (" + scan.repair.reason + ")" : "");
  } else {
    b.title = "Unknown verdict: " + scan.verdict;
  }
  return b; // when it was checked: watch.js
}

function renderBanner() {
  const st = state.status;
  const scan = st && st.scan;
  const job = state.lastJob;
  const running = job && job.status === "running" && state.runningJob;
  const b = running ? bannerForJob(job) : bannerFor(st);
  const banner = $("banner");
  banner.className = "banner banner-" + b.cls;
  // while a job runs the banner tells the job, not a verdict
  banner.dataset.verdict = scan && !running ? scan.verdict : "";
  banner.dataset.state = b.state || "scan";
  setText($("banner-title"), b.title);
  setText($("banner-detail"), b.detail);
  setText($("banner-meta"), b.meta);
  const note = running ? null : lastJobNote(st);
  const box = $("banner-job");
  box.hidden = !note;
  box.className = "banner-job" + (note ? " note-" + note.kind : "");
  if (note) replaceChildren(box, note.nodes);
  else box.replaceChildren();
  // the files table while a job changes the files
  const fn = $("files-note");
  fn.hidden = !running;
  setText(
    fn,
    running
      ? "Job " +
          job.id +
          " is changing these files: the table shows them as of scan " +
          (st ? st.scan_id : "?") +
          " and is read again when the job ends."
      : "",
  );
  $("files-table").classList.toggle("during-job", !!running);
}

export function renderStatus() {
  const st = state.status;
  const scan = st && st.scan;
  renderBanner();
  renderEvidence(st);
  renderFiles(scan);
  renderSources(scan);
  emit("status");
  emit("changed");
}

function renderService(svc) {
  const s = $("ev-service");
  const stateName = svc.state || "unknown";
  s.className = "badge badge-" + stateName;
  s.textContent = stateName.replace("_", " ");
  let svcText = svc.detail || "";
  if (stateName !== "running" && svc.exit_code !== null && svc.exit_code !== undefined) {
    svcText = "it ended with exit code " + svc.exit_code;
  }
  $("ev-service-detail").textContent = [svc.name ? "'" + svc.name + "'" : "", svcText]
    .filter(Boolean)
    .join(": ");
}

function renderEvents(events, svc) {
  const evBox = $("ev-event");
  if (events.length === 0) {
    evBox.className = "muted";
    replaceChildren(evBox, "No event 800 record found.");
    return;
  }
  const ev = events[0];
  const past = svc.state === "running";
  evBox.className = past ? "event event-past" : "event";
  replaceChildren(
    evBox,
    el(
      "div",
      { class: "event-head" },
      past ? "Earlier, before the service ran: " : "",
      "Event " + ev.id + " from " + (ev.provider || "?") + " at ",
      timeEl(ev.time),
    ),
    el("div", { class: "event-msg" }, ev.message || ""),
    events.length > 1
      ? el(
          "div",
          { class: "muted" },
          plural(events.length - 1, "earlier record", "earlier records") + " like it",
        )
      : null,
  );
}

function renderEvidence(st) {
  const scan = st && st.scan;
  const svc = serviceOf(st);
  renderService(svc);
  renderEvents((st && st.events) || [], svc);
  const files = $("ev-files");
  if (!scan) {
    files.textContent = "–";
  } else if (scan.verdict === "not_installed") {
    files.textContent = "No TMI folder found.";
  } else {
    const all = scan.files || [];
    const bad = all.filter((f) => !statusIsGood(f.status));
    if (bad.length === 0) {
      files.textContent = "All " + all.length + " at " + scan.expected_version + " or newer.";
    } else if (bad.length === all.length) {
      files.textContent = badFilesText(scan) + " (all of them).";
    } else {
      replaceChildren(
        files,
        badFilesText(scan) + ": ",
        el("span", { class: "mono" }, bad.map((f) => f.name).join(", ")),
      );
    }
  }
  $("ev-tmidir").textContent = (scan && scan.tmi_dir) || "–";
  $("ev-tmidir-origin").textContent =
    scan && scan.tmi_dir_origin ? "(" + scan.tmi_dir_origin + ")" : "";
}

function fileRow(scan, f) {
  const bad = !statusIsGood(f.status);
  let statusTitle = null;
  if (f.known_bad)
    statusTitle =
      "a known-bad version: incompatible with Control Manager 6.0 SP3 or later (not a vulnerability)";
  if (f.error) statusTitle = f.error;
  return el(
    "tr",
    { class: bad ? "row-bad" : "row-good", "data-file": f.name },
    el("td", { class: "mono" }, el("span", { title: f.path }, f.name)),
    el("td", { class: "mono" }, scan.expected_version),
    el(
      "td",
      { class: "mono" },
      bad && f.version ? el("strong", null, f.version) : f.version || "–",
    ),
    el(
      "td",
      null,
      statusBadge(f.status, statusTitle),
      // the playbook's known-bad build: incompatible, not vulnerable
      f.known_bad
        ? el(
            "span",
            {
              class: "muted",
              title:
                "The build the ServerProtect patch puts in place; it does not work " +
                "with Control Manager 6.0 SP3 or later. It is not a vulnerable build.",
            },
            " incompatible build",
          )
        : null,
    ),
    el("td", { class: "sig-cell" }, sigDetails(f.signature, f.name)),
    hashCell(f.sha256),
    el("td", { class: "num nowrap" }, fmtSize(f.size)),
    el("td", null, f.mtime ? timeEl(f.mtime) : "–"),
  );
}

export function renderFiles(scan) {
  const body = $("files-body");
  if (!scan || !scan.files || scan.files.length === 0) {
    replaceChildren(
      body,
      el(
        "tr",
        { class: "empty-row" },
        el("td", { colspan: 8 }, scan ? "No TMI folder was found." : "Not scanned yet."),
      ),
    );
    return;
  }
  replaceChildren(
    body,
    scan.files.map((f) => fileRow(scan, f)),
  );
}

function renderSources(scan) {
  const sum = $("source-summary");
  const list = $("sources-list");
  if (!scan) {
    sum.textContent = "";
    list.replaceChildren();
    return;
  }
  const r = scan.repair || {};
  if (r.possible) {
    replaceChildren(
      sum,
      "Good copies (",
      el("strong", null, scan.expected_version),
      ") of all ",
      String((scan.files || []).length),
      " files are in ",
      el("code", { class: "path" }, r.source || ""),
      r.variant ? " – left there by " + r.variant + "." : ".",
    );
  } else if (scan.verdict === "healthy") {
    sum.textContent = r.reason ? capital(r.reason) + "." : "Nothing to repair.";
  } else {
    replaceChildren(
      sum,
      el("strong", null, "No repair source: "),
      r.reason || "no folder with all good copies was found.",
    );
  }
  const sources = scan.sources || [];
  if (sources.length === 0) {
    replaceChildren(list, el("li", { class: "muted" }, "No candidate source folder was found."));
    return;
  }
  replaceChildren(
    list,
    sources.map((s) =>
      el(
        "li",
        null,
        el("code", { class: "path" }, s.path),
        " ",
        s.variant ? el("span", { class: "muted" }, "(" + s.variant + ") ") : null,
        sourceBadge(s),
        !s.complete && s.reason
          ? el("span", { class: s.state === "untrusted" ? "sig-reason" : "muted" }, " " + s.reason)
          : null,
        sourceSignatures(s),
      ),
    ),
  );
}

/* complete (green), refused for a signature (red), or not usable. */
function sourceBadge(s) {
  if (s.complete) return badge("ok", "complete");
  if (s.state === "untrusted") return badge("invalid", "signature refused", s.reason || null);
  return badge("failed", "not usable", s.reason || null);
}

/* The signer of a source's files in one line, and each file's signature. */
function sourceSignatures(s) {
  const files = s.files || [];
  if (files.length === 0) return null;
  const signers = new Set(
    files.map((f) =>
      f.signature && f.signature.status === "valid" && f.signature.signer
        ? f.signature.signer.organization || f.signature.signer.common_name
        : null,
    ),
  );
  const invalid = files.filter((f) => f.signature && f.signature.status === "invalid").length;
  const unsigned = files.filter((f) => !f.signature || f.signature.status === "unsigned").length;
  let line;
  if (invalid > 0) line = invalid + " with an invalid signature";
  else if (unsigned === files.length) line = "all unsigned";
  else if (unsigned > 0) line = unsigned + " unsigned";
  else if (signers.size === 1) line = "all signed by " + [...signers][0];
  else line = "signed by " + signers.size + " publishers";
  return el(
    "details",
    { class: "sig-list" + (invalid > 0 ? " sig-list-bad" : "") },
    el("summary", null, "Signatures: " + line),
    el(
      "ul",
      null,
      files.map((f) =>
        el("li", null, el("code", null, f.name), " ", sigDetails(f.signature, f.name)),
      ),
    ),
  );
}

export function setup() {
  $("act-scan").addEventListener("click", () => refreshStatus(true));
  hashToggle($("files-hashes"), $("files-table"));
  // the job stored the scans it made: its end state is in the status already
  on("job-ended", () => refreshStatus(false));
  on("job-progress", () => {
    if (state.status) renderBanner();
  });
}
