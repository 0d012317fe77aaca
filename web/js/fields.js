/*
 * fields.js - what the server recorded, as fields a reviewer reads: an
 * audit row's details ({"scan_id": 4, "verdict": ...} becomes "Scan 4",
 * "Verdict healthy", lists of files become "8 × 1.12.0.1156 (old)" with the
 * whole list one click away), and who changed a file ("changed_by").
 */

import { reasonText } from "./watch.js";
import { badge, capital, el, fmtTime } from "./lib.js";

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/* A list of {name, status, version, sha256} as a file list? */
function isFileList(v) {
  return Array.isArray(v) && v.length > 0 && v.every((f) => isObj(f) && typeof f.name === "string");
}

/* "8 × 1.12.0.1156 (old)", counted by version and status. */
export function filesSummary(files) {
  const counts = new Map();
  for (const f of files) {
    const k = (f.version || "no version") + (f.status ? " (" + f.status + ")" : "");
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  return [...counts.entries()].map(([k, n]) => n + " × " + k).join(", ");
}

function filesValue(files) {
  return el(
    "details",
    { class: "files-list" },
    el("summary", null, filesSummary(files)),
    el(
      "ul",
      null,
      files.map((f) =>
        el(
          "li",
          null,
          el("span", { class: "mono" }, f.name),
          " " + (f.version || "–") + (f.status ? " (" + f.status + ")" : ""),
          f.sha256 ? el("div", { class: "hash full" }, f.sha256) : null,
        ),
      ),
    ),
  );
}

// Fields with words (and a way to show them) of their own.
const FIELD = {
  job: ["Job", (v) => el("a", { href: "#audit?job=" + v }, "job " + v)],
  scan_id: ["Scan", (v) => "scan " + v],
  verdict: ["Verdict", (v) => badge(String(v), String(v).replace("_", " "))],
  changed: ["Files changed", (v) => String(v)],
  reason: ["Why", (v) => (reasonText(v).startsWith("(") ? String(v) : reasonText(v))],
  backup: ["Backup", (v) => el("a", { href: "#backups?backup=" + encodeURIComponent(v) }, v)],
  folder: ["Folder", (v) => el("span", { class: "path mono" }, v)],
  failed_step: ["Failed step", (v) => String(v)],
  rolled_back: ["Rolled back", (v) => (v ? "yes" : "no")],
  before: ["Before", null],
  after: ["After", null],
  files: ["Files", null],
};

function keyWords(k) {
  return capital(String(k).replace(/_/g, " "));
}

function valueNode(k, v) {
  const f = FIELD[k];
  if (isFileList(v)) return filesValue(v);
  if (v === null || v === undefined || v === "") return null;
  if (f && f[1]) return f[1](v);
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v)) return fmtTime(v);
  if (typeof v === "object") return el("code", { class: "json-inline" }, JSON.stringify(v));
  return String(v);
}

/* [dt, dd] pairs of an object's fields (nested objects flattened one level). */
function pairs(obj, out) {
  for (const [k, v] of Object.entries(obj)) {
    if (k === "message") continue;
    if (isObj(v) && !FIELD[k]) {
      pairs(v, out);
      continue;
    }
    const node = valueNode(k, v);
    if (node === null) continue;
    out.push(el("dt", null, (FIELD[k] && FIELD[k][0]) || keyWords(k)));
    out.push(el("dd", null, node));
  }
  return out;
}

/* The details of an audit record (and its target when that is no folder,
 * under targetLabel) as a message and fields; null when there is nothing. */
export function detailsNodes(details, extra) {
  const out = [];
  let d = details;
  if (typeof d === "string") {
    try {
      d = JSON.parse(d);
    } catch (e) {
      // plain text
    }
  }
  if (isObj(d) && typeof d.message === "string" && d.message)
    out.push(el("p", { class: "details-msg" }, d.message));
  else if (typeof d === "string" && d) out.push(el("p", { class: "details-msg" }, d));
  const list = [];
  for (const [label, value] of extra || []) {
    list.push(el("dt", null, label));
    list.push(el("dd", null, value));
  }
  if (isObj(d)) pairs(d, list);
  else if (isFileList(d)) list.push(el("dt", null, "Files"), el("dd", null, filesValue(d)));
  else if (Array.isArray(d) || typeof d === "number")
    list.push(el("dt", null, "Value"), el("dd", null, el("code", null, JSON.stringify(d))));
  if (list.length) out.push(el("dl", { class: "fields" }, list));
  return out.length ? out : null;
}

/* Who changed a file, in words, from a history row's "changed_by". */
export function changedByText(cb) {
  if (!cb) return "–";
  if (cb.kind === "job")
    return "tmi-console job " + cb.job + (cb.user ? ", run by " + cb.user : "");
  if (cb.kind === "outside") {
    const seen = cb.seen_by ? " (found " + reasonText(cb.seen_by) + ")" : "";
    if (cb.since)
      return (
        "outside tmi-console, between " + fmtTime(cb.since) + " and " + fmtTime(cb.until) + seen
      );
    return "first seen " + fmtTime(cb.until) + seen;
  }
  return String(cb.kind || "–");
}
