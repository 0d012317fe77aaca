// harness.mjs - what the browser tests share: run `tmi-console demo` (which
// serves the console on a fresh faulty sandbox), drive Debian's Chromium
// through playwright-core, watch every request and every console message,
// and save screenshots to tests/e2e/artifacts/.
//
// Environment:
//   TMI_CONSOLE_BIN  the tmi-console binary (default: build/server/tmi-console)
//   TMI_CHROMIUM     the browser (default: /usr/bin/chromium)
//   TMI_E2E_KEEP=1   keep the temporary folders (data, sandbox) after the run

import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "..", "..");
export const artifacts = path.join(here, "artifacts");

export const SERVICE_NAME = "TrendMicro Infrastructure";
export const SERVER_TZ = "Asia/Tokyo";
export const TMI_REL = path.join("Program Files (x86)", "Trend Micro", "COMMON", "TMI");

export function binary() {
  const bin = process.env.TMI_CONSOLE_BIN || path.join(repoRoot, "build", "server", "tmi-console");
  if (!fs.existsSync(bin)) {
    throw new Error(`tmi-console not found at ${bin}: build it, or set TMI_CONSOLE_BIN`);
  }
  return path.resolve(bin);
}

/* A fresh temporary folder, removed by cleanup() unless TMI_E2E_KEEP is set. */
export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function cleanup(dir) {
  if (!dir) return;
  if (process.env.TMI_E2E_KEEP) {
    process.stderr.write(`kept ${dir}\n`);
    return;
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return false;
  }
}

/* Stop the sandbox's service if something left it running (the demo stops
 * it when it ends; this is for a demo that died). Only the process the
 * sandbox itself records is touched. */
export function stopSandboxService(root) {
  const pidFile = path.join(root, ".services", `${SERVICE_NAME}.pid`);
  let pid = 0;
  try {
    pid = Number.parseInt(fs.readFileSync(pidFile, "utf8"), 10);
  } catch (e) {
    return;
  }
  if (pid > 0 && alive(pid)) {
    try {
      process.kill(pid, "SIGTERM");
    } catch (e) {
      // gone meanwhile
    }
  }
}

/*
 * Run `tmi-console --data DATA demo --dir ROOT` (serving on a free port) in
 * a fresh temporary folder and wait for its one-time login URL. Returns
 * {url, base, root, data, work, stop, output}; stop() ends the demo (SIGTERM,
 * as Ctrl+C), makes sure the sandbox's service is gone and removes the folder.
 */
export async function startDemo(name) {
  const work = tempDir(`tmi-e2e-${name}-`);
  const data = path.join(work, "data");
  const root = path.join(work, "sandbox");
  return runServer(work, root, ["--data", data, "demo", "--dir", root, "--file-size", "65536"]);
}

/*
 * Make a demo sandbox (`demo --no-serve`) and run `tmi-console serve` on it
 * with extra options (e.g. --auto-repair 120), which `demo` does not take.
 * Returns what startDemo returns, plus restart(): stop the server and start
 * it again on the same port and data folder (a new login URL in .url).
 */
export async function startServe(name, extra = []) {
  const work = tempDir(`tmi-e2e-${name}-`);
  const data = path.join(work, "data");
  const root = path.join(work, "sandbox");
  execFileSync(binary(), ["--data", data, "demo", "--no-serve", "--dir", root, "--file-size", "65536"], {
    stdio: "ignore",
  });
  const args = (port) => ["--data", data, "serve", "--root", root, "--port", String(port), ...extra];
  const srv = await runServer(work, root, args(0), { keepWork: true });
  srv.restart = async () => {
    const port = new URL(srv.base).port;
    await srv.halt();
    const again = await runServer(work, root, args(port), { keepWork: true });
    Object.assign(srv, { url: again.url, proc: again.proc, halt: again.halt, output: again.output });
    return srv;
  };
  srv.stop = async () => {
    await srv.halt();
    stopSandboxService(root);
    cleanup(work);
  };
  return srv;
}

/* Run the server command args (demo or serve) in work and wait for its
 * login URL; opts.keepWork leaves the folder to the caller. */
async function runServer(work, root, args, opts = {}) {
  const bin = binary();
  // the server runs in Tokyo (UTC+09:00, no daylight saving time) and the
  // browser in New York (launchBrowser): the page must show the server's time
  const proc = spawn(bin, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, TZ: SERVER_TZ },
  });
  let out = "";
  let err = "";
  proc.stdout.setEncoding("utf8");
  proc.stderr.setEncoding("utf8");
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (err += d));
  const exited = new Promise((resolve) =>
    proc.on("exit", (code, signal) => resolve({ code, signal })),
  );

  let halted = null;
  // end the server process (SIGTERM, as Ctrl+C)
  const halt = async () => {
    if (halted) return halted;
    halted = (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGCONT"); // in case a test paused it
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), 20000);
        await exited;
        clearTimeout(t);
      }
    })();
    return halted;
  };
  const stop = async () => {
    await halt();
    if (opts.keepWork) return;
    stopSandboxService(root);
    cleanup(work);
  };

  let url;
  try {
    url = await new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => done(new Error("no login URL within 30 s")), 30000);
      const check = () => {
        const m = out.match(
          /^login \(one-time[^)]*\): (http:\/\/127\.0\.0\.1:\d+\/login\?code=[0-9a-f]+)$/m,
        );
        if (m) done(null, m[1]);
      };
      function done(e, v) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        proc.stdout.off("data", check);
        if (e) reject(new Error(`${e.message}\n--- demo stdout\n${out}\n--- demo stderr\n${err}`));
        else resolve(v);
      }
      proc.stdout.on("data", check);
      exited.then((x) => done(new Error(`demo exited (${x.code ?? x.signal}) before serving`)));
      check();
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const base = new URL(url).origin;
  const data = args[args.indexOf("--data") + 1];
  return { url, base, root, data, work, proc, halt, stop, output: () => out + err };
}

