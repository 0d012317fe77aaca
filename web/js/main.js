/*
 * main.js - the tmi-console web UI: signs the tab in (session.js), shows
 * the view the address names (status, backups, history, audit) and keeps
 * the status fresh. Plain ES modules, no framework and no build step:
 *
 *   lib.js      DOM, badges, numbers, times      session.js  this tab's secret
 *   api.js      state, events, API calls         dialog.js   the confirmation
 *   status.js   verdict, evidence, files         jobs.js     actions, job panel
 *   backups.js  backups and jobs lists           history.js  timeline, scans
 *   audit.js    audit trail, chain, exports
 */

import { api, loadProcedure, on, state } from "./api.js";
import * as audit from "./audit.js";
import * as backups from "./backups.js";
import * as dialog from "./dialog.js";
import * as history from "./history.js";
import * as jobs from "./jobs.js";
import { $, offsetText, serverOffset, setServerOffset, showNotice } from "./lib.js";
import * as session from "./session.js";
import * as status from "./status.js";

const STATUS_REFRESH_MS = 15000;
const VIEWS = ["status", "backups", "history", "audit"];

function showOnly(id) {
  for (const v of document.querySelectorAll("main > .view")) v.hidden = v.id !== id;
}

function showLogin() {
  state.signedIn = false;
  $("tabs").hidden = true;
  $("who").hidden = true;
  showOnly("view-login");
}

function route(focus) {
  if (!state.signedIn) return;
  const name = (location.hash || "#status").slice(1);
  state.view = VIEWS.includes(name) ? name : "status";
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
  $("tz-note").textContent =
    off !== null
      ? "Times are the server's local time (" + offsetText(off) + ")."
      : "Times are this browser's local time (" +
        offsetText(-new Date().getTimezoneOffset()) +
        "); hover a time for UTC.";
}

function periodic() {
  setInterval(() => {
    if (!state.signedIn || document.hidden || dialog.isOpen()) return;
    if (state.view === "status" && !state.runningJob) {
      api("GET", "/api/status")
        .then((st) => {
          state.status = st;
          status.renderStatus();
        })
        .catch(() => {});
      jobs.loadJobsList().catch(() => {});
    }
  }, STATUS_REFRESH_MS);
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
      showLogin();
    } else {
      showNotice("Cannot reach the server: " + e.message);
    }
    return;
  }
  if (state.signedIn) return; // signed in meanwhile (a login in another tab)
  state.signedIn = true;
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

function sessionLost(text) {
  session.forgetSecret();
  showNotice(text);
  showLogin();
}

async function logout() {
  try {
    await api("DELETE", "/api/session");
  } catch (e) {
    // gone already
  }
  session.forgetSecret();
  session.announceLogout();
  showNotice("");
  showLogin();
}

async function start() {
  dialog.setup();
  status.setup();
  jobs.setup();
  backups.setup();
  history.setup();
  audit.setup();
  window.addEventListener("hashchange", () => route(true));
  $("logout").addEventListener("click", logout);
  on("session-lost", () =>
    sessionLost(
      "Your session has ended. Open a new login link: run 'tmi-console login-url' on the server.",
    ),
  );
  session.openChannel({
    signedIn: () => state.signedIn,
    login: () => {
      if (!state.signedIn) signIn();
    },
    logout: () => {
      if (state.signedIn) sessionLost("You logged out in another tab.");
    },
  });
  periodic();
  if (session.loginSecret) {
    session.keepSecret(session.loginSecret);
    session.announceLogin(session.loginSecret);
  }
  const secret = session.currentSecret() || session.storedSecret() || (await session.askPeers());
  if (!secret) {
    tzNote();
    showLogin();
    return;
  }
  session.keepSecret(secret);
  await signIn();
}

start();
