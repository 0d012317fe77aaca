/*
 * main.js - the tmi-console web UI: signs the tab in (session.js), shows
 * the view the address names (status, backups, history, audit; "#audit?job=3"
 * passes the view a parameter) and keeps the data fresh. Plain ES modules,
 * no framework and no build step:
 *
 *   lib.js      DOM, badges, numbers, times      session.js  this tab's secret
 *   api.js      state, events, API calls         conn.js     lost connection
 *   dialog.js   the confirmation                 status.js   verdict, evidence, files
 *   watch.js    watching, auto-repair            jobs.js     actions, confirmations
 *   jobpanel.js the job panel, job outcomes      backups.js  backups and jobs lists
 *   history.js  a file's history, scans          timeline.js the timeline drawing
 *   audit.js    audit trail, chain, exports      fields.js   details as fields
 *   report.js   printable reports
 */

import { api, emit, loadProcedure, on, state } from "./api.js";
import * as alerts from "./alerts.js";
import * as audit from "./audit.js";
import * as backups from "./backups.js";
import * as conn from "./conn.js";
import * as dialog from "./dialog.js";
import * as history from "./history.js";
import * as jobpanel from "./jobpanel.js";
import * as jobs from "./jobs.js";
import {
  $,
  enableNotices,
  offsetText,
  replaceChildren,
  serverOffset,
  setServerOffset,
  showNotice,
} from "./lib.js";
import * as report from "./report.js";
import * as session from "./session.js";
import * as status from "./status.js";
import * as watch from "./watch.js";

const REFRESH_MS = 5000; // the status (and so the connection) is read this often
const VIEWS = ["status", "backups", "history", "audit"];
const SIGNED_OUT_KEY = "tmi-console.signed-out";

// Why a tab is signed out, in words (null: it never was signed in).
const SIGNED_OUT_TEXT = {
  logout: "You logged out.",
  "other-tab": "You logged out in another tab of this console.",
  ended:
    "The server ended this tab's session: it was restarted, or the session expired " +
    "(after 12 hours without use).",
};

function showOnly(id) {
  for (const v of document.querySelectorAll("main > .view")) v.hidden = v.id !== id;
}

/* The address as {view, params}: "#audit?job=3" is the audit view with job=3. */
function parseHash() {
  const h = (location.hash || "#status").slice(1);
  const q = h.indexOf("?");
  const name = q < 0 ? h : h.slice(0, q);
  return {
    view: VIEWS.includes(name) ? name : "status",
    params: new URLSearchParams(q < 0 ? "" : h.slice(q + 1)),
  };
}

