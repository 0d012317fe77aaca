/*
 * jobpanel.js - a job as the page tells it: its outcome in words and colour
 * (green only when everything worked; amber when the files are in place but
 * the service is down, "succeeded_service_down"; red when it failed), what
 * failed and what to try next, its summary and links (backup, audit rows,
 * report), and the job panel of the status view that follows a job step by
 * step, with the elapsed time of the running step and every step's whole
 * text in a details element.
 */

import { api, emit, on, serverNow, state, stepsOf } from "./api.js";
import { $, badge, durText, el, replaceChildren, timeEl } from "./lib.js";
import { reportButton } from "./report.js";

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

// What to try after a step failed, by step.
const NEXT_STEP = {
  preflight:
    "Scan again: the files or the good copies changed since the plan was made. Then run the job again.",
  backup: "Check that the data folder has free space and can be written, then try again.",
  stop: "Stop the TMI service by hand (the Services console, or 'sc stop'), then try again.",
  stage:
    "Something holds or changes the files (an antivirus scan, an installer still running): " +
    "wait for it to finish, then try again.",
  commit:
    "Something holds or changes the files (an antivirus scan, an installer still running): " +
    "wait for it to finish, then try again.",
  verify: "The files changed while the job ran: scan again, then try again.",
  restore: "Something holds the files: wait, scan again, then try again.",
  start:
    "The service did not stay up even with the files of the job in place. Read the event " +
    "text, check the Control Manager installation (its version, the service's account, the " +
    "other TMI files; Trend Micro KB 1113313), then run the job again.",
  rescan: "Scan again to see the state now.",
};

export const stepLabel = (s) => STEP_LABEL[s] || s;
export const stepHint = (s) => STEP_HINT[s] || "";
export const actionLabel = (a) => ACTION_LABEL[a] || a;

// ---------------------------------------------------------------- outcomes

/* The first step that failed, the rollback aside (null if none). */
export function failedStep(job) {
  return (job.steps || []).find((s) => s.outcome === "failed" && s.step !== "rollback") || null;
}

/*
 * How a job ended, for the page: {kind, text} where kind is "running",
 * "ok" (green), "warn" (amber: done, but the service is down) or "failed"
 * (red), and text the status in words. A job that says it succeeded while
 * one of its steps failed is never shown green.
 */
export function jobOutcome(job) {
  switch (job.status) {
    case "running":
      return { kind: "running", text: "running" };
    case "succeeded":
      return failedStep(job)
        ? { kind: "warn", text: "succeeded, a step failed" }
        : { kind: "ok", text: "succeeded" };
    case "succeeded_service_down":
      return { kind: "warn", text: "done, service down" };
    case "failed":
      return { kind: "failed", text: job.rolled_back ? "failed, rolled back" : "failed" };
    case "recovered":
      return { kind: "failed", text: "interrupted, rolled back" };
    default:
      return { kind: "failed", text: String(job.status || "unknown") };
  }
}

/* The job's status as a badge (data-status holds the server's word). */
export function jobBadge(job) {
  const o = jobOutcome(job);
  const b = badge("job-" + o.kind, o.text);
  b.dataset.status = job.status;
  return b;
}

/* The event text that tells why the service did not run: the summary's
 * (the server's own pick), else the one a step message quotes. */
export function eventText(job) {
  if (job.summary && job.summary.event) return job.summary.event;
  for (const s of job.steps || []) {
    const m = /event \d+ from [^:]+: (.+)$/.exec(s.message || "");
    if (m) return m[1];
  }
  return null;
}

/* What to try next after a job that did not fully work, or "". */
export function nextStep(job) {
  const o = jobOutcome(job);
  if (o.kind === "ok" || o.kind === "running") return "";
  const rb = (job.steps || []).find((s) => s.step === "rollback");
  if (rb && rb.outcome === "failed")
    return (
      "The rollback did not complete: put backup " +
      (job.backup || "") +
      " back from Backups and jobs (Restore), or copy its files by hand."
    );
  if (job.status === "recovered")
    return "The job was cut off (the server stopped) and rolled back at the next start: run it again.";
  if (o.kind === "warn")
    return (
      "The files are in place but the TMI service is not running. If they are the old " +
      "version, Repair puts the good set back; otherwise read the event text and use " +
      "Restart service."
    );
  const f = failedStep(job);
  return (f && NEXT_STEP[f.step]) || "Read the step texts below, then try again.";
}

