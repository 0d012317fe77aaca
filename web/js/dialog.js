/*
 * dialog.js - the one confirmation dialog: what an action will do, and a
 * Confirm that runs it (Cancel has the focus first).
 */

import { $, replaceChildren } from "./lib.js";

let handler = null;

/* Open the dialog: {title, lead, body, okLabel, okDisabled, danger, onOk}.
 * onOk (async) runs on Confirm and closes the dialog when it resolves; a
 * rejection's message shows in the dialog. */
export function openDialog(opts) {
  const d = $("confirm");
  $("confirm-title").textContent = opts.title;
  $("confirm-lead").textContent = opts.lead || "";
  $("confirm-lead").className = opts.danger ? "error" : "";
  replaceChildren($("confirm-body"), opts.body || []);
  showError("");
  const ok = $("confirm-ok");
  ok.textContent = opts.okLabel || "Confirm";
  ok.className = "btn " + (opts.danger ? "btn-danger" : "btn-primary");
  ok.disabled = !!opts.okDisabled;
  $("confirm-cancel").disabled = false;
  handler = opts.onOk || null;
  if (!d.open) d.showModal();
  $("confirm-cancel").focus();
}

function showError(text) {
  const err = $("confirm-error");
  err.textContent = text;
  err.hidden = !text;
}

export function isOpen() {
  return $("confirm").open;
}

export function setup() {
  const d = $("confirm");
  $("confirm-form").addEventListener("submit", async (ev) => {
    const submitter = ev.submitter;
    if (!submitter || submitter.value !== "ok") return; // Cancel closes it
    ev.preventDefault();
    if (!handler) return;
    $("confirm-ok").disabled = true;
    $("confirm-cancel").disabled = true;
    showError("");
    try {
      await handler();
      d.close("ok");
    } catch (e) {
      showError(e.message);
      $("confirm-cancel").disabled = false;
      $("confirm-cancel").focus();
    }
  });
  d.addEventListener("close", () => {
    handler = null;
  });
}
