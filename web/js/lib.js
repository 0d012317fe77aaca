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
  for (const c of children.flat(Infinity)) {
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

let noticesOn = true;

/* Errors of calls still under way when the tab signs out are not news:
 * while signed out, nothing shows in the notice bar. */
export function enableNotices(on) {
  noticesOn = on;
  if (!on) showNotice("");
}

export function showNotice(text) {
  if (text && !noticesOn) return;
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

/* A SHA-256 cell: the short form, and the whole hash, which a table with
 * the class "full-hashes" shows instead (hashToggle), so that keyboard and
 * touch users reach it too, not only a mouse's tooltip. */
export function hashCell(h) {
  if (!h) return el("td", { class: "hash" }, "–");
  return el(
    "td",
    { class: "hash" },
    el("span", { class: "hash-short", title: h }, shortHash(h)),
    el("span", { class: "hash-full" }, h),
  );
}

/* A button that switches table between short and full hashes. */
export function hashToggle(button, table) {
  button.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(on));
    table.classList.toggle("full-hashes", on);
  });
}

export function capital(t) {
  return t ? t.charAt(0).toUpperCase() + t.slice(1) : t;
}

export function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many);
}

/* A duration in words: "0.4 s", "12 s", "3 min 5 s", "2 h 10 min", "3 days". */
export function durText(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return s.toFixed(1) + " s";
  if (s < 60) return Math.floor(s) + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min" + (m < 10 && s % 60 >= 1 ? " " + Math.floor(s % 60) + " s" : "");
  const h = Math.floor(m / 60);
  if (h < 48) return h + " h" + (h < 10 && m % 60 ? " " + (m % 60) + " min" : "");
  return Math.floor(h / 24) + " days";
}

/* How long ago, in words: "5 s ago", "3 min ago". */
export function agoText(ms) {
  return ms < 1500 ? "just now" : durText(ms).replace(/\.\d s$/, " s") + " ago";
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

/* The UTC offset times are shown in (minutes): the server's when known. */
export function shownOffset(ms) {
  return serverOffsetMin !== null ? serverOffsetMin : -new Date(ms).getTimezoneOffset();
}

/* A time (ms since 1970) as the parts of the shown local time:
 * {y, mo, d, h, mi, s, date: "YYYY-MM-DD", hm: "hh:mm", hms: "hh:mm:ss"}. */
export function timeParts(ms) {
  const t = new Date(ms + shownOffset(ms) * 60000);
  const p = {
    y: t.getUTCFullYear(),
    mo: t.getUTCMonth() + 1,
    d: t.getUTCDate(),
    h: t.getUTCHours(),
    mi: t.getUTCMinutes(),
    s: t.getUTCSeconds(),
  };
  p.date = `${p.y}-${pad2(p.mo)}-${pad2(p.d)}`;
  p.hm = `${pad2(p.h)}:${pad2(p.mi)}`;
  p.hms = `${p.hm}:${pad2(p.s)}`;
  return p;
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

/* A time typed as the page shows them ("YYYY-MM-DD hh:mm:ss", the seconds
 * or the whole time may be left out; a "T" may stand for the space) as UTC
 * ISO text. It is read in the server's local time when the API tells its
 * offset (as every time on the page is shown), else in this browser's.
 * "" gives null; text that is no such time throws an Error saying so. */
export function localToIso(v) {
  const text = String(v || "").trim();
  if (!text) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  const bad = () => new Error("“" + text + "” is not a time like 2026-11-25 14:30:00");
  if (!m) throw bad();
  const f = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  const asUtc = Date.UTC(f[0], f[1] - 1, f[2], f[3], f[4], f[5]);
  const back = new Date(asUtc);
  if (back.getUTCMonth() !== f[1] - 1 || back.getUTCDate() !== f[2] || f[3] > 23 || f[4] > 59 || f[5] > 59)
    throw bad();
  const off = serverOffsetMin !== null ? serverOffsetMin : -new Date(asUtc).getTimezoneOffset();
  return new Date(asUtc - off * 60000).toISOString();
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

/* A scrolling data table: column titles, one array of cells per row, and
 * a name for the scrolling region (keyboard users scroll it too). */
export function dataTable(attrs, heads, rows, label) {
  return el(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": label || "Table" },
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