/* One line that names the change ("8 files: 1.12.0.1156 -> 1.12.0.1266,
 * backup ..."): the server's summary, else the job's message. */
export function summaryText(job) {
  if (job.summary && job.summary.text) return job.summary.text;
  return job.message || "";
}

function backupOf(job) {
  return (job.summary && job.summary.backup) || job.backup || null;
}

/* Links from a job to its backup, its audit rows and its report. */
export function jobLinks(job) {
  const out = [];
  const b = backupOf(job);
  if (b)
    out.push(
      el(
        "a",
        { href: "#backups?backup=" + encodeURIComponent(b), class: "job-link", "data-link": "backup" },
        "Backup " + b,
      ),
    );
  if (job.status !== "running") {
    out.push(
      el(
        "a",
        { href: "#audit?job=" + job.id, class: "job-link", "data-link": "audit" },
        "Audit records of job " + job.id,
      ),
    );
    out.push(reportButton(job));
  }
  return out;
}

// ---------------------------------------------------------------- the panel

let pollTimer = null;

/* Follow job id in the panel until it ends. */
export function followJob(id, action) {
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
    if (e.status === 401 || !state.signedIn) return;
    $("job-summary").textContent = "Cannot read job " + id + ": " + e.message + " (retrying)";
    pollTimer = setTimeout(() => pollJob(id), 2000);
    return;
  }
  if (state.followId !== id || !state.signedIn) return;
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

/* The running step's elapsed time (ms): the server's count when it sends
 * one, else since the step started by the server's clock. */
function elapsedOf(job, step) {
  if (typeof job.elapsed_ms === "number") return job.elapsed_ms;
  const t = Date.parse((step && step.started) || "");
  return Number.isNaN(t) ? null : Math.max(0, serverNow() - t);
}