/* A fresh one-time login URL for a running demo (`tmi-console login-url`). */
export function loginUrl(demo) {
  const out = execFileSync(binary(), ["--data", demo.data, "login-url"], { encoding: "utf8" });
  const m = out.match(/http:\/\/127\.0\.0\.1:\d+\/login\?code=[0-9a-f]+/);
  if (!m) throw new Error(`login-url printed no URL: ${out}`);
  return m[0];
}

/* GET an API path of a running demo with the API token, as a script would;
 * the tests read what the server knows (the files, each action's steps)
 * from the API rather than restating it. */
export async function apiGet(demo, apiPath) {
  const token = execFileSync(binary(), ["--data", demo.data, "token"], { encoding: "utf8" }).trim();
  const res = await fetch(demo.base + apiPath, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${apiPath}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/*
 * Launch Chromium with a fresh profile. viewport: {width, height}, scale: the
 * device scale factor (1.25 stands for 125 % zoom). Returns {context,
 * firstPage, close}: firstPage() is the window the browser opened with.
 */
export async function launchBrowser(opts = {}) {
  const profile = tempDir("tmi-e2e-profile-");
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.TMI_CHROMIUM || "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: opts.viewport || { width: 1366, height: 768 },
      deviceScaleFactor: opts.scale || 1,
      isMobile: !!opts.mobile,
      hasTouch: !!opts.mobile,
      acceptDownloads: true,
      locale: "en-US",
      timezoneId: opts.timezoneId || "America/New_York",
    });
  } catch (e) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  context.setDefaultTimeout(15000);
  return {
    context,
    firstPage: async () => context.pages()[0] || (await context.newPage()),
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/*
 * Record what a page does that a test must not let pass: a request to any
 * origin but base, a JavaScript error, a console error or warning. Call
 * assertClean() at the end of a test (and whenever it matters).
 */
export function watchPage(page, base) {
  const problems = [];
  const requests = [];
  page.on("request", (r) => {
    const u = r.url();
    requests.push(r.method() + " " + u);
    if (!(u === base || u.startsWith(base + "/")))
      problems.push(`request to a foreign origin: ${r.method()} ${u}`);
  });
  page.on("pageerror", (e) => problems.push(`JavaScript error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning")
      problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("crash", () => problems.push("the page crashed"));
  return {
    problems,
    requests,
    assertClean() {
      if (problems.length) throw new Error("the page misbehaved:\n  " + problems.join("\n  "));
    },
  };
}

export async function screenshot(page, name, opts = {}) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({
    path: path.join(artifacts, `${name}.png`),
    fullPage: opts.fullPage !== false,
  });
}

/* Put the sandbox's TMI service program to /bin/false: it then starts and
 * stops at once even with the good files, so a repair must roll back.
 * Returns a function that puts the real program back. */
export function breakSandboxService(root) {
  const svc = path.join(root, ".services", `${SERVICE_NAME}.svc`);
  const text = fs.readFileSync(svc, "utf8");
  const lines = text.split("\n");
  const i = lines.findIndex((l) => l.startsWith("arg="));
  if (i < 0) throw new Error(`${svc}: no program line`);
  lines[i] = "arg=/bin/false";
  fs.writeFileSync(svc, lines.join("\n"));
  return () => fs.writeFileSync(svc, text);
}

/* Minimal CSV parser (RFC 4180: quotes, doubled quotes, CRLF or LF). */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = "";
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        q = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      q = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else {
      field += c;
    }
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

// ---------------------------------------------------------------- page checks

const AXE = path.join(here, "node_modules", "axe-core", "axe.min.js");
let axeSource = null;

/* Run axe-core (npm, pinned by the lock file) on the page as it is: the
 * WCAG 2.x A and AA rules and axe's best practices. Returns the violations
 * as "rule: selector | selector" lines. The script is evaluated through
 * the DevTools protocol, which the page's CSP does not govern. */
export async function axeViolations(page) {
  if (axeSource === null) axeSource = fs.readFileSync(AXE, "utf8");
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axeSource + ";0");
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: {
        type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
      },
    });
    return r.violations.map(
      (v) => v.id + ": " + v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(" | "),
    );
  });
}

/* Elements that reach past the right edge of the window (the page would
 * scroll sideways); tables and the timeline scroll inside their own box. */
export async function overflowing(page) {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out = [];
    if (document.documentElement.scrollWidth > w + 1)
      out.push("page " + document.documentElement.scrollWidth + " > " + w);
    for (const e of document.querySelectorAll("body *")) {
      if (e.closest(".table-wrap, .tl-scroll, [hidden]") || e.getClientRects().length === 0) continue;
      if (e.getBoundingClientRect().right > w + 1)
        out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + e.className);
    }
    return out.slice(0, 8);
  });
}

/* Controls a finger must hit that are smaller than 44 x 44 CSS px. */
export async function smallTargets(page) {
  return page.evaluate(() => {
    const out = [];
    const sel = "button, select, input, .tabs a, a.job-link, a.btn, summary, [role=button]";
    for (const e of document.querySelectorAll(sel)) {
      if (e.closest("[hidden]") || e.getClientRects().length === 0) continue;
      const r = e.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.height < 43.5 || r.width < 43.5)
        out.push(`${e.tagName.toLowerCase()}#${e.id}.${e.className} ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    return out.slice(0, 8);
  });
}
