/*
 * jobs.js - the actions (what applies now and why), their confirmations,
 * starting a job and the list of jobs. The steps of each action and their
 * order come from the server (GET /api/plan's "steps", api.js stepsOf); the
 * page only words them (jobpanel.js, which also follows a job).
 */

import { api, emit, on, serviceOf, state, stepsOf } from "./api.js";
import { openDialog } from "./dialog.js";
import { actionLabel, followJob, showLatest, stepHint, stepLabel } from "./jobpanel.js";
import { $, dataTable, el, hashCell, relCell, showNotice } from "./lib.js";

export { actionLabel };

// ---------------------------------------------------------------- actions

export function jobBlocker() {
  if (!state.online) return "The server does not answer: wait until it is back.";
  if (!state.runningJob) return null;
  return (
    "Job " +
    state.runningJob.id +
    " (" +
    state.runningJob.action +
    ") is running: wait for it to finish."
  );
}

function replaceState(action, scan, notInstalled) {
  const r = scan.repair || {};
  const what =
    action === "repair"
      ? "Back up, replace the eight files, restart the service and check it stays up."
      : "Back up and replace the eight files; the service is left stopped.";
  if (notInstalled) return { ok: false, why: "No TMI folder was found: nothing to repair." };
  if (scan.verdict === "healthy")
    return { ok: false, why: "Nothing to repair: every file is at " + scan.expected_version + "." };
  if (!r.possible)
    return {
      ok: false,
      why: "No complete set of good copies: " + (r.reason || "none found") + ".",
    };
  return { ok: true, why: what };
}

/* Whether an action applies now, and the reason in words either way. */
function actionState(action) {
  const scan = state.status && state.status.scan;
  const svc = serviceOf(state.status);
  const running = jobBlocker();
  if (running) return { ok: false, why: running };
  if (state.busyScan) return { ok: false, why: "Scanning…" };
  if (!scan) return { ok: false, why: "Scan first." };
  const notInstalled = scan.verdict === "not_installed" || !scan.tmi_dir;
  switch (action) {
    case "repair":
    case "replace":
      return replaceState(action, scan, notInstalled);
    case "backup":
      if (notInstalled) return { ok: false, why: "No TMI folder was found: nothing to back up." };
      return { ok: true, why: "Copy the eight files as they are now into the data folder." };
    case "restart":
      if (notInstalled) return { ok: false, why: "No TMI folder was found." };
      if (svc.state === "not_found")
        return { ok: false, why: "The TMI service is not registered on this server." };
      if (scan.verdict === "affected")
        return { ok: false, why: "Restarting cannot help while the files are old: use Repair." };
      return { ok: true, why: "Stop and start the TMI service and check it stays up." };
    default:
      return { ok: false, why: "" };
  }
}

function updateActions() {
  for (const action of ["repair", "backup", "replace", "restart"]) {
    const b = $("act-" + action);
    const s = actionState(action);
    b.disabled = !s.ok;
    b.title = s.ok ? "" : s.why;
    $("why-" + action).textContent = s.why;
  }
  const scanBtn = $("act-scan");
  scanBtn.disabled = state.busyScan || !!jobBlocker();
  scanBtn.title = scanBtn.disabled ? jobBlocker() || "Scanning…" : "";
  $("why-scan").textContent =
    jobBlocker() ||
    (state.busyScan ? "Scanning…" : "Read the eight files again (changes nothing).");
}

// ---------------------------------------------------------------- confirmations

/* The steps an action will take, as the server lists them (the rollback,
 * which runs only on failure, is said in words instead). */
export function stepsList(action) {
  const steps = stepsOf(action).filter((s) => s !== "rollback");
  if (steps.length === 0) return el("p", { class: "muted" }, "(The steps could not be read.)");
  return el(
    "ol",
    null,
    steps.map((s) =>
      el("li", null, el("strong", null, stepLabel(s)), stepHint(s) ? " – " + stepHint(s) : ""),
    ),
  );
}

function planTable(plan) {
  return dataTable(
    { id: "plan-table" },
    ["File", "Now", "After", "Copied from (in the TMI folder)", "Over (in the TMI folder)"],
    (plan.files || []).map((f) => [
      el("td", { class: "mono" }, f.name),
      el("td", { class: "mono" }, f.from_version || "missing"),
      el("td", { class: "mono" }, el("strong", null, f.to_version || "?")),
      relCell(plan.tmi_dir, f.source_path),
      relCell(plan.tmi_dir, f.target),
    ]),
    "The files to replace (table)",
  );
}

