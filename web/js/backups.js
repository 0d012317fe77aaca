/*
 * backups.js - the backups and jobs view: every backup with a Restore that
 * says what it would put back, and the list of jobs.
 */

import { api, on, state } from "./api.js";
import { openDialog } from "./dialog.js";
import { actionLabel, jobBlocker, loadJobsList, startJob, stepsList } from "./jobs.js";
import { $, badge, dataTable, el, replaceChildren, shortHash, showNotice, timeEl } from "./lib.js";

export async function loadBackups() {
  try {
    const data = await api("GET", "/api/backups");
    state.backups = (data && data.backups) || [];
  } catch (e) {
    if (e.status !== 404) showNotice("Cannot list the backups: " + e.message);
    state.backups = [];
  }
  renderBackups();
}

export function loadBackupsView() {
  loadBackups();
  loadJobsList().catch((e) => showNotice("Cannot list the jobs: " + e.message));
}

function versionsSummary(files) {
  const counts = new Map();
  for (const f of files || []) {
    const k = f.present ? f.version || "?" : "absent";
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  return [...counts.entries()].map(([v, n]) => n + " × " + v).join(", ");
}

function restoreState(b) {
  const running = jobBlocker();
  if (running) return { ok: false, why: running };
  const scan = state.status && state.status.scan;
  if (!scan || !scan.tmi_dir) return { ok: false, why: "No TMI folder was found to restore into." };
  if (b.tmi_dir && b.tmi_dir !== scan.tmi_dir)
    return { ok: false, why: "Taken from another folder (" + b.tmi_dir + ")." };
  const now = new Map((scan.files || []).map((f) => [f.name, f.sha256 || null]));
  const same = (b.files || []).every((f) => (f.present ? f.sha256 : null) === now.get(f.name));
  if (same) return { ok: false, why: "These are the files in place now." };
  return { ok: true, why: "" };
}

function confirmRestore(b) {
  const scan = state.status && state.status.scan;
  const now = new Map(((scan && scan.files) || []).map((f) => [f.name, f]));
  const body = [
    el(
      "p",
      null,
      "The files of backup ",
      el("code", null, b.id),
      " (taken ",
      timeEl(b.created),
      ") are copied back into ",
      el("code", { class: "path" }, b.tmi_dir),
      ".",
    ),
    dataTable(
      {},
      ["File", "Now", "After", "SHA-256 after"],
      (b.files || []).map((f) => {
        const cur = now.get(f.name);
        return [
          el("td", { class: "mono" }, f.name),
          el("td", { class: "mono" }, cur ? cur.version || cur.status : "?"),
          el(
            "td",
            { class: "mono" },
            el("strong", null, f.present ? f.version || "?" : "absent (removed)"),
          ),
          el("td", { class: "hash", title: f.sha256 || null }, shortHash(f.sha256)),
        ];
      }),
    ),
    el("h3", null, "Steps"),
    stepsList("restore"),
    el(
      "p",
      null,
      "The files in place now are backed up first, so this can be undone. The service is stopped " +
        "for the restore and started again if it was running.",
    ),
  ];
  const old = (b.files || []).some((f) => f.version && scan && f.version !== scan.expected_version);
  openDialog({
    title: "Restore backup " + b.id,
    lead: old
      ? "Warning: this backup holds old files; the TMI service will not run with them."
      : "",
    body: body,
    okLabel: "Restore now",
    danger: old,
    onOk: () => startJob({ action: "restore", backup: b.id }),
  });
}

function backupRow(b) {
  const rs = restoreState(b);
  const btn = el(
    "button",
    {
      type: "button",
      class: "btn",
      "aria-label": "Restore backup " + b.id,
      title: rs.ok ? null : rs.why,
      onclick: () => confirmRestore(b),
    },
    "Restore",
  );
  btn.disabled = !rs.ok;
  return el(
    "tr",
    { "data-backup": b.id },
    el("td", { class: "mono" }, b.id),
    el("td", null, timeEl(b.created)),
    el("td", { class: "nowrap" }, versionsSummary(b.files)),
    el("td", { class: "path mono" }, b.tmi_dir || ""),
    el("td", null, btn, rs.ok ? null : el("div", { class: "why" }, rs.why)),
  );
}

function renderBackups() {
  const body = $("backups-body");
  $("why-restore").textContent = jobBlocker() || "";
  if (state.backups.length === 0) {
    replaceChildren(
      body,
      el("tr", { class: "empty-row" }, el("td", { colspan: 5 }, "No backups yet.")),
    );
    return;
  }
  replaceChildren(body, state.backups.map(backupRow));
}

function renderJobsTable() {
  const body = $("jobs-body");
  if (state.jobs.length === 0) {
    replaceChildren(
      body,
      el("tr", { class: "empty-row" }, el("td", { colspan: 6 }, "No jobs yet.")),
    );
    return;
  }
  replaceChildren(
    body,
    state.jobs.map((j) =>
      el(
        "tr",
        { "data-job": j.id },
        el("td", { class: "num" }, String(j.id)),
        el("td", null, actionLabel(j.action)),
        el(
          "td",
          null,
          badge(j.status, j.status),
          j.rolled_back ? " " : null,
          j.rolled_back ? badge("rolled", "rolled back") : null,
        ),
        el("td", null, timeEl(j.created)),
        el("td", null, j.finished ? timeEl(j.finished) : "–"),
        el("td", null, j.message || ""),
      ),
    ),
  );
}

export function setup() {
  on("changed", () => {
    renderBackups();
    renderJobsTable();
  });
  on("job-ended", loadBackups);
}
