/*
 * report.js - the printable reports: a job's (GET /api/jobs/{id}/report)
 * and the state now (GET /api/report), whole HTML documents for a change
 * ticket. The server refuses the cookie alone, so the page fetches the
 * report with this tab's secret and opens it in a new tab from a blob: URL
 * (the browser's Print makes the PDF). A blob: document has no path to
 * resolve "/assets/..." against, so the report's root-relative links are
 * made absolute first (same origin: the console's CSP allows them); a
 * <base> element would not do, as the CSP says base-uri 'none'. When the
 * browser refuses the new tab, the report is saved as a file instead.
 */

import { fetchBlob, on, state } from "./api.js";
import { $, el, showNotice } from "./lib.js";

const KEEP_URL_MS = 120000; // a blob: URL lives this long after the tab opened it

/* The report's text with href="/..." and src="/..." made absolute. */
export function absolutize(html, origin) {
  return html.replace(/(\s(?:href|src)\s*=\s*)(["'])\/(?!\/)/gi, (m, attr, q) => attr + q + origin + "/");
}

/* Fetch the report at href and open it in tab (a window opened in the
 * click, while the browser still allows it), else save it as name. */
async function show(href, name, tab) {
  let got;
  try {
    got = await fetchBlob(href);
  } catch (e) {
    if (tab) tab.close();
    if (e.status !== 401) showNotice("Cannot make the report: " + e.message);
    return;
  }
  const html = absolutize(await got.blob.text(), location.origin);
  const url = URL.createObjectURL(new Blob([html], { type: "text/html;charset=utf-8" }));
  setTimeout(() => URL.revokeObjectURL(url), KEEP_URL_MS);
  if (tab && !tab.closed) {
    tab.location.replace(url);
    return;
  }
  const a = el("a", { href: url, download: got.name || name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  showNotice("The browser did not open a new tab: the report was saved as " + (got.name || name) + ".");
}

/* Open a report: href is the API path, name the file name to save it as. */
export function openReport(href, name) {
  showNotice("");
  let tab = null;
  try {
    tab = window.open("", "_blank");
  } catch (e) {
    tab = null;
  }
  if (tab) {
    try {
      tab.document.title = "Report – tmi-console";
      tab.document.body.textContent = "Making the report…";
    } catch (e) {
      // not ours to write to: it is replaced in a moment anyway
    }
  }
  return show(href, name, tab);
}

/* A Report button for a job (the job JSON's "report", else its path). */
export function reportButton(job) {
  const href = job.report || "/api/jobs/" + job.id + "/report";
  return el(
    "button",
    {
      type: "button",
      class: "btn btn-report",
      "data-report": job.id,
      "aria-label": "Report of job " + job.id,
      onclick: () => openReport(href, "tmi-console-job-" + job.id + ".html"),
    },
    "Report",
  );
}

export function setup() {
  $("act-report").addEventListener("click", () =>
    openReport("/api/report", "tmi-console-report.html"),
  );
  on("changed", () => {
    $("act-report").disabled = !state.online;
  });
}
