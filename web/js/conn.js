/*
 * conn.js - the connection to the server, as the page shows it. When the
 * server stops answering (api.js sees a refused or timed-out request, or a
 * 502/503/504), the page keeps the last data greyed out with its age, says
 * so in a bar, disables what would change anything, and asks again every
 * RETRY_MS until the server answers; then it reads the current view again
 * by itself. A server that answers but no longer knows this tab's session
 * (it was restarted: sessions live in its memory) signs the tab out.
 */

import { api, emit, on, state } from "./api.js";
import { $, agoText, fmtTime, setText } from "./lib.js";

const RETRY_MS = 3000;

let retryTimer = null;

function since(ms) {
  return fmtTime(new Date(ms).toISOString()).slice(11, 19);
}

/* The bar's words; its title (a live region) changes only when the state
 * does, the ages in the detail every second. */
function render() {
  const bar = $("conn");
  const lost = state.signedIn && !state.online;
  bar.hidden = !lost;
  document.body.classList.toggle("offline", lost);
  $("main").classList.toggle("stale", lost);
  if (!lost) return;
  setText($("conn-title"), "Disconnected: the server does not answer.");
  const last = state.lastAnswer;
  setText(
    $("conn-detail"),
    (last
      ? "What you see is as the server told it at " + since(last) + " (" + agoText(Date.now() - last) + "). "
      : "") + "Nothing can be changed until it answers again; trying every " + RETRY_MS / 1000 + " s.",
  );
}

async function retry() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (state.online || !state.signedIn) return;
  try {
    await api("GET", "/api/session", undefined, RETRY_MS);
  } catch (e) {
    // still gone (or signed out: api.js told the page)
  }
  if (!state.online && state.signedIn) retryTimer = setTimeout(retry, RETRY_MS);
}

export function setup() {
  on("connection", () => {
    render();
    if (!state.online) {
      if (!retryTimer) retryTimer = setTimeout(retry, RETRY_MS);
    } else if (state.signedIn) {
      emit("reconnected");
    }
    emit("changed");
  });
  on("tick", () => {
    if (!state.online) render();
  });
  $("conn-retry").addEventListener("click", retry);
}

/* Forget the lost connection (signed out: the bar has nothing to say). */
export function reset() {
  clearTimeout(retryTimer);
  retryTimer = null;
  render();
}
