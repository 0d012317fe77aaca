/*
 * lib.js - small helpers every view shares: building DOM (never innerHTML
 * with data, so text from the server is never read as markup), badges,
 * numbers, paths, and times in the server's local time.
 */

export const $ = (id) => document.getElementById(id);

function setAttrs(e, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
}

export function append(e, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
}

/* Make an element: el("td", {class: "x", title: "y"}, child, "text", ...). */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

export function replaceChildren(e, ...children) {
  e.replaceChildren();
  append(e, children);
}

/* Change a live region's text only when it differs: a refresh with the
 * same news is not announced again. */
export function setText(e, text) {
  if (e.textContent !== text) e.textContent = text;
}

export function showNotice(text) {
  const n = $("notice");
  n.textContent = text;
  n.hidden = !text;
}

export function badge(kind, text, title) {
  return el("span", { class: "badge badge-" + kind, title: title }, text);
}

// File statuses the page knows how to word; any other one the server sends
// is shown as its own name and counted as needing attention.
const GOOD_STATUSES = new Set(["ok", "newer"]);
const STATUS_TEXT = {
  ok: "ok",
  newer: "newer (fine)",
  old: "old",
  missing: "missing",
  unreadable: "unreadable",
  invalid: "invalid (damaged)",
};

/* Is a file in this status fine as it is? Only ok and newer are. */
export const statusIsGood = (status) => GOOD_STATUSES.has(status);

export function statusText(status) {
  return STATUS_TEXT[status] || String(status || "unknown");
}

/* A file status as a badge; a status without a style of its own gets the
 * style for trouble. */
export function statusBadge(status, title) {
  const b = badge(status, statusText(status), title);
  if (!(status in STATUS_TEXT)) b.classList.add("badge-attention");
  return b;
}

export function shortHash(h) {
  return h ? h.slice(0, 12) + "…" : "–";
}

export function capital(t) {
  return t ? t.charAt(0).toUpperCase() + t.slice(1) : t;
}

export function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many);
}

export function fmtSize(n) {
  if (n === null || n === undefined) return "–";
  return Number(n).toLocaleString("en-US") + " B";
}

/* The last path component(s) of a Windows or POSIX path. */
export function tail(path, n) {
  const parts = String(path || "")
    .split(/[\\/]+/)
    .filter((p) => p !== "");
  return parts.slice(-n).join("/");
}

export function clip(t, n) {
  return t.length > n ? "…" + t.slice(t.length - n + 1) : t;
}

// ---------------------------------------------------------------- times

let serverOffsetMin = null; // the server's UTC offset, once the API told it

export function setServerOffset(min) {
  serverOffsetMin = typeof min === "number" ? min : null;
}

export function serverOffset() {
  return serverOffsetMin;
}

const pad2 = (n) => String(n).padStart(2, "0");

export function offsetText(min) {
  const sign = min < 0 ? "-" : "+";
  const a = Math.abs(min);
  return "UTC" + sign + pad2(Math.floor(a / 60)) + ":" + pad2(a % 60);
}

/* An RFC 3339 time from the API as "YYYY-MM-DD hh:mm:ss UTC+hh:mm": the
 * server's local time when the API tells its offset, else this browser's. */
export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  let parts, off;
  if (serverOffsetMin !== null) {
    off = serverOffsetMin;
    const t = new Date(d.getTime() + off * 60000);
    parts = [
      t.getUTCFullYear(),
      t.getUTCMonth() + 1,
      t.getUTCDate(),
      t.getUTCHours(),
      t.getUTCMinutes(),
      t.getUTCSeconds(),
    ];
  } else {
    off = -d.getTimezoneOffset();
    parts = [
      d.getFullYear(),
      d.getMonth() + 1,
      d.getDate(),
      d.getHours(),
      d.getMinutes(),
      d.getSeconds(),
    ];
  }
  const [y, mo, da, h, mi, s] = parts;
  return `${y}-${pad2(mo)}-${pad2(da)} ${pad2(h)}:${pad2(mi)}:${pad2(s)} ${offsetText(off)}`;
}

export function timeEl(iso) {
  return el("time", { datetime: iso || null, title: iso || null, class: "nowrap" }, fmtTime(iso));
}

/* A datetime-local value ("YYYY-MM-DDThh:mm[:ss]") as UTC ISO text. It is
 * read in the server's local time when the API tells its offset (as every
 * time on the page is shown), else in this browser's. */
export function localToIso(v) {
  if (!v) return null;
  if (serverOffsetMin !== null) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(v);
    if (!m) return null;
    const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    return new Date(asUtc - serverOffsetMin * 60000).toISOString();
  }
  const d = new Date(v); // this browser's local time
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

// ---------------------------------------------------------------- tables

/* p shown relative to the folder base when it lies below it (the full path
 * stays in the title). */
export function relCell(base, p) {
  let shown = p || "";
  if (
    base &&
    p &&
    p.length > base.length + 1 &&
    p.startsWith(base) &&
    /[\\/]/.test(p[base.length])
  ) {
    shown = p.slice(base.length + 1);
  }
  return el("td", { class: "path mono", title: p || null }, shown);
}

/* A scrolling data table: column titles, and one array of cells per row. */
export function dataTable(attrs, heads, rows) {
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      Object.assign({ class: "data" }, attrs),
      el(
        "thead",
        null,
        el(
          "tr",
          null,
          heads.map((h) => el("th", { scope: "col" }, h)),
        ),
      ),
      el(
        "tbody",
        null,
        rows.map((cells) => el("tr", null, cells)),
      ),
    ),
  );
}