function planBody(action, plan) {
  return [
    el(
      "p",
      null,
      "Every file below is copied from the source folder ",
      el("code", { class: "path", id: "plan-source" }, plan.source),
      plan.variant ? " (" + plan.variant + ")" : "",
      " into the TMI folder ",
      el("code", { class: "path", id: "plan-tmidir" }, plan.tmi_dir),
      ".",
    ),
    planTable(plan),
    el("h3", null, "Steps"),
    stepsList(action),
    el(
      "p",
      null,
      "The current files are backed up first. If any step after the first replacement fails, " +
        "every file is restored from that backup.",
    ),
    action === "replace"
      ? el(
          "p",
          null,
          el("strong", null, "The service is left stopped: "),
          "use Restart service afterwards.",
        )
      : null,
    el(
      "p",
      { class: "muted" },
      "Plan ",
      el("span", { class: "hash", id: "plan-digest" }, (plan.digest || "").slice(0, 16)),
      ": if the files change before you confirm, the job is refused.",
    ),
  ];
}

async function confirmReplace(action) {
  const title =
    action === "repair"
      ? "Repair: replace the eight files and restart the service"
      : "Replace the eight files";
  const closed = (lead) =>
    openDialog({ title: title, lead: lead, okDisabled: true, okLabel: actionLabel(action) });
  closed("Reading the plan…");
  let plan;
  try {
    plan = await api("GET", "/api/plan");
  } catch (e) {
    closed("Cannot read the plan: " + e.message);
    return;
  }
  if (!plan.possible) {
    closed("Nothing can be done now: " + (plan.reason || "no repair is possible") + ".");
    return;
  }
  openDialog({
    title: title,
    lead: plan.files.length + " files will be replaced.",
    body: planBody(action, plan),
    okLabel: action === "repair" ? "Repair now" : "Replace now",
    onOk: () => startJob({ action: action, confirm: plan.digest }),
  });
}

function currentFilesTable(scan) {
  return dataTable(
    {},
    ["File", "Version", "SHA-256"],
    (scan.files || []).map((f) => [
      el("td", { class: "mono" }, f.name),
      el("td", { class: "mono" }, f.version || f.status),
      hashCell(f.sha256),
    ]),
    "The files to back up (table)",
  );
}

function confirmBackup() {
  const scan = state.status.scan;
  openDialog({
    title: "Back up the eight files",
    lead:
      "Copies these files from the TMI folder into a new backup in the tmi-console data folder. " +
      "Nothing in the TMI folder changes.",
    body: [
      el("p", null, "From ", el("code", { class: "path" }, scan.tmi_dir)),
      currentFilesTable(scan),
      el("h3", null, "Steps"),
      stepsList("backup"),
    ],
    okLabel: "Back up now",
    onOk: () => startJob({ action: "backup" }),
  });
}

function confirmRestart() {
  const svc = serviceOf(state.status);
  openDialog({
    title: "Restart the TMI service",
    lead:
      'Stops the service "Trend Micro Management Infrastructure"' +
      (svc.name ? " ('" + svc.name + "')" : "") +
      ", starts it again and checks that it stays running. No file changes.",
    body: [
      el("p", null, "Control Manager loses contact with its agents for a few seconds."),
      el("h3", null, "Steps"),
      stepsList("restart"),
    ],
    okLabel: "Restart now",
    onOk: () => startJob({ action: "restart" }),
  });
}

function onActionClick(action) {
  if (action === "repair" || action === "replace") confirmReplace(action);
  else if (action === "backup") confirmBackup();
  else if (action === "restart") confirmRestart();
}

/* Start a job (the body of POST /api/jobs) and follow it on the status
 * view. Rejects with the API's error (shown in the dialog). */
export async function startJob(body) {
  const res = await api("POST", "/api/jobs", body);
  state.runningJob = { id: res.id, action: body.action };
  emit("changed");
  if (state.view !== "status") location.hash = "#status";
  followJob(res.id, body.action);
}

/* Read the job list; follow a running job (started elsewhere too), or show
 * the newest one's result until a new one starts. */
export async function loadJobsList() {
  let data;
  try {
    data = await api("GET", "/api/jobs");
  } catch (e) {
    if (e.status !== 404) throw e;
    data = null;
  }
  state.jobs = (data && data.jobs) || [];
  await showLatest(state.jobs);
  emit("changed");
}

export function setup() {
  for (const b of document.querySelectorAll("button[data-action]")) {
    b.addEventListener("click", () => onActionClick(b.dataset.action));
  }
  on("changed", updateActions);
  on("job-ended", () => {
    loadJobsList().catch((e) => showNotice("Cannot list the jobs: " + e.message));
  });
}
