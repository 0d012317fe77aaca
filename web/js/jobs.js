/*
 * jobs.js - the actions (what applies now and why), their confirmations,
 * starting a job, and the job panel that follows its steps. The steps of
 * each action and their order come from the server (GET /api/plan's
 * "steps", api.js stepsOf); the page only words them.
 */

import { api, emit, on, serviceOf, state, stepsOf } from "./api.js";
import { openDialog } from "./dialog.js";
import {
  $,
  badge,
  dataTable,
  el,
  relCell,
  replaceChildren,
  shortHash,
  showNotice,
  timeEl,
} from "./lib.js";

const JOB_POLL_MS = 400;

// How the page words each step and action; a step or action it has no
// words for is shown by its name.
const STEP_LABEL = {
  preflight: "Check",
  backup: "Back up",
  stop: "Stop service",
  stage: "Stage files",
  commit: "Replace files",
  verify: "Verify files",
  start: "Start service",
  rescan: "Scan again",
  restore: "Restore backup",
  rollback: "Roll back",
};
const STEP_HINT = {
  preflight: "Scan and check the plan",
  backup: "Copy the current files",
  stop: "Stop the TMI service",
  stage: "Copy good files beside the old",
  commit: "Rename them into place",
  verify: "Every file at the expected version",
  start: "Start it and watch it stay up",
  rescan: "Scan the folder again",
  restore: "Put the backup back",
  rollback: "Only if a step fails",
};
const ACTION_LABEL = {
  repair: "Repair",
  replace: "Replace",
  backup: "Back up",
  restart: "Restart service",
  restore: "Restore",
};

export const stepLabel = (s) => STEP_LABEL[s] || s;
export const actionLabel = (a) => ACTION_LABEL[a] || a;

// ---------------------------------------------------------------- actions

export function jobBlocker() {
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
  scanBtn.disabled = state.busyScan || !!state.runningJob;
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
      el("li", null, el("strong", null, stepLabel(s)), STEP_HINT[s] ? " – " + STEP_HINT[s] : ""),
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
      el("td", { class: "hash", title: f.sha256 || null }, shortHash(f.sha256)),
    ]),
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

// ---------------------------------------------------------------- the job panel

let pollTimer = null;

function followJob(id, action) {
  state.followId = id;
  renderJob({ id: id, action: action, status: "running", steps: [] });
  $("job").scrollIntoView({ block: "nearest" });
  pollJob(id);
}

async function pollJob(id) {
  clearTimeout(pollTimer);
  let job;
  try {
    job = await api("GET", "/api/jobs/" + id);
  } catch (e) {
    if (e.status === 401) return;
    $("job-summary").textContent = "Cannot read job " + id + ": " + e.message + " (retrying)";
    pollTimer = setTimeout(() => pollJob(id), 2000);
    return;
  }
  if (state.followId !== id) return;
  renderJob(job);
  if (job.status === "running") {
    state.runningJob = { id: job.id, action: job.action };
    emit("changed");
    pollTimer = setTimeout(() => pollJob(id), JOB_POLL_MS);
    return;
  }
  state.runningJob = null;
  emit("changed");
  emit("job-ended", job);
}

function stepItem(name, s, jobDone) {
  let outcome = s ? s.outcome : "pending";
  let text = s
    ? s.outcome === "running"
      ? s.what || STEP_HINT[name] || ""
      : s.message || s.what || ""
    : STEP_HINT[name] || "";
  if (!s && name === "rollback" && jobDone) {
    outcome = "skipped";
    text = "Not needed";
  }
  const icon = { ok: "✓", failed: "✗", skipped: "–", running: "", pending: "" }[outcome] || "";
  const cls = "step-" + outcome + (name === "rollback" ? " step-rollback" : "");
  return el(
    "li",
    {
      class: cls,
      "data-step": name,
      "data-outcome": outcome,
      title: s && s.message ? s.message : null,
    },
    el(
      "span",
      { class: "step-name" },
      el("span", { class: "step-icon", "aria-hidden": "true" }, icon),
      stepLabel(name),
      el("span", { class: "sr-only" }, ": " + outcome),
    ),
    el("span", { class: "step-what" }, text),
  );
}