function route(focus) {
  if (!state.signedIn) return;
  const r = parseHash();
  state.view = r.view;
  state.params = r.params;
  showOnly("view-" + state.view);
  for (const a of document.querySelectorAll("#tabs a")) {
    if (a.dataset.view === state.view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = "tmi-console – " + $("tab-" + state.view).textContent;
  if (focus) $("main").focus();
  if (state.view === "status") status.refreshStatus(false);
  else if (state.view === "backups") backups.loadBackupsView();
  else if (state.view === "history") history.loadHistoryView();
  else if (state.view === "audit") audit.loadAuditView();
}

function tzNote() {
  const off = serverOffset();
  const text =
    off !== null
      ? "Times are the server's local time (" + offsetText(off) + ")."
      : "Times are this browser's local time (" +
        offsetText(-new Date().getTimezoneOffset()) +
        ").";
  $("tz-note").textContent = text;
  for (const s of document.querySelectorAll(".tz-label"))
    s.textContent = off !== null ? "(server time, " + offsetText(off) + ")" : "(local time)";
}

/* Empty every view, so that nothing of a signed-out session can show again
 * (not after Back either); the views fill again at the next sign-in. */
function clearViews() {
  for (const id of [
    "files-body",
    "sources-list",
    "backups-body",
    "jobs-body",
    "timeline",
    "obs-body",
    "scans-body",
    "audit-body",
    "job-steps",
    "job-details-body",
    "job-links",
    "job-result",
    "obs-facts",
  ])
    replaceChildren($(id));
  for (const id of [
    "banner-title",
    "banner-detail",
    "banner-meta",
    "banner-job",
    "watch-line",
    "watch-warn",
    "auto-repair-text",
    "files-note",
    "source-summary",
    "ev-service-detail",
    "ev-event",
    "ev-files",
    "ev-tmidir",
    "ev-tmidir-origin",
    "job-summary",
    "who-name",
    "tl-scale",
    "timeline-summary",
    "audit-job-text",
    "tz-note",
  ])
    $(id).textContent = "";
  for (const id of ["banner-job", "watch-warn", "auto-repair", "obs-panel", "job-details"])
    $(id).hidden = true;
  $("audit-filter").reset();
  Object.assign(state, {
    status: null,
    jobs: [],
    runningJob: null,
    followId: null,
    lastJob: null,
    backups: [],
    auditBefore: null,
    scansBefore: null,
  });
  jobpanel.reset();
  emit("cleared");
}

/* The sign-in view, and nothing else. why: a key of SIGNED_OUT_TEXT, or
 * null for a tab that was never signed in. */
function showSignedOut(why) {
  state.signedIn = false;
  state.signedOut = why;
  enableNotices(false);
  if (dialog.isOpen()) $("confirm").close();
  clearViews();
  conn.reset();
  $("tabs").hidden = true;
  $("who").hidden = true;
  const text = why ? SIGNED_OUT_TEXT[why] || SIGNED_OUT_TEXT.ended : null;
  $("login-title").textContent = text ? "Signed out" : "This tab is not signed in";
  $("login-reason").textContent = text || "";
  $("login-reason").hidden = !text;
  $("login-how").textContent = text
    ? "To sign in again, run this on the server"
    : "The console opens through a one-time login link. A tab opened later gets its key from " +
      "another open tab of this console; none is open in this browser now. On the server, run";
  document.title = text ? "tmi-console – signed out" : "tmi-console – sign in";
  showOnly("view-login");
  try {
    if (why) sessionStorage.setItem(SIGNED_OUT_KEY, why);
  } catch (e) {
    // the words are lost at a reload: the view still shows the sign-in help
  }
}

function rememberedSignOut() {
  try {
    return sessionStorage.getItem(SIGNED_OUT_KEY);
  } catch (e) {
    return null;
  }
}

let refreshing = false;

/* Read the status (and with it whether the server is there) on every
 * view; the jobs list too when no job is followed, so a job started
 * elsewhere (another tab, the CLI, the auto-repair) shows. */
async function refresh() {
  if (!state.signedIn || refreshing) return;
  refreshing = true;
  try {
    state.status = await api("GET", "/api/status", undefined, REFRESH_MS - 1000);
    if (state.view === "status") status.renderStatus();
    else emit("status");
    if (!state.runningJob) await jobs.loadJobsList();
  } catch (e) {
    // a lost connection shows in its bar (conn.js); a lost session signs out
  } finally {
    refreshing = false;
  }
}

function periodic() {
  setInterval(() => {
    if (!document.hidden) refresh();
  }, REFRESH_MS);
  setInterval(() => emit("tick"), 1000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
}

/* Sign this tab in with the secret it holds: read the session, then show
 * the console. A refused secret is forgotten and the sign-in view shown. */
async function signIn() {
  let sess;
  try {
    sess = await api("GET", "/api/session");
  } catch (e) {
    tzNote();
    if (e.status === 401) {
      session.forgetSecret();
      showSignedOut(rememberedSignOut());
    } else {
      showNotice("Cannot reach the server: " + e.message);
    }
    return;
  }
  if (state.signedIn) return; // signed in meanwhile (a login in another tab)
  state.signedIn = true;
  state.signedOut = null;
  try {
    sessionStorage.removeItem(SIGNED_OUT_KEY);
  } catch (e) {
    // nothing kept
  }
  enableNotices(true);
  state.user = sess.user || "";
  setServerOffset(sess.utc_offset_minutes);
  tzNote();
  showNotice("");
  $("who-name").textContent = state.user;
  $("who").hidden = false;
  $("tabs").hidden = false;
  loadProcedure().catch((e) => showNotice("Cannot read the steps of the actions: " + e.message));
  route(false);
  if (state.view !== "status") status.refreshStatus(false);
  jobs.loadJobsList().catch(() => {});
  backups.loadBackups();
}

function sessionLost(why) {
  session.forgetSecret();
  showSignedOut(why);
}

async function logout() {
  try {
    await api("DELETE", "/api/session");
  } catch (e) {
    // gone already
  }
  session.forgetSecret();
  session.announceLogout();
  showSignedOut("logout");
}

async function start() {
  dialog.setup();
  conn.setup();
  status.setup();
  watch.setup();
  alerts.setup();
  jobpanel.setup();
  jobs.setup();
  backups.setup();
  history.setup();
  audit.setup();
  report.setup();
  window.addEventListener("hashchange", () => route(true));
  // a page the browser kept (Back, Forward) shows what the session is now
  window.addEventListener("pageshow", (ev) => {
    if (ev.persisted && !session.currentSecret()) showSignedOut(rememberedSignOut());
  });
  $("logout").addEventListener("click", logout);
  on("session-lost", () => sessionLost("ended"));
  on("reconnected", () => {
    route(false);
    if (state.view !== "status") status.refreshStatus(false);
    jobs.loadJobsList().catch(() => {});
  });
  session.openChannel({
    signedIn: () => state.signedIn,
    login: () => {
      if (!state.signedIn) signIn();
    },
    logout: () => {
      if (state.signedIn) sessionLost("other-tab");
    },
  });
  periodic();
  if (session.loginSecret) {
    try {
      sessionStorage.removeItem(SIGNED_OUT_KEY);
    } catch (e) {
      // nothing kept
    }
    session.keepSecret(session.loginSecret);
    session.announceLogin(session.loginSecret);
  }
  const secret = session.currentSecret() || session.storedSecret() || (await session.askPeers());
  if (!secret) {
    tzNote();
    showSignedOut(rememberedSignOut());
    return;
  }
  session.keepSecret(secret);
  await signIn();
}

start();