function stepItem(name, s, jobDone) {
  let outcome = s ? s.outcome : "pending";
  let text = s
    ? s.outcome === "running"
      ? s.what || stepHint(name)
      : s.message || s.what || ""
    : stepHint(name);
  if (!s && name === "rollback" && jobDone) {
    outcome = "skipped";
    text = "Not needed";
  }
  const icon = { ok: "✓", failed: "✗", skipped: "–", running: "", pending: "" }[outcome] || "";
  const cls = "step-" + outcome + (name === "rollback" ? " step-rollback" : "");
  return el(
    "li",
    { class: cls, "data-step": name, "data-outcome": outcome },
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
  delete $("job").dataset.status;
  replaceChildren(
    $("job-steps"),
    steps.map((n) => stepItem(n, null, false)),
  );
  $("job-summary").textContent = steps.length
    ? "No job has run yet. A repair takes these steps:"
    : "No job has run yet.";
  $("job-result").className = "job-result";
  $("job-result").replaceChildren();
  $("job-links").replaceChildren();
  $("job-details").hidden = true;
}

function rollbackText(job, rb) {
  if (job.rolled_back)
    return (
      "Rolled back: every file was restored from backup " +
      (job.backup || "") +
      "; the TMI folder is as it was before the job."
    );
  if (rb && rb.outcome === "failed")
    return "The rollback did not complete: " + (rb.message || "") + ".";
  if (job.status === "recovered")
    return "The job was interrupted and rolled back when tmi-console started again.";
  return "No file was changed.";
}

function runningResult(job, steps) {
  const label = actionLabel(job.action);
  const cur = steps.length ? steps[steps.length - 1] : null;
  const ms = cur && cur.outcome === "running" ? elapsedOf(job, cur) : null;
  return [
    el("strong", null, label + " is running…"),
    cur ? stepLabel(cur.step) + ": " + (cur.what || "") : "Starting",
    ms !== null
      ? el("span", { id: "job-elapsed", "data-ms": Math.round(ms) }, " – " + durText(ms) + " so far")
      : null,
  ];
}

function endedResult(job, steps, byName) {
  const label = actionLabel(job.action);
  const o = jobOutcome(job);
  const failed = failedStep(job);
  const ev = eventText(job);
  const next = nextStep(job);
  let title;
  if (o.kind === "ok") title = label + " succeeded";
  else if (o.kind === "warn") title = label + " finished, but the TMI service is not running";
  else if (job.status === "recovered") title = label + " was interrupted";
  else title = label + " failed" + (failed ? " at step “" + stepLabel(failed.step) + "”" : "");
  const sum = summaryText(job);
  return [
    el("strong", null, title),
    sum ? el("div", { class: "job-summary-line", id: "job-summary-line" }, sum) : null,
    o.kind !== "ok" && failed && failed.message !== sum
      ? el("div", { class: "job-failed-text" }, stepLabel(failed.step) + ": " + failed.message)
      : null,
    o.kind !== "ok" && ev && !(failed && (failed.message || "").includes(ev))
      ? el("div", { class: "job-event" }, "Event log: " + ev)
      : null,
    o.kind === "failed"
      ? el("div", { class: "rollback-note" }, rollbackText(job, byName.get("rollback")))
      : null,
    next ? el("div", { class: "job-next" }, el("b", null, "What to try next: "), next) : null,
  ];
}

function renderResult(job, steps, byName) {
  const r = $("job-result");
  const o = jobOutcome(job);
  r.className = "job-result result-" + o.kind;
  replaceChildren(r, job.status === "running" ? runningResult(job, steps) : endedResult(job, steps, byName));
}

function tookText(job, s) {
  if (s.outcome === "running") return durText(elapsedOf(job, s));
  const a = Date.parse(s.started || "");
  const b = Date.parse(s.finished || "");
  return Number.isNaN(a) || Number.isNaN(b) ? "–" : durText(b - a);
}

/* Every step as the server told it: whole texts, times, durations. */
function renderDetails(job, steps) {
  $("job-details").hidden = false; // from the start: the panel keeps its height
  replaceChildren(
    $("job-details-body"),
    steps.map((s) =>
      el(
        "tr",
        { "data-step": s.step },
        el("th", { scope: "row" }, stepLabel(s.step)),
        el("td", null, badge(s.outcome === "ok" ? "ok" : s.outcome, s.outcome)),
        el("td", null, s.started ? timeEl(s.started) : "–"),
        el("td", { class: "num nowrap" }, tookText(job, s)),
        el("td", { class: "step-text" }, s.message || s.what || ""),
      ),
    ),
  );
}

export function renderJob(job) {
  const panel = $("job");
  panel.classList.remove("job-idle");
  panel.dataset.jobId = job.id;
  panel.dataset.status = job.status;
  panel.dataset.outcome = jobOutcome(job).kind;
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
    jobBadge(job),
    job.created ? el("span", { class: "muted" }, " started ", timeEl(job.created)) : null,
    job.finished ? el("span", { class: "muted" }, ", finished ", timeEl(job.finished)) : null,
    job.actor ? el("span", { class: "muted" }, " by " + job.actor) : null,
  );
  renderResult(job, steps, byName);
  replaceChildren($("job-links"), jobLinks(job));
  renderDetails(job, steps);
  state.lastJob = job;
  emit("job-progress", job);
}

/* Show the newest job (the list is newest first): follow it while it runs,
 * else show its result until a new one starts. */
export async function showLatest(jobs) {
  const running = jobs.find((j) => j.status === "running");
  if (running && state.followId !== running.id) {
    state.runningJob = { id: running.id, action: running.action };
    followJob(running.id, running.action);
  } else if (!running && !state.runningJob && jobs.length > 0 && state.followId !== jobs[0].id) {
    state.followId = jobs[0].id;
    try {
      renderJob(await api("GET", "/api/jobs/" + jobs[0].id));
    } catch (e) {
      // the list is enough
    }
  }
}

/* Forget the followed job (signed out). */
export function reset() {
  clearTimeout(pollTimer);
  pollTimer = null;
  renderIdleJob();
}

export function setup() {
  renderIdleJob();
  on("procedure", () => {
    if (state.followId === null) renderIdleJob();
  });
  on("tick", () => {
    // the running step's elapsed time moves on between polls too
    const e = document.getElementById("job-elapsed");
    const job = state.lastJob;
    if (!e || !job || job.status !== "running") return;
    const cur = (job.steps || [])[job.steps.length - 1];
    if (cur && cur.outcome === "running" && typeof job.elapsed_ms !== "number") {
      const ms = elapsedOf(job, cur);
      e.dataset.ms = Math.round(ms);
      e.textContent = " – " + durText(ms) + " so far";
    }
  });
}
