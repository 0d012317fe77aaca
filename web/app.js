/*
 * tmi-console web UI: status, actions with their progress, backups, history
 * and audit, over the JSON API of the same origin. No framework and no build
 * step; everything the page shows is built with DOM calls (never innerHTML
 * with data), so text from the server is never read as markup.
 */
"use strict";

(function () {
  // ---------------------------------------------------------------- state

  const state = {
    secret: null, // this tab's page secret (see "session" below)
    signedIn: false,
    user: "",
    status: null, // GET /api/status
    jobs: [], // GET /api/jobs (newest first)
    runningJob: null, // {id, action} while a job runs
    followId: null, // the job the job panel follows
    backups: [],
    view: "status",
    utcOffsetMin: null, // the server's offset, when the API gives it
    auditBefore: null,
    scansBefore: null,
    historyFile: null,
    busyScan: false,
  };

  const STATUS_REFRESH_MS = 15000;
  const JOB_POLL_MS = 400;

  // Step names and the order each action runs them in (core/repair.h).
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
  const ACTION_STEPS = {
    repair: [
      "preflight",
      "backup",
      "stop",
      "stage",
      "commit",
      "verify",
      "start",
      "rescan",
      "rollback",
    ],
    replace: ["preflight", "backup", "stop", "stage", "commit", "verify", "rollback"],
    backup: ["preflight", "backup"],
    restart: ["stop", "start"],
    restore: ["preflight", "backup", "stop", "restore", "rollback"],
  };
  const ACTION_LABEL = {
    repair: "Repair",
    replace: "Replace",
    backup: "Back up",
    restart: "Restart service",
    restore: "Restore",
  };
  const KNOWN_ACTIONS = [
    "repair",
    "backup",
    "replace",
    "restart",
    "restore",
    "recover",
    "scan",
    "login",
    "logout",
    "login_code",
    "server_start",
    "server_stop",
    "token_change",
    "export",
  ];

  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);

  /* Make an element: el("td", {class: "x", title: "y"}, child, "text", ...). */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    setAttrs(e, attrs);
    append(e, children);
    return e;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG_NS, tag);
    setAttrs(e, attrs);
    append(e, children);
    return e;
  }

  function setAttrs(e, attrs) {
    if (!attrs) return;
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
  }

  function append(e, children) {
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : String(c));
    }
  }

  function replaceChildren(e, ...children) {
    e.replaceChildren();
    append(e, children);
  }

  /* Change a live region's text only when it differs: a refresh with the
   * same news is not announced again. */
  function setText(e, text) {
    if (e.textContent !== text) e.textContent = text;
  }

  function badge(kind, text, title) {
    return el("span", { class: "badge badge-" + kind, title: title }, text);
  }

  function shortHash(h) {
    return h ? h.slice(0, 12) + "…" : "–";
  }

  function capital(t) {
    return t ? t.charAt(0).toUpperCase() + t.slice(1) : t;
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function fmtSize(n) {
    if (n === null || n === undefined) return "–";
    return Number(n).toLocaleString("en-US") + " B";
  }

  const pad2 = (n) => String(n).padStart(2, "0");

  function offsetText(min) {
    const sign = min < 0 ? "-" : "+";
    const a = Math.abs(min);
    return "UTC" + sign + pad2(Math.floor(a / 60)) + ":" + pad2(a % 60);
  }

  /* An RFC 3339 time from the API as "YYYY-MM-DD hh:mm:ss UTC+hh:mm": the
   * server's local time when the API tells its offset, else this browser's. */
  function fmtTime(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    let y, mo, da, h, mi, s, off;
    if (state.utcOffsetMin !== null) {
      off = state.utcOffsetMin;
      const t = new Date(d.getTime() + off * 60000);
      [y, mo, da, h, mi, s] = [
        t.getUTCFullYear(),
        t.getUTCMonth() + 1,
        t.getUTCDate(),
        t.getUTCHours(),
        t.getUTCMinutes(),
        t.getUTCSeconds(),
      ];
    } else {
      off = -d.getTimezoneOffset();
      [y, mo, da, h, mi, s] = [
        d.getFullYear(),
        d.getMonth() + 1,
        d.getDate(),
        d.getHours(),
        d.getMinutes(),
        d.getSeconds(),
      ];
    }
    return (
      y +
      "-" +
      pad2(mo) +
      "-" +
      pad2(da) +
      " " +
      pad2(h) +
      ":" +
      pad2(mi) +
      ":" +
      pad2(s) +
      " " +
      offsetText(off)
    );
  }

  function timeEl(iso) {
    return el("time", { datetime: iso || null, title: iso || null, class: "nowrap" }, fmtTime(iso));
  }

  /* The last path component(s) of a Windows or POSIX path. */
  function tail(path, n) {
    const parts = String(path || "")
      .split(/[\\/]+/)
      .filter((p) => p !== "");
    return parts.slice(-n).join("/");
  }

  /* A source path shown relative to the TMI folder when it lies below it. */
  function relToTmi(path) {
    const tmi = state.status && state.status.scan && state.status.scan.tmi_dir;
    if (tmi && path && path.startsWith(tmi) && path.length > tmi.length + 1) {
      return "TMI" + path.slice(tmi.length).replace(/\\/g, "/");
    }
    return path;
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, title, detail) {
      super(detail || title || "HTTP " + status);
      this.status = status;
      this.title = title;
    }
  }

  /* Call the API with this tab's secret; resolves to the parsed JSON (or
   * null), rejects with an ApiError carrying the problem's detail. */
  async function api(method, path, body) {
    const opts = { method: method, credentials: "same-origin", headers: {} };
    if (state.secret) opts.headers[SECRET_HEADER] = state.secret;
    if (method === "POST" || method === "PUT" || method === "PATCH") {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body || {});
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(
        0,
        "No answer",
        "the server does not answer (is tmi-console still running?)",
      );
    }
    const type = res.headers.get("Content-Type") || "";
    let data = null;
    if (res.status !== 204 && type.includes("json")) {
      try {
        data = await res.json();
      } catch (e) {
        data = null;
      }
    }
    if (!res.ok) {
      if (res.status === 401 && state.signedIn) sessionLost();
      const detail = data && data.detail ? data.detail : res.statusText;
      throw new ApiError(res.status, data && data.title, detail);
    }
    return data;
  }

  function showNotice(text) {
    const n = $("notice");
    n.textContent = text;
    n.hidden = !text;
  }

  function sessionLost() {
    forgetSecret();
    showNotice(
      "Your session has ended. Open a new login link: run 'tmi-console login-url' on the server.",
    );
    showLogin();
  }

  // ---------------------------------------------------------------- session
  //
  // A browser session has two parts: the HttpOnly cookie of this port, and
  // a secret the page holds and sends in SECRET_HEADER on every call (the
  // server accepts neither alone: cookies reach every port of 127.0.0.1).
  // The login redirect brings the secret in the URL fragment, which never
  // goes to a server; the page keeps it in this tab's sessionStorage (so a
  // reload stays signed in) and takes it out of the address bar. A new tab
  // asks the open tabs of this console for it over a BroadcastChannel (same
  // origin only: a page on another port cannot listen); with none open it
  // shows how to get a new login link.

  const SECRET_HEADER = "X-TMI-Secret";
  const SECRET_KEY = "tmi-console.secret";
  const PEER_WAIT_MS = 800;
  const isSecret = (v) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);

  /* The secret the login redirect put in the fragment ("#secret=..."),
   * removed from the address bar and the history entry at once. */
  const loginSecret = (() => {
    const m = /^#secret=([0-9a-f]{64})$/.exec(location.hash);
    if (!m) return null;
    history.replaceState(null, "", location.pathname + location.search);
    return m[1];
  })();

  function storedSecret() {
    try {
      const v = sessionStorage.getItem(SECRET_KEY);
      return isSecret(v) ? v : null;
    } catch (e) {
      return null; // storage disabled: this tab signs in through the channel only
    }
  }

  function keepSecret(v) {
    state.secret = v;
    try {
      sessionStorage.setItem(SECRET_KEY, v);
    } catch (e) {
      // kept in memory only
    }
  }

  function forgetSecret() {
    state.secret = null;
    state.signedIn = false;
    try {
      sessionStorage.removeItem(SECRET_KEY);
    } catch (e) {
      // nothing kept
    }
  }

  let channel = null;
  let asking = null; // {nonce, resolve} while this tab asks its peers

  function post(msg) {
    if (channel) channel.postMessage(msg);
  }

  function openChannel() {
    if (typeof BroadcastChannel !== "function") return;
    channel = new BroadcastChannel("tmi-console.session");
    channel.addEventListener("message", (ev) => {
      const m = ev.data || {};
      if (m.type === "ask" && state.signedIn && state.secret) {
        post({ type: "answer", to: m.nonce, secret: state.secret });
      } else if (m.type === "answer" && asking && m.to === asking.nonce && isSecret(m.secret)) {
        asking.resolve(m.secret);
      } else if (m.type === "login" && isSecret(m.secret)) {
        // a new login in this browser replaced the cookie: every tab follows
        keepSecret(m.secret);
        if (!state.signedIn) signIn();
      } else if (m.type === "logout" && state.signedIn) {
        forgetSecret();
        showNotice("You logged out in another tab.");
        showLogin();
      }
    });
  }

  /* Ask the open tabs of this console for the secret; null when none
   * answers within PEER_WAIT_MS. */
  function askPeers() {
    if (!channel) return Promise.resolve(null);
    const nonce = Math.random().toString(36).slice(2) + Date.now().toString(36);
    return new Promise((resolve) => {
      const done = (v) => {
        if (!asking || asking.nonce !== nonce) return;
        asking = null;
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => done(null), PEER_WAIT_MS);
      asking = { nonce: nonce, resolve: done };
      post({ type: "ask", nonce: nonce });
    });
  }

  /* Download an export with this tab's secret (a plain link would carry the
   * cookie only, which the server refuses). */
  async function downloadExport(a) {
    let res;
    try {
      res = await fetch(a.href, {
        credentials: "same-origin",
        headers: { [SECRET_HEADER]: state.secret || "" },
      });
    } catch (e) {
      showNotice("Cannot download: the server does not answer.");
      return;
    }
    if (!res.ok) {
      if (res.status === 401 && state.signedIn) sessionLost();
      else showNotice("Cannot download: HTTP " + res.status + " " + res.statusText);
      return;
    }
    const disp = res.headers.get("Content-Disposition") || "";
    const m = /filename="([^"]+)"/.exec(disp);
    const name = m ? m[1] : a.pathname.split("/").pop();
    const url = URL.createObjectURL(await res.blob());
    const tmp = el("a", { href: url, download: name, hidden: true });
    document.body.append(tmp);
    tmp.click();
    tmp.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  // ---------------------------------------------------------------- views

  const VIEWS = ["status", "backups", "history", "audit"];

  function showOnly(id) {
    for (const v of document.querySelectorAll("main > .view")) v.hidden = v.id !== id;
  }

  function showLogin() {
    $("tabs").hidden = true;
    $("who").hidden = true;
    showOnly("view-login");
  }

  function route(focus) {
    const name = (location.hash || "#status").slice(1);
    state.view = VIEWS.includes(name) ? name : "status";
    showOnly("view-" + state.view);
    for (const a of document.querySelectorAll("#tabs a")) {
      if (a.dataset.view === state.view) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    document.title = "tmi-console – " + $("tab-" + state.view).textContent;
    if (focus) $("main").focus();
    if (state.view === "status") refreshStatus(false);
    else if (state.view === "backups") loadBackupsView();
    else if (state.view === "history") loadHistoryView();
    else if (state.view === "audit") loadAuditView();
  }

  // ---------------------------------------------------------------- status

  async function refreshStatus(scanFirst) {
    try {
      if (scanFirst) await scanNow(true);
      let st = await api("GET", "/api/status");
      if (!st.scan && !scanFirst) {
        // nothing scanned yet on this data folder: look now
        await scanNow(true);
        st = await api("GET", "/api/status");
      }
      state.status = st;
      renderStatus();
    } catch (e) {
      if (e.status !== 401) showNotice("Cannot read the status: " + e.message);
    }
  }

  async function scanNow(quiet) {
    state.busyScan = true;
    updateActions();
    try {
      await api("POST", "/api/scan", {});
      if (!quiet) showNotice("");
    } finally {
      state.busyScan = false;
      updateActions();
    }
  }

  function fileCounts(scan) {
    const c = {
      ok: 0,
      newer: 0,
      old: 0,
      missing: 0,
      unreadable: 0,
      total: 0,
      oldVersions: new Set(),
    };
    for (const f of scan.files || []) {
      c.total++;
      if (f.status in c) c[f.status]++;
      if (f.status === "old" && f.version) c.oldVersions.add(f.version);
    }
    return c;
  }

  /* "8 of 8 files are the old 1.12.0.1156 version" and the like. */
  function badFilesText(scan) {
    const c = fileCounts(scan);
    const parts = [];
    if (c.old > 0) {
      const vers = [...c.oldVersions];
      const which =
        vers.length === 1
          ? "the old " + vers[0] + " version"
          : "older versions (" + vers.join(", ") + ")";
      parts.push(c.old + " of " + c.total + (c.old === 1 ? " file is " : " files are ") + which);
    }
    if (c.missing > 0) parts.push(plural(c.missing, "file is", "files are") + " missing");
    if (c.unreadable > 0)
      parts.push(plural(c.unreadable, "file cannot", "files cannot") + " be read");
    return parts.join("; ");
  }

  function serviceOf(st) {
    return (st && st.service) || { state: "unknown" };
  }

  function renderStatus() {
    const st = state.status;
    const scan = st && st.scan;
    const svc = serviceOf(st);
    const banner = $("banner");
    let cls = "unknown";
    let title = "No scan yet";
    let detail = "";
    let meta = "";
    if (scan) {
      const exp = scan.expected_version;
      const c = fileCounts(scan);
      if (scan.verdict === "affected") {
        cls = "affected";
        title =
          svc.state === "running"
            ? "The TMI files are the wrong version"
            : "The TMI service cannot run";
        detail = badFilesText(scan) + ". Control Manager 6.0 SP3 or later needs " + exp + ".";
        meta =
          scan.repair && scan.repair.possible
            ? "A complete good set was found: use Repair to put it in place."
            : "No repair possible yet: " +
              ((scan.repair && scan.repair.reason) || "no good copies found") +
              ".";
      } else if (scan.verdict === "healthy") {
        const ok = c.ok + c.newer;
        if (svc.state === "running" || svc.state === "unknown") {
          cls = "healthy";
          title = "Healthy";
          detail =
            "All " +
            ok +
            " TMI files are at " +
            exp +
            (c.newer ? " or newer" : "") +
            (svc.state === "running" ? " and the TMI service is running." : ".");
        } else {
          cls = "warn";
          title = "Files are fine, but the TMI service is " + svc.state.replace("_", " ");
          detail = "All " + ok + " TMI files are at " + exp + ". Use Restart service to start it.";
        }
      } else if (scan.verdict === "not_installed") {
        cls = "not_installed";
        title = "Not installed";
        detail =
          "No TMI folder was found on this server, so there is nothing to repair." +
          (scan.repair && scan.repair.reason ? " (" + scan.repair.reason + ")" : "");
      } else {
        title = "Unknown verdict: " + scan.verdict;
      }
      meta =
        (meta ? meta + " " : "") +
        "Scan " +
        st.scan_id +
        " at " +
        fmtTime(scan.finished || scan.started) +
        ".";
    }
    banner.className = "banner banner-" + cls;
    banner.dataset.verdict = scan ? scan.verdict : "";
    setText($("banner-title"), title);
    setText($("banner-detail"), detail);
    setText($("banner-meta"), meta);

    renderEvidence(st);
    renderFiles(scan);
    renderSources(scan);
    updateActions();
  }

  function renderEvidence(st) {
    const scan = st && st.scan;
    const svc = serviceOf(st);
    const s = $("ev-service");
    const stateName = svc.state || "unknown";
    s.className = "badge badge-" + stateName;
    s.textContent = stateName.replace("_", " ");
    let svcText = svc.detail || "";
    if (stateName !== "running" && svc.exit_code !== null && svc.exit_code !== undefined) {
      svcText = "it ended with exit code " + svc.exit_code;
    }
    $("ev-service-detail").textContent = [svc.name ? "'" + svc.name + "'" : "", svcText]
      .filter(Boolean)
      .join(": ");

    const events = (st && st.events) || [];
    const evBox = $("ev-event");
    if (events.length === 0) {
      evBox.className = "muted";
      replaceChildren(evBox, "No event 800 record found.");
    } else {
      const ev = events[0];
      const past = svc.state === "running";
      evBox.className = past ? "event event-past" : "event";
      replaceChildren(
        evBox,
        el(
          "div",
          { class: "event-head" },
          past ? "Earlier, before the service ran: " : "",
          "Event " + ev.id + " from " + (ev.provider || "?") + " at ",
          timeEl(ev.time),
        ),
        el("div", { class: "event-msg" }, ev.message || ""),
        events.length > 1
          ? el(
              "div",
              { class: "muted" },
              plural(events.length - 1, "earlier record", "earlier records") + " like it",
            )
          : null,
      );
    }

    const files = $("ev-files");
    if (!scan) {
      files.textContent = "–";
    } else if (scan.verdict === "not_installed") {
      files.textContent = "No TMI folder found.";
    } else {
      const bad = (scan.files || []).filter(
        (f) => f.status === "old" || f.status === "missing" || f.status === "unreadable",
      );
      if (bad.length === 0) {
        files.textContent =
          "All " + (scan.files || []).length + " at " + scan.expected_version + " or newer.";
      } else if (bad.length === (scan.files || []).length) {
        files.textContent = badFilesText(scan) + " (all of them).";
      } else {
        replaceChildren(
          files,
          badFilesText(scan) + ": ",
          el("span", { class: "mono" }, bad.map((f) => f.name).join(", ")),
        );
      }
    }
    $("ev-tmidir").textContent = (scan && scan.tmi_dir) || "–";
    $("ev-tmidir-origin").textContent =
      scan && scan.tmi_dir_origin ? "(" + scan.tmi_dir_origin + ")" : "";
  }

  const STATUS_TEXT = {
    ok: "ok",
    newer: "newer (fine)",
    old: "old",
    missing: "missing",
    unreadable: "unreadable",
  };

  function renderFiles(scan) {
    const body = $("files-body");
    if (!scan || !scan.files || scan.files.length === 0) {
      replaceChildren(
        body,
        el(
          "tr",
          { class: "empty-row" },
          el("td", { colspan: 7 }, scan ? "No TMI folder was found." : "Not scanned yet."),
        ),
      );
      return;
    }
    replaceChildren(
      body,
      scan.files.map((f) => {
        const bad = f.status === "old" || f.status === "missing" || f.status === "unreadable";
        let statusTitle = null;
        if (f.known_bad)
          statusTitle =
            "a known-bad version: incompatible with Control Manager 6.0 SP3 or later (not a vulnerability)";
        if (f.error) statusTitle = f.error;
        return el(
          "tr",
          { class: bad ? "row-bad" : "row-good", "data-file": f.name },
          el("td", { class: "mono" }, el("span", { title: f.path }, f.name)),
          el("td", { class: "mono" }, scan.expected_version),
          el(
            "td",
            { class: "mono" },
            bad && f.version ? el("strong", null, f.version) : f.version || "–",
          ),
          el(
            "td",
            null,
            badge(f.status, STATUS_TEXT[f.status] || f.status, statusTitle),
            // the playbook's known-bad build: incompatible, not vulnerable
            f.known_bad
              ? el(
                  "span",
                  {
                    class: "muted",
                    title: "The build the ServerProtect patch puts in place; it does not work " +
                      "with Control Manager 6.0 SP3 or later. It is not a vulnerable build.",
                  },
                  " incompatible build",
                )
              : null,
          ),
          el("td", { class: "hash", title: f.sha256 || null }, shortHash(f.sha256)),
          el("td", { class: "num nowrap" }, fmtSize(f.size)),
          el("td", null, f.mtime ? timeEl(f.mtime) : "–"),
        );
      }),
    );
  }

  function renderSources(scan) {
    const sum = $("source-summary");
    const list = $("sources-list");
    if (!scan) {
      sum.textContent = "";
      list.replaceChildren();
      return;
    }
    const r = scan.repair || {};
    if (r.possible) {
      replaceChildren(
        sum,
        "Good copies (",
        el("strong", null, scan.expected_version),
        ") of all ",
        String((scan.files || []).length),
        " files are in ",
        el("code", { class: "path" }, r.source || ""),
        r.variant ? " – left there by " + r.variant + "." : ".",
      );
    } else if (scan.verdict === "healthy") {
      sum.textContent = r.reason ? capital(r.reason) + "." : "Nothing to repair.";
    } else {
      replaceChildren(
        sum,
        el("strong", null, "No repair source: "),
        r.reason || "no folder with all good copies was found.",
      );
    }
    const sources = scan.sources || [];
    if (sources.length === 0) {
      replaceChildren(
        list,
        el(
          "li",
          { class: "muted" },
          "No candidate folder (is_backup\\filegroup100, backup*) was found.",
        ),
      );
      return;
    }
    replaceChildren(
      list,
      sources.map((s) =>
        el(
          "li",
          null,
          el("code", { class: "path" }, s.path),
          " ",
          s.variant ? el("span", { class: "muted" }, "(" + s.variant + ") ") : null,
          s.complete ? badge("ok", "complete") : badge("failed", "not usable", s.reason || null),
          !s.complete && s.reason ? el("span", { class: "muted" }, " " + s.reason) : null,
        ),
      ),
    );
  }

  // ---------------------------------------------------------------- actions

  function jobBlocker() {
    if (state.runningJob) {
      return (
        "Job " +
        state.runningJob.id +
        " (" +
        state.runningJob.action +
        ") is running: wait for it to finish."
      );
    }
    return null;
  }

  /* Whether an action applies now, and the reason in words either way. */
  function actionState(action) {
    const scan = state.status && state.status.scan;
    const svc = serviceOf(state.status);
    const running = jobBlocker();
    if (running) return { ok: false, why: running };
    if (state.busyScan) return { ok: false, why: "Scanning…" };
    if (!scan) return { ok: false, why: "Scan first." };
    const notInstalled = scan.verdict === "not_installed" || !scan.tmi_dir;
    const r = scan.repair || {};
    switch (action) {
      case "repair":
      case "replace": {
        const what =
          action === "repair"
            ? "Back up, replace the eight files, restart the service and check it stays up."
            : "Back up and replace the eight files; the service is left stopped.";
        if (notInstalled) return { ok: false, why: "No TMI folder was found: nothing to repair." };
        if (scan.verdict === "healthy")
          return {
            ok: false,
            why: "Nothing to repair: every file is at " + scan.expected_version + ".",
          };
        if (!r.possible)
          return {
            ok: false,
            why: "No complete set of good copies: " + (r.reason || "none found") + ".",
          };
        return { ok: true, why: what };
      }
      case "backup":
        if (notInstalled) return { ok: false, why: "No TMI folder was found: nothing to back up." };
        return { ok: true, why: "Copy the eight files as they are now into the data folder." };
      case "restart":
        if (notInstalled) return { ok: false, why: "No TMI folder was found." };
        if (svc.state === "not_found")
          return { ok: false, why: "The TMI service is not registered on this server." };
        if (scan.verdict === "affected")
          return { ok: false, why: "Restarting cannot help while the files are old: use Repair." };
        return { ok: true, why: "Stop and start the TMI service and check it stays up." };
      default:
        return { ok: false, why: "" };
    }
  }

  function updateActions() {
    for (const action of ["repair", "backup", "replace", "restart"]) {
      const b = $("act-" + action);
      const s = actionState(action);
      b.disabled = !s.ok;
      b.title = s.ok ? "" : s.why;
      $("why-" + action).textContent = s.why;
    }
    const scanBtn = $("act-scan");
    scanBtn.disabled = state.busyScan || !!state.runningJob;
    scanBtn.title = scanBtn.disabled ? jobBlocker() || "Scanning…" : "";
    $("why-scan").textContent =
      jobBlocker() ||
      (state.busyScan ? "Scanning…" : "Read the eight files again (changes nothing).");
    renderBackups();
  }

  // ---- the confirmation dialog

  let dialogHandler = null;

  /* Open the dialog; onOk(async) runs on Confirm and closes it when it
   * resolves; a rejection's message shows in the dialog. */
  function openDialog(opts) {
    const d = $("confirm");
    $("confirm-title").textContent = opts.title;
    $("confirm-lead").textContent = opts.lead || "";
    $("confirm-lead").className = opts.danger ? "error" : "";
    replaceChildren($("confirm-body"), opts.body || []);
    const err = $("confirm-error");
    err.hidden = true;
    err.textContent = "";
    const ok = $("confirm-ok");
    ok.textContent = opts.okLabel || "Confirm";
    ok.className = "btn " + (opts.danger ? "btn-danger" : "btn-primary");
    ok.disabled = !!opts.okDisabled;
    $("confirm-cancel").disabled = false;
    dialogHandler = opts.onOk || null;
    if (!d.open) d.showModal();
    $("confirm-cancel").focus();
  }

  function dialogError(text) {
    const err = $("confirm-error");
    err.textContent = text;
    err.hidden = !text;
  }

  function setupDialog() {
    const d = $("confirm");
    $("confirm-form").addEventListener("submit", async (ev) => {
      const submitter = ev.submitter;
      if (!submitter || submitter.value !== "ok") return; // Cancel closes it
      ev.preventDefault();
      if (!dialogHandler) return;
      $("confirm-ok").disabled = true;
      $("confirm-cancel").disabled = true;
      dialogError("");
      try {
        await dialogHandler();
        d.close("ok");
      } catch (e) {
        dialogError(e.message);
        $("confirm-cancel").disabled = false;
        $("confirm-cancel").focus();
      }
    });
    d.addEventListener("close", () => {
      dialogHandler = null;
    });
  }

  function stepsList(action) {
    return el(
      "ol",
      null,
      ACTION_STEPS[action]
        .filter((s) => s !== "rollback")
        .map((s) => el("li", null, el("strong", null, STEP_LABEL[s]), " – " + STEP_HINT[s])),
    );
  }

  /* p shown relative to the folder base when it lies below it (the full
   * path stays in the title). */
  function relCell(base, p) {
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
  function dataTable(attrs, heads, rows) {
    return el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        Object.assign({ class: "data" }, attrs),
        el("thead", null, el("tr", null, heads.map((h) => el("th", { scope: "col" }, h)))),
        el(
          "tbody",
          null,
          rows.map((cells) => el("tr", null, cells)),
        ),
      ),
    );
  }

  function planTable(plan) {
    return dataTable(
      { id: "plan-table" },
      ["File", "Now", "After", "Copied from (in the TMI folder)", "Over (in the TMI folder)"],
      (plan.files || []).map((f) => [
        el("td", { class: "mono" }, f.name),
        el("td", { class: "mono" }, f.from_version || "missing"),
        el("td", { class: "mono" }, el("strong", null, f.to_version || "?")),
        relCell(plan.tmi_dir, f.source_path),
        relCell(plan.tmi_dir, f.target),
      ]),
    );
  }

  async function confirmReplace(action) {
    const title =
      action === "repair"
        ? "Repair: replace the eight files and restart the service"
        : "Replace the eight files";
    openDialog({
      title: title,
      lead: "Reading the plan…",
      body: [],
      okLabel: ACTION_LABEL[action],
      okDisabled: true,
    });
    let plan;
    try {
      plan = await api("GET", "/api/plan");
    } catch (e) {
      openDialog({
        title: title,
        lead: "Cannot read the plan: " + e.message,
        okDisabled: true,
        okLabel: ACTION_LABEL[action],
      });
      return;
    }
    if (!plan.possible) {
      openDialog({
        title: title,
        lead: "Nothing can be done now: " + (plan.reason || "no repair is possible") + ".",
        okDisabled: true,
        okLabel: ACTION_LABEL[action],
      });
      return;
    }
    const body = [
      el(
        "p",
        null,
        "Every file below is copied from the source folder ",
        el("code", { class: "path", id: "plan-source" }, plan.source),
        plan.variant ? " (" + plan.variant + ")" : "",
        " into the TMI folder ",
        el("code", { class: "path", id: "plan-tmidir" }, plan.tmi_dir),
        ".",
      ),
      planTable(plan),
      el("h3", null, "Steps"),
      stepsList(action),
      el(
        "p",
        null,
        "The current files are backed up first. If any step after the first replacement fails, " +
          "every file is restored from that backup.",
      ),
      action === "replace"
        ? el(
            "p",
            null,
            el("strong", null, "The service is left stopped: "),
            "use Restart service afterwards.",
          )
        : null,
      el(
        "p",
        { class: "muted" },
        "Plan ",
        el("span", { class: "hash", id: "plan-digest" }, (plan.digest || "").slice(0, 16)),
        ": if the files change before you confirm, the job is refused.",
      ),
    ];
    openDialog({
      title: title,
      lead: plan.files.length + " files will be replaced.",
      body: body,
      okLabel: action === "repair" ? "Repair now" : "Replace now",
      onOk: () => startJob({ action: action, confirm: plan.digest }),
    });
  }

  function currentFilesTable(scan) {
    return dataTable(
      {},
      ["File", "Version", "SHA-256"],
      (scan.files || []).map((f) => [
        el("td", { class: "mono" }, f.name),
        el("td", { class: "mono" }, f.version || f.status),
        el("td", { class: "hash", title: f.sha256 || null }, shortHash(f.sha256)),
      ]),
    );
  }

  function confirmBackup() {
    const scan = state.status.scan;
    openDialog({
      title: "Back up the eight files",
      lead: "Copies these files from the TMI folder into a new backup in the tmi-console data folder. Nothing in the TMI folder changes.",
      body: [
        el("p", null, "From ", el("code", { class: "path" }, scan.tmi_dir)),
        currentFilesTable(scan),
        el("h3", null, "Steps"),
        stepsList("backup"),
      ],
      okLabel: "Back up now",
      onOk: () => startJob({ action: "backup" }),
    });
  }

  function confirmRestart() {
    const svc = serviceOf(state.status);
    openDialog({
      title: "Restart the TMI service",
      lead:
        'Stops the service "Trend Micro Management Infrastructure"' +
        (svc.name ? " ('" + svc.name + "')" : "") +
        ", starts it again and checks that it stays running. No file changes.",
      body: [
        el("p", null, "Control Manager loses contact with its agents for a few seconds."),
        el("h3", null, "Steps"),
        stepsList("restart"),
      ],
      okLabel: "Restart now",
      onOk: () => startJob({ action: "restart" }),
    });
  }

  function confirmRestore(b) {
    const scan = state.status && state.status.scan;
    const now = new Map(((scan && scan.files) || []).map((f) => [f.name, f]));
    const body = [
      el(
        "p",
        null,
        "The files of backup ",
        el("code", null, b.id),
        " (taken ",
        timeEl(b.created),
        ") are copied back into ",
        el("code", { class: "path" }, b.tmi_dir),
        ".",
      ),
      dataTable(
        {},
        ["File", "Now", "After", "SHA-256 after"],
        (b.files || []).map((f) => {
          const cur = now.get(f.name);
          return [
            el("td", { class: "mono" }, f.name),
            el("td", { class: "mono" }, cur ? cur.version || cur.status : "?"),
            el(
              "td",
              { class: "mono" },
              el("strong", null, f.present ? f.version || "?" : "absent (removed)"),
            ),
            el("td", { class: "hash", title: f.sha256 || null }, shortHash(f.sha256)),
          ];
        }),
      ),
      el("h3", null, "Steps"),
      stepsList("restore"),
      el(
        "p",
        null,
        "The files in place now are backed up first, so this can be undone. The service is stopped " +
          "for the restore and started again if it was running.",
      ),
    ];
    const old = (b.files || []).some(
      (f) => f.version && scan && f.version !== scan.expected_version,
    );
    openDialog({
      title: "Restore backup " + b.id,
      lead: old
        ? "Warning: this backup holds old files; the TMI service will not run with them."
        : "",
      body: body,
      okLabel: "Restore now",
      danger: old,
      onOk: () => startJob({ action: "restore", backup: b.id }),
    });
  }

  function onActionClick(action) {
    if (action === "repair" || action === "replace") confirmReplace(action);
    else if (action === "backup") confirmBackup();
    else if (action === "restart") confirmRestart();
  }

  async function startJob(body) {
    const res = await api("POST", "/api/jobs", body);
    state.runningJob = { id: res.id, action: body.action };
    updateActions();
    if (state.view !== "status") location.hash = "#status";
    followJob(res.id, body.action);
  }

  // ---- the job panel

  let pollTimer = null;

  function followJob(id, action) {
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
      if (e.status === 401) return;
      $("job-summary").textContent = "Cannot read job " + id + ": " + e.message + " (retrying)";
      pollTimer = setTimeout(() => pollJob(id), 2000);
      return;
    }
    if (state.followId !== id) return;
    renderJob(job);
    if (job.status === "running") {
      state.runningJob = { id: job.id, action: job.action };
      updateActions();
      pollTimer = setTimeout(() => pollJob(id), JOB_POLL_MS);
      return;
    }
    state.runningJob = null;
    await refreshStatus(true);
    loadJobsList();
    loadBackups();
  }

  function stepItem(name, s, action, jobDone) {
    let outcome = s ? s.outcome : "pending";
    let text = s
      ? s.outcome === "running"
        ? s.what || STEP_HINT[name]
        : s.message || s.what || ""
      : STEP_HINT[name] || "";
    if (!s && name === "rollback" && jobDone) {
      outcome = "skipped";
      text = "Not needed";
    }
    const icon = { ok: "✓", failed: "✗", skipped: "–", running: "", pending: "" }[outcome] || "";
    const label = STEP_LABEL[name] || name;
    const cls = "step-" + outcome + (name === "rollback" ? " step-rollback" : "");
    return el(
      "li",
      {
        class: cls,
        "data-step": name,
        "data-outcome": outcome,
        title: s && s.message ? s.message : null,
      },
      el(
        "span",
        { class: "step-name" },
        el("span", { class: "step-icon", "aria-hidden": "true" }, icon),
        label,
        el("span", { class: "sr-only" }, ": " + outcome),
      ),
      el("span", { class: "step-what" }, text),
    );
  }

  /* Before any job: the steps a repair takes, in the space a job will use. */
  function renderIdleJob() {
    const panel = $("job");
    panel.classList.add("job-idle");
    replaceChildren(
      $("job-steps"),
      ACTION_STEPS.repair.map((n) => stepItem(n, null, "repair", false)),
    );
    $("job-summary").textContent = "No job has run yet. A repair takes these steps:";
    $("job-result").className = "job-result";
    $("job-result").replaceChildren();
  }

  function renderJob(job) {
    const panel = $("job");
    panel.classList.remove("job-idle");
    panel.dataset.jobId = job.id;
    panel.dataset.status = job.status;
    const steps = job.steps || [];
    const byName = new Map();
    for (const s of steps) byName.set(s.step, s); // the last one of a name wins
    const order = (ACTION_STEPS[job.action] || []).slice();
    for (const s of steps) if (!order.includes(s.step)) order.push(s.step);
    const done = job.status !== "running";
    replaceChildren(
      $("job-steps"),
      order.map((n) => stepItem(n, byName.get(n), job.action, done)),
    );

    const label = ACTION_LABEL[job.action] || job.action;
    replaceChildren(
      $("job-summary"),
      "Job " + job.id + " – " + label + " ",
      badge(job.status, job.status === "running" ? "running" : job.status),
      job.created ? el("span", { class: "muted" }, " started ", timeEl(job.created)) : null,
      job.finished ? el("span", { class: "muted" }, ", finished ", timeEl(job.finished)) : null,
      job.actor ? el("span", { class: "muted" }, " by " + job.actor) : null,
    );

    const r = $("job-result");
    if (!done) {
      const cur = steps.length ? steps[steps.length - 1] : null;
      r.className = "job-result result-running";
      replaceChildren(
        r,
        el("strong", null, label + " is running…"),
        cur ? (STEP_LABEL[cur.step] || cur.step) + ": " + (cur.what || "") : "Starting",
      );
      return;
    }
    if (job.status === "succeeded") {
      r.className = "job-result result-ok";
      replaceChildren(r, el("strong", null, label + " succeeded"), job.message || "");
      return;
    }
    r.className = "job-result result-failed";
    const failed = steps.find((s) => s.outcome === "failed" && s.step !== "rollback");
    const rb = byName.get("rollback");
    let rollText;
    if (job.rolled_back) {
      rollText =
        "Rolled back: every file was restored from backup " +
        (job.backup || "") +
        "; the TMI folder is as it was before the job.";
    } else if (rb && rb.outcome === "failed") {
      rollText =
        "The rollback did not complete: " +
        (rb.message || "") +
        " Restore the backup " +
        (job.backup || "") +
        " by hand.";
    } else if (job.status === "recovered") {
      rollText = "The job was interrupted and rolled back when tmi-console started again.";
    } else {
      rollText = "No file was changed.";
    }
    replaceChildren(
      r,
      el(
        "strong",
        null,
        job.status === "recovered"
          ? label + " was interrupted"
          : label +
              " failed" +
              (failed ? " at step “" + (STEP_LABEL[failed.step] || failed.step) + "”" : ""),
      ),
      el("div", null, (failed && failed.message) || job.message || ""),
      el("div", { class: "rollback-note" }, rollText),
    );
  }

  async function loadJobsList() {
    let data;
    try {
      data = await api("GET", "/api/jobs");
    } catch (e) {
      if (e.status === 404) {
        state.jobs = [];
        renderJobsTable();
        return;
      }
      throw e;
    }
    state.jobs = (data && data.jobs) || [];
    const running = state.jobs.find((j) => j.status === "running");
    if (running && state.followId !== running.id) {
      state.runningJob = { id: running.id, action: running.action };
      followJob(running.id, running.action);
    } else if (!running && !state.runningJob && state.followId === null && state.jobs.length > 0) {
      // show the last job's result until a new one starts
      state.followId = state.jobs[0].id;
      try {
        renderJob(await api("GET", "/api/jobs/" + state.jobs[0].id));
      } catch (e) {
        // the list is enough
      }
    }
    updateActions();
    renderJobsTable();
  }

  // ---------------------------------------------------------------- backups and jobs

  async function loadBackups() {
    try {
      const data = await api("GET", "/api/backups");
      state.backups = (data && data.backups) || [];
    } catch (e) {
      if (e.status !== 404) showNotice("Cannot list the backups: " + e.message);
      state.backups = [];
    }
    renderBackups();
  }

  function loadBackupsView() {
    loadBackups();
    loadJobsList().catch((e) => showNotice("Cannot list the jobs: " + e.message));
    if (!state.status) refreshStatus(false);
  }

  function versionsSummary(files) {
    const counts = new Map();
    for (const f of files || []) {
      const k = f.present ? f.version || "?" : "absent";
      counts.set(k, (counts.get(k) || 0) + 1);
    }
    return [...counts.entries()].map(([v, n]) => n + " × " + v).join(", ");
  }

  function restoreState(b) {
    const running = jobBlocker();
    if (running) return { ok: false, why: running };
    const scan = state.status && state.status.scan;
    if (!scan || !scan.tmi_dir)
      return { ok: false, why: "No TMI folder was found to restore into." };
    if (b.tmi_dir && b.tmi_dir !== scan.tmi_dir)
      return { ok: false, why: "Taken from another folder (" + b.tmi_dir + ")." };
    const now = new Map((scan.files || []).map((f) => [f.name, f.sha256 || null]));
    const same = (b.files || []).every((f) => (f.present ? f.sha256 : null) === now.get(f.name));
    if (same) return { ok: false, why: "These are the files in place now." };
    return { ok: true, why: "" };
  }

  function renderBackups() {
    const body = $("backups-body");
    $("why-restore").textContent = jobBlocker() || "";
    if (state.backups.length === 0) {
      replaceChildren(
        body,
        el("tr", { class: "empty-row" }, el("td", { colspan: 5 }, "No backups yet.")),
      );
      return;
    }
    replaceChildren(
      body,
      state.backups.map((b) => {
        const rs = restoreState(b);
        const btn = el(
          "button",
          {
            type: "button",
            class: "btn",
            "aria-label": "Restore backup " + b.id,
            title: rs.ok ? null : rs.why,
            onclick: () => confirmRestore(b),
          },
          "Restore",
        );
        btn.disabled = !rs.ok;
        return el(
          "tr",
          { "data-backup": b.id },
          el("td", { class: "mono" }, b.id),
          el("td", null, timeEl(b.created)),
          el("td", { class: "nowrap" }, versionsSummary(b.files)),
          el("td", { class: "path mono" }, b.tmi_dir || ""),
          el("td", null, btn, rs.ok ? null : el("div", { class: "why" }, rs.why)),
        );
      }),
    );
  }

  function renderJobsTable() {
    const body = $("jobs-body");
    if (state.jobs.length === 0) {
      replaceChildren(
        body,
        el("tr", { class: "empty-row" }, el("td", { colspan: 6 }, "No jobs yet.")),
      );
      return;
    }
    replaceChildren(
      body,
      state.jobs.map((j) =>
        el(
          "tr",
          { "data-job": j.id },
          el("td", { class: "num" }, String(j.id)),
          el("td", null, ACTION_LABEL[j.action] || j.action),
          el(
            "td",
            null,
            badge(j.status, j.status),
            j.rolled_back ? " " : null,
            j.rolled_back ? badge("rolled", "rolled back") : null,
          ),
          el("td", null, timeEl(j.created)),
          el("td", null, j.finished ? timeEl(j.finished) : "–"),
          el("td", null, j.message || ""),
        ),
      ),
    );
  }

  // ---------------------------------------------------------------- history

  const FILE_ORDER = [
    "mrf.exe",
    "MRF_CM.dll",
    "libTMI_DataMarshal.dll",
    "libMRF_Entity.dll",
    "libMRF_DM.dll",
    "libMRF_Common.dll",
    "libMRF_CM.dll",
    "libMRF_AP.dll",
  ];

  async function loadHistoryView() {
    if (!state.status) await refreshStatus(false);
    const scan = state.status && state.status.scan;
    const names =
      scan && scan.files && scan.files.length ? scan.files.map((f) => f.name) : FILE_ORDER;
    const sel = $("history-file");
    if (sel.options.length !== names.length) {
      replaceChildren(
        sel,
        names.map((n) => el("option", { value: n }, n)),
      );
    }
    if (state.historyFile && names.includes(state.historyFile)) sel.value = state.historyFile;
    state.historyFile = sel.value;
    loadTimeline(sel.value);
    loadScans(false);
  }

  async function loadTimeline(name) {
    let data;
    try {
      data = await api("GET", "/api/files/" + encodeURIComponent(name) + "/history?limit=500");
    } catch (e) {
      replaceChildren(
        $("timeline"),
        el("p", { class: "error" }, "Cannot read the history: " + e.message),
      );
      return;
    }
    if (name !== state.historyFile) return;
    const obs = ((data && data.items) || [])
      .slice()
      .sort((a, b) => (a.observed < b.observed ? -1 : a.observed > b.observed ? 1 : a.id - b.id));
    drawTimeline(name, obs);
    renderObsTable(obs);
  }

  function clip(t, n) {
    return t.length > n ? "…" + t.slice(t.length - n + 1) : t;
  }

  function laneName(o) {
    if (o.kind === "tmi")
      return { label: "TMI folder", sub: clip(tail(o.path, 2), 30), full: o.path };
    const folder = relToTmi(o.path).split(/[\\/]/).slice(0, -1).join("/");
    return { label: "Source folder", sub: clip(folder, 30), full: o.path };
  }

  /* Draw the history of one file: a row per place it was seen, a column per
   * scan that saw a change, a box per version+hash until the next change. */
  function drawTimeline(name, obs) {
    const box = $("timeline");
    if (obs.length === 0) {
      replaceChildren(
        box,
        el("p", { class: "muted", style: null }, "No observations of " + name + " yet."),
      );
      return;
    }
    const lanes = new Map();
    for (const o of obs) {
      if (!lanes.has(o.path)) lanes.set(o.path, { path: o.path, kind: o.kind, items: [] });
      lanes.get(o.path).items.push(o);
    }
    const laneList = [...lanes.values()].sort(
      (a, b) =>
        (a.kind === "tmi" ? 0 : 1) - (b.kind === "tmi" ? 0 : 1) || (a.path < b.path ? -1 : 1),
    );
    const cols = [];
    const colOf = new Map();
    for (const o of obs) {
      const key = String(o.scan_id);
      if (!colOf.has(key)) {
        colOf.set(key, cols.length);
        cols.push({ scan: o.scan_id, time: o.observed });
      }
    }
    const labelW = 210;
    const avail = Math.max(600, (box.parentElement.clientWidth || 900) - 2);
    const colW = Math.max(150, Math.floor((avail - labelW - 50) / cols.length));
    const width = labelW + cols.length * colW + 50;
    const axisH = 44;
    const laneH = 58;
    const height = axisH + laneList.length * laneH + 10;
    const x0 = labelW;
    const xEnd = labelW + cols.length * colW;

    const g = [];
    // axis: one column per scan that saw a change, then "now"
    cols.forEach((c, i) => {
      const x = x0 + i * colW;
      const t = fmtTime(c.time);
      g.push(svg("line", { class: "tl-grid", x1: x, y1: axisH - 6, x2: x, y2: height - 6 }));
      g.push(svg("text", { class: "tl-tick", x: x + 4, y: 14 }, t.slice(0, 10)));
      g.push(svg("text", { class: "tl-tick", x: x + 4, y: 28 }, t.slice(11) + " · scan " + c.scan));
    });
    g.push(svg("line", { class: "tl-grid", x1: xEnd, y1: axisH - 6, x2: xEnd, y2: height - 6 }));
    g.push(svg("text", { class: "tl-tick", x: xEnd + 4, y: 28 }, "now"));

    const summary = [];
    laneList.forEach((lane, li) => {
      const y = axisH + li * laneH;
      const ln = laneName(lane);
      g.push(
        svg(
          "g",
          null,
          svg("title", null, ln.full),
          svg("text", { class: "tl-lane-label", x: 8, y: y + 24 }, ln.label),
          svg("text", { class: "tl-lane-sub", x: 8, y: y + 40 }, ln.sub),
        ),
      );
      const parts = [];
      lane.items.forEach((o, k) => {
        const c0 = colOf.get(String(o.scan_id));
        const next = lane.items[k + 1];
        const c1 = next ? colOf.get(String(next.scan_id)) : cols.length;
        const x = x0 + c0 * colW + 3;
        const w = Math.max(8, (c1 - c0) * colW - 6);
        const status = o.present ? o.status || "ok" : "missing";
        const version = o.present ? o.version || status : "missing";
        const tip =
          version +
          " (" +
          status +
          ")" +
          (o.sha256 ? "\nSHA-256 " + o.sha256 : "") +
          "\nseen " +
          fmtTime(o.observed) +
          " in scan " +
          o.scan_id +
          "\n" +
          o.path;
        parts.push(version + " (" + status + ") from " + fmtTime(o.observed));
        g.push(
          svg(
            "g",
            {
              class: "tl-seg",
              "data-version": version,
              "data-status": status,
              "data-lane": lane.kind,
            },
            svg("title", null, tip),
            svg("rect", {
              class: "tl-box tl-box-" + status,
              x: x,
              y: y + 8,
              width: w,
              height: laneH - 16,
              rx: 3,
            }),
            svg(
              "text",
              { class: "tl-version", x: x + 8, y: y + 26 },
              version + (status === "old" ? " (old)" : ""),
            ),
            svg(
              "text",
              { class: "tl-hash", x: x + 8, y: y + 41 },
              o.sha256 ? o.sha256.slice(0, 16) + "…" : "",
            ),
          ),
        );
      });
      summary.push(ln.label + ": " + parts.join(", then "));
    });
    const s = svg(
      "svg",
      {
        width: width,
        height: height,
        viewBox: "0 0 " + width + " " + height,
        role: "img",
        "aria-label": "Timeline of " + name + ". " + summary.join(". "),
      },
      g,
    );
    replaceChildren(box, s);
  }

  function renderObsTable(obs) {
    const rows = obs.slice().reverse();
    if (rows.length === 0) {
      replaceChildren(
        $("obs-body"),
        el("tr", { class: "empty-row" }, el("td", { colspan: 5 }, "No observations.")),
      );
      return;
    }
    replaceChildren(
      $("obs-body"),
      rows.map((o) =>
        el(
          "tr",
          null,
          el("td", null, timeEl(o.observed)),
          el(
            "td",
            { class: "path mono", title: o.path },
            o.kind === "tmi" ? "TMI folder" : relToTmi(tail(o.path, 4)),
          ),
          el("td", { class: "mono" }, o.present ? o.version || "–" : "missing"),
          el("td", null, badge(o.present ? o.status : "missing", o.present ? o.status : "missing")),
          el("td", { class: "hash" }, o.sha256 || "–"),
        ),
      ),
    );
  }

  async function loadScans(more) {
    let q = "/api/scans?limit=20";
    if (more && state.scansBefore) q += "&before=" + state.scansBefore;
    let data;
    try {
      data = await api("GET", q);
    } catch (e) {
      showNotice("Cannot list the scans: " + e.message);
      return;
    }
    const rows = ((data && data.items) || []).map((s) =>
      el(
        "tr",
        { "data-scan": s.id },
        el("td", { class: "num" }, String(s.id)),
        el("td", null, timeEl(s.started)),
        el("td", null, badge(s.verdict, s.verdict.replace("_", " "))),
        el("td", { class: "num" }, String(s.changed)),
        el("td", { class: "path mono" }, s.tmi_dir || "–"),
      ),
    );
    const body = $("scans-body");
    if (more) append(body, rows);
    else if (rows.length) replaceChildren(body, rows);
    else
      replaceChildren(
        body,
        el("tr", { class: "empty-row" }, el("td", { colspan: 5 }, "No scans yet.")),
      );
    state.scansBefore = data ? data.next_before : null;
    $("scans-more").hidden = !state.scansBefore;
  }

  // ---------------------------------------------------------------- audit

  /* A datetime-local value ("YYYY-MM-DDThh:mm[:ss]") as UTC ISO text. It is
   * read in the server's local time when the API tells its offset (as every
   * time on the page is shown), else in this browser's. */
  function localToIso(v) {
    if (!v) return null;
    if (state.utcOffsetMin !== null) {
      const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(v);
      if (!m) return null;
      const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
      return new Date(asUtc - state.utcOffsetMin * 60000).toISOString();
    }
    const d = new Date(v); // this browser's local time
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  }

  function auditQuery() {
    const p = new URLSearchParams();
    const action = $("f-action").value.trim();
    const since = localToIso($("f-since").value);
    const until = localToIso($("f-until").value);
    if (action) p.set("action", action);
    if (since) p.set("since", since);
    if (until) p.set("until", until);
    return p;
  }

  function updateExportLinks() {
    const p = auditQuery();
    p.delete("action"); // the exports take the time range only
    const qs = p.toString() ? "?" + p.toString() : "";
    $("exp-audit-csv").href = "/api/export/audit.csv" + qs;
    $("exp-audit-json").href = "/api/export/audit.json" + qs;
    $("exp-history-csv").href = "/api/export/history.csv" + qs;
    $("exp-history-json").href = "/api/export/history.json" + qs;
  }

  async function loadVerify() {
    const c = $("chain");
    try {
      const v = await api("GET", "/api/audit/verify");
      if (v.intact) {
        c.className = "badge badge-intact";
        c.textContent = "✓ Chain verified: " + plural(v.rows, "record", "records") + " intact";
        c.title =
          "head " +
          v.head +
          (v.anchored ? "; matches the copy kept outside the database" : "") +
          (v.unanchored ? "; " + v.unanchored + " newest not yet anchored" : "");
      } else {
        c.className = "badge badge-broken";
        c.textContent =
          "✗ Chain broken" +
          (v.broken_seq ? " at record " + v.broken_seq : "") +
          ": " +
          (v.detail || v.break);
        c.title = v.detail || "";
      }
      c.dataset.intact = String(!!v.intact);
    } catch (e) {
      c.className = "badge badge-unknown";
      c.textContent = "Chain not checked: " + e.message;
    }
  }

  /* The details of an audit row: its message (or short JSON) in view, the
   * whole JSON one click away. */
  function detailsCell(d) {
    const td = el("td", { class: "details-cell" });
    if (d === null || d === undefined) return td;
    const json = typeof d === "string" ? d : JSON.stringify(d);
    let shown = json;
    if (typeof d === "object" && typeof d.message === "string") shown = d.message;
    if (shown.length > 160) shown = shown.slice(0, 160) + "…";
    append(td, [el("span", { class: "details-text" }, shown)]);
    if (shown !== json) {
      append(td, [
        el(
          "details",
          null,
          el("summary", null, "All details"),
          el("pre", { class: "json" }, typeof d === "string" ? d : JSON.stringify(d, null, 2)),
        ),
      ]);
    }
    return td;
  }

  function auditRow(r) {
    const outcome = r.outcome || "";
    return el(
      "tr",
      { "data-seq": r.seq, "data-action": r.action },
      el("td", { class: "num" }, String(r.seq)),
      el("td", null, timeEl(r.time)),
      el("td", null, (r.actor || "?") + (r.auth ? " (" + r.auth + ")" : "")),
      el("td", { class: "mono nowrap" }, r.action || ""),
      el(
        "td",
        { class: "path mono target-cell", title: r.target || null },
        clip(r.target || "", 44),
      ),
      el(
        "td",
        null,
        badge(outcome === "ok" ? "ok" : outcome === "failed" ? "failed" : "unknown", outcome),
      ),
      detailsCell(r.details),
    );
  }

  async function loadAudit(more) {
    const p = auditQuery();
    p.set("limit", "100");
    if (more && state.auditBefore) p.set("before", String(state.auditBefore));
    const err = $("audit-error");
    let data;
    try {
      data = await api("GET", "/api/audit?" + p.toString());
      err.hidden = true;
    } catch (e) {
      err.textContent = "Cannot read the audit trail: " + e.message;
      err.hidden = false;
      return;
    }
    const items = (data && data.items) || [];
    const body = $("audit-body");
    const rows = items.map(auditRow);
    if (more) append(body, rows);
    else if (rows.length) replaceChildren(body, rows);
    else
      replaceChildren(
        body,
        el("tr", { class: "empty-row" }, el("td", { colspan: 7 }, "No records match.")),
      );
    state.auditBefore = data ? data.next_before : null;
    $("audit-more").hidden = !state.auditBefore;
    const names = new Set(KNOWN_ACTIONS);
    for (const r of items) if (r.action) names.add(r.action);
    for (const o of $("action-names").options) names.delete(o.value);
    append(
      $("action-names"),
      [...names].sort().map((n) => el("option", { value: n })),
    );
  }

  function loadAuditView() {
    updateExportLinks();
    loadVerify();
    loadAudit(false);
  }

  // ---------------------------------------------------------------- start

  function setupEvents() {
    window.addEventListener("hashchange", () => route(true));
    for (const b of document.querySelectorAll("button[data-action]")) {
      b.addEventListener("click", () => onActionClick(b.dataset.action));
    }
    $("act-scan").addEventListener("click", () => refreshStatus(true));
    $("logout").addEventListener("click", async () => {
      try {
        await api("DELETE", "/api/session");
      } catch (e) {
        // gone already
      }
      forgetSecret();
      post({ type: "logout" });
      showNotice("");
      showLogin();
    });
    for (const a of document.querySelectorAll("a.export")) {
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        downloadExport(a);
      });
    }
    $("history-file").addEventListener("change", (ev) => {
      state.historyFile = ev.target.value;
      loadTimeline(ev.target.value);
    });
    $("scans-more").addEventListener("click", () => loadScans(true));
    $("audit-filter").addEventListener("submit", (ev) => {
      ev.preventDefault();
      updateExportLinks();
      loadAudit(false);
    });
    $("f-reset").addEventListener("click", () => {
      $("audit-filter").reset();
      updateExportLinks();
      loadAudit(false);
    });
    for (const id of ["f-since", "f-until"]) $(id).addEventListener("change", updateExportLinks);
    $("audit-more").addEventListener("click", () => loadAudit(true));
    setupDialog();
  }

  function tzNote() {
    if (state.utcOffsetMin !== null) {
      $("tz-note").textContent =
        "Times are the server's local time (" + offsetText(state.utcOffsetMin) + ").";
    } else {
      $("tz-note").textContent =
        "Times are this browser's local time (" +
        offsetText(-new Date().getTimezoneOffset()) +
        "); hover a time for UTC.";
    }
  }

  function periodic() {
    setInterval(() => {
      if (!state.signedIn || document.hidden || $("confirm").open) return;
      if (state.view === "status" && !state.runningJob) {
        api("GET", "/api/status")
          .then((st) => {
            state.status = st;
            renderStatus();
          })
          .catch(() => {});
        loadJobsList().catch(() => {});
      }
    }, STATUS_REFRESH_MS);
  }

  /* Sign this tab in with state.secret: read the session, then show the
   * console. A refused secret is forgotten and the sign-in view shown. */
  async function signIn() {
    let sess;
    try {
      sess = await api("GET", "/api/session");
    } catch (e) {
      tzNote();
      if (e.status === 401) {
        forgetSecret();
        showLogin();
      } else {
        showNotice("Cannot reach the server: " + e.message);
      }
      return;
    }
    if (state.signedIn) return; // signed in meanwhile (a login in another tab)
    state.signedIn = true;
    state.user = sess.user || "";
    if (typeof sess.utc_offset_minutes === "number") state.utcOffsetMin = sess.utc_offset_minutes;
    tzNote();
    showNotice("");
    $("who-name").textContent = state.user;
    $("who").hidden = false;
    $("tabs").hidden = false;
    route(false);
    if (state.view !== "status") refreshStatus(false);
    loadJobsList().catch(() => {});
    loadBackups();
  }

  async function start() {
    setupEvents();
    renderIdleJob();
    openChannel();
    periodic();
    if (loginSecret) {
      keepSecret(loginSecret);
      post({ type: "login", secret: loginSecret });
    }
    const secret = state.secret || storedSecret() || (await askPeers());
    if (!secret) {
      tzNote();
      showLogin();
      return;
    }
    keepSecret(secret);
    await signIn();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
