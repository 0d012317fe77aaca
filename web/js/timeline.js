/*
 * timeline.js - a file's timeline: a lane per place the file was seen (the
 * TMI folder first, then each source folder), a box per version and hash
 * placed by time from the scan that first saw it until the next change
 * (identical neighbours are one box), a mark where a tmi-console job or
 * something outside it made the change, and a time axis whose ticks are
 * chosen for the zoom so their labels never overlap. Lane names are HTML
 * beside the drawing, so they stay in view while it scrolls. A box is a
 * button: it opens that observation (onSelect).
 */

import { el, replaceChildren, shownOffset, statusText, svg, tail, timeParts } from "./lib.js";

const LANE_H = 64;
const AXIS_H = 50;
const MIN_BOX = 44; // px: a box this narrow still shows, and a finger can hit it
const GAP = 2;
const TICK_MIN_PX = 96; // labels of "YYYY-MM-DD" fit in this
export const ZOOMS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const STEPS = [
  S, 2 * S, 5 * S, 10 * S, 15 * S, 30 * S, M, 2 * M, 5 * M, 10 * M, 15 * M, 30 * M, H, 2 * H,
  3 * H, 6 * H, 12 * H, D, 2 * D, 7 * D, 14 * D, 30 * D, 91 * D, 182 * D, 365 * D,
];

/* Observations (oldest first) as lanes, identical neighbours merged:
 * [{path, kind, segs: [{obs, also: [later identical obs], t0, t1}]}]. */
export function lanesOf(obs, nowMs) {
  const lanes = new Map();
  for (const o of obs) {
    if (!lanes.has(o.path)) lanes.set(o.path, { path: o.path, kind: o.kind, segs: [] });
    const lane = lanes.get(o.path);
    const last = lane.segs[lane.segs.length - 1];
    const key = [o.present, o.version, o.sha256, o.status].join("|");
    if (last && last.key === key) {
      last.also.push(o);
      continue;
    }
    lane.segs.push({ obs: o, also: [], key: key, t0: Date.parse(o.observed) });
  }
  const list = [...lanes.values()].sort(
    (a, b) => (a.kind === "tmi" ? 0 : 1) - (b.kind === "tmi" ? 0 : 1) || (a.path < b.path ? -1 : 1),
  );
  for (const lane of list)
    lane.segs.forEach((s, i) => {
      s.t1 = i + 1 < lane.segs.length ? lane.segs[i + 1].t0 : nowMs;
      s.first = i === 0;
    });
  return list;
}

/* The tick step for a scale (px per ms): the smallest that leaves room. */
export function tickStep(pxPerMs) {
  for (const s of STEPS) if (s * pxPerMs >= TICK_MIN_PX) return s;
  return STEPS[STEPS.length - 1];
}

/* Tick times from t0 to t1, on round values of the shown local time. */
function ticks(t0, t1, step) {
  const off = shownOffset(t0) * M;
  const out = [];
  for (let t = Math.ceil((t0 + off) / step) * step - off; t <= t1 && out.length < 500; t += step)
    out.push(t);
  return out;
}

function tickLabel(t, step, prev) {
  const p = timeParts(t);
  if (step >= D) return { top: p.date, bottom: "" };
  const time = step < M ? p.hms : p.hm;
  const newDay = !prev || timeParts(prev).date !== p.date;
  return { top: newDay ? p.date : "", bottom: time };
}

function axis(g) {
  const out = [];
  let prev = null;
  for (const t of ticks(g.t0, g.t1, g.step)) {
    const x = g.x(t);
    const lab = tickLabel(t, g.step, prev);
    prev = t;
    out.push(svg("line", { class: "tl-grid", x1: x, y1: AXIS_H - 8, x2: x, y2: g.height - 4 }));
    if (lab.top) out.push(svg("text", { class: "tl-tick tl-tick-date", x: x + 3, y: 14 }, lab.top));
    if (lab.bottom) out.push(svg("text", { class: "tl-tick", x: x + 3, y: 30 }, lab.bottom));
  }
  out.push(svg("line", { class: "tl-now", x1: g.xNow, y1: AXIS_H - 8, x2: g.xNow, y2: g.height - 4 }));
  out.push(svg("text", { class: "tl-tick tl-now-label", x: g.xNow - 3, y: AXIS_H - 6, "text-anchor": "end" }, "now"));
  return out;
}

/* Where each box goes: by time, but never narrower than MIN_BOX and never
 * over the box before it (the next zoom step shows the true spacing). */
function place(g, lane) {
  let end = -Infinity;
  for (const s of lane.segs) {
    const x0 = Math.max(g.x(s.t0), end + GAP);
    const x1 = Math.max(g.x(s.t1), x0 + MIN_BOX);
    s.x = x0;
    s.w = x1 - x0;
    end = x1;
  }
  return end;
}

function segWords(s) {
  const o = s.obs;
  const status = o.present ? o.status || "ok" : "missing";
  const version = o.present ? o.version || statusText(status) : "missing";
  return { status, version };
}