/* Before any job: the steps a repair takes, in the space a job will use. */
function renderIdleJob() {
  const steps = stepsOf("repair");
  $("job").classList.add("job-idle");
  replaceChildren(
    $("job-steps"),
    steps.map((n) => stepItem(n, null, false)),
  );
  $("job-summary").textContent = steps.length
    ? "No job has run yet. A repair takes these steps:"
    : "No job has run yet.";
  $("job-result").className = "job-result";
  $("job-result").replaceChildren();
}

function rollbackText(job, rb) {
  if (job.rolled_back)
    return (
      "Rolled back: every file was restored from backup " +
      (job.backup || "") +
      "; the TMI folder is as it was before the job."
    );
  if (rb && rb.outcome === "failed")
    return (
      "The rollback did not complete: " +
      (rb.message || "") +
      " Restore the backup " +
      (job.backup || "") +
      " by hand."
    );
  if (job.status === "recovered")
    return "The job was interrupted and rolled back when tmi-console started again.";
  return "No file was changed.";
}

function renderResult(job, steps, byName) {
  const label = actionLabel(job.action);
  const r = $("job-result");
  if (job.status === "running") {
    const cur = steps.length ? steps[steps.length - 1] : null;
    r.className = "job-result result-running";
    replaceChildren(
      r,
      el("strong", null, label + " is running…"),
      cur ? stepLabel(cur.step) + ": " + (cur.what || "") : "Starting",
    );
    return;
  }
  if (job.status === "succeeded") {
    r.className = "job-result result-ok";
    replaceChildren(r, el("strong", null, label + " succeeded"), job.message || "");
    return;
  }
  r.className = "job-result result-failed";
  const failed = steps.find((s) => s.outcome === "failed" && s.step !== "rollback");
  replaceChildren(
    r,
    el(
      "strong",
      null,
      job.status === "recovered"
        ? label + " was interrupted"
        : label + " failed" + (failed ? " at step “" + stepLabel(failed.step) + "”" : ""),
    ),
    el("div", null, (failed && failed.message) || job.message || ""),
    el("div", { class: "rollback-note" }, rollbackText(job, byName.get("rollback"))),
  );
}

function renderJob(job) {
  const panel = $("job");
  panel.classList.remove("job-idle");
  panel.dataset.jobId = job.id;
  panel.dataset.status = job.status;
  const steps = job.steps || [];
  const byName = new Map();
  for (const s of steps) byName.set(s.step, s); // the last one of a name wins
  // the steps as the server lists them for the action, then any it reported
  // besides (or all of them in the order seen, if the list is not known)
  const order = stepsOf(job.action).slice();
  for (const s of steps) if (!order.includes(s.step)) order.push(s.step);
  const done = job.status !== "running";
  replaceChildren(
    $("job-steps"),
    order.map((n) => stepItem(n, byName.get(n), done)),
  );
  replaceChildren(
    $("job-summary"),
    "Job " + job.id + " – " + actionLabel(job.action) + " ",
    badge(job.status, job.status),
    job.created ? el("span", { class: "muted" }, " started ", timeEl(job.created)) : null,
    job.finished ? el("span", { class: "muted" }, ", finished ", timeEl(job.finished)) : null,
    job.actor ? el("span", { class: "muted" }, " by " + job.actor) : null,
  );
  renderResult(job, steps, byName);
}

/* Read the job list; follow a running job (started elsewhere too), or show
 * the last one's result until a new one starts. */
export async function loadJobsList() {
  let data;
  try {
    data = await api("GET", "/api/jobs");
  } catch (e) {
    if (e.status !== 404) throw e;
    data = null;
  }
  state.jobs = (data && data.jobs) || [];
  const running = state.jobs.find((j) => j.status === "running");
  if (running && state.followId !== running.id) {
    state.runningJob = { id: running.id, action: running.action };
    followJob(running.id, running.action);
  } else if (!running && !state.runningJob && state.followId === null && state.jobs.length > 0) {
    state.followId = state.jobs[0].id;
    try {
      renderJob(await api("GET", "/api/jobs/" + state.jobs[0].id));
    } catch (e) {
      // the list is enough
    }
  }
  emit("changed");
}

export function setup() {
  for (const b of document.querySelectorAll("button[data-action]")) {
    b.addEventListener("click", () => onActionClick(b.dataset.action));
  }
  renderIdleJob();
  on("changed", updateActions);
  on("procedure", () => {
    if (state.followId === null) renderIdleJob();
  });
  on("job-ended", () => {
    loadJobsList().catch((e) => showNotice("Cannot list the jobs: " + e.message));
  });
}