/* The mark at a box's start: who made the change (none for the first). */
function mark(s, y) {
  const cb = s.obs.changed_by;
  if (s.first || !cb || (cb.kind !== "job" && cb.kind !== "outside")) return null;
  const job = cb.kind === "job";
  const x = s.x;
  return svg(
    "g",
    { class: "tl-mark tl-mark-" + cb.kind, "aria-hidden": "true" },
    job
      ? svg("rect", { x: x - 5, y: y + 1, width: 10, height: 10, transform: `rotate(45 ${x} ${y + 6})` })
      : svg("path", { d: `M${x - 6},${y + 12} L${x},${y + 1} L${x + 6},${y + 12} Z` }),
    s.w > 46 ? svg("text", { class: "tl-mark-text", x: x + 9, y: y + 11 }, job ? "job " + cb.job : "outside") : null,
  );
}

/* A box (a button named label) and, beside it in the drawing, its words:
 * they are for the eye only, the label says it all. */
function segment(s, lane, y, label, onSelect) {
  const { status, version } = segWords(s);
  const styled = ["ok", "newer", "old", "missing", "unreadable", "invalid"].includes(status);
  // the longest label that fits: "1.12.0.1156 (old)", "1.12.0.1156", "…1156"
  const room = Math.floor((s.w - 12) / 7);
  const text = [version + (status === "old" ? " (old)" : ""), version, "…" + version.split(".").pop()].find(
    (t) => t.length <= room,
  );
  const fits = !!text;
  const node = svg(
    "g",
    {
      class: "tl-seg",
      tabindex: "0",
      role: "button",
      "aria-label": label,
      "data-version": version,
      "data-status": status,
      "data-lane": lane.kind,
      "data-obs": s.obs.id,
      "data-start": s.obs.observed,
      "data-merged": s.also.length || null,
    },
    svg("rect", {
      class: "tl-box tl-box-" + status + (styled ? "" : " tl-box-attention"),
      x: s.x,
      y: y + 14,
      width: s.w,
      height: LANE_H - 20,
      rx: 3,
    }),
  );
  const words = svg(
    "g",
    { class: "tl-words", "aria-hidden": "true" },
    fits ? svg("text", { class: "tl-version", x: s.x + 6, y: y + 33 }, text) : null,
    fits && s.obs.sha256 && s.w > 150
      ? svg("text", { class: "tl-hash", x: s.x + 6, y: y + 49 }, s.obs.sha256.slice(0, 16) + "…")
      : null,
  );
  const pick = () => onSelect(s, lane);
  node.addEventListener("click", pick);
  node.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      pick();
    }
  });
  return [node, words];
}

/* A lane's name: the TMI folder, or a source folder (relative to the TMI
 * folder when it lies below it). */
export function laneName(lane, tmiDir) {
  if (lane.kind === "tmi") return { label: "TMI folder", sub: tail(lane.path, 2) };
  let p = lane.path;
  if (tmiDir && p.startsWith(tmiDir) && p.length > tmiDir.length + 1)
    p = "TMI" + p.slice(tmiDir.length).replace(/\\/g, "/");
  return { label: "Source folder", sub: p.split(/[\\/]/).slice(0, -1).join("/") };
}

/*
 * Draw lanes into box at zoom (a value of ZOOMS) over [t0, nowMs].
 * words(seg, lane) names a box for assistive technology; onSelect(seg,
 * lane) runs when a box is chosen. Returns {stepMs} (the tick step).
 */
export function drawTimeline(box, lanes, opt) {
  const all = lanes.flatMap((l) => l.segs);
  const t0 = Math.min(...all.map((s) => s.t0));
  const span = Math.max(10 * S, opt.nowMs - t0) * 1.03;
  const labelsW = opt.labelsW;
  const plotW = Math.max(240, opt.width - labelsW - 24) * opt.zoom;
  const g = { t0: t0 - span * 0.02, t1: t0 + span, height: AXIS_H + lanes.length * LANE_H + 6 };
  const pxPerMs = plotW / (g.t1 - g.t0);
  g.x = (t) => 8 + (t - g.t0) * pxPerMs;
  g.xNow = g.x(opt.nowMs);
  g.step = tickStep(pxPerMs);
  let width = g.x(g.t1) + 8;
  for (const lane of lanes) width = Math.max(width, place(g, lane) + 8);
  const nodes = axis(g);
  lanes.forEach((lane, i) => {
    const y = AXIS_H + i * LANE_H;
    for (const s of lane.segs) {
      nodes.push(segment(s, lane, y, opt.words(s, lane), opt.onSelect));
      const m = mark(s, y);
      if (m) nodes.push(m);
    }
  });
  const names = lanes.map((lane) => {
    const n = laneName(lane, opt.tmiDir);
    return el(
      "div",
      { class: "tl-lane-name", title: lane.path },
      el("span", { class: "tl-lane-label" }, n.label),
      el("span", { class: "tl-lane-sub" }, n.sub),
    );
  });
  replaceChildren(
    box,
    el("div", { class: "tl-names" }, el("div", { class: "tl-names-axis" }), names),
    el(
      "div",
      { class: "tl-scroll", id: "tl-scroll" },
      svg(
        "svg",
        {
          width: Math.ceil(width),
          height: g.height,
          viewBox: "0 0 " + Math.ceil(width) + " " + g.height,
          role: "group",
          "aria-label": opt.title,
        },
        nodes,
      ),
    ),
  );
  return { stepMs: g.step };
}
