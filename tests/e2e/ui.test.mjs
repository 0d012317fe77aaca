// ui.test.mjs - the web console in a real browser (headless Chromium), on the
// sandbox `tmi-console demo` makes: log in with the one-time URL, see the
// fault, repair it and watch the steps, find it in the audit trail (grouped
// by job) and the file history (placed by time), export the audit as CSV,
// restore an old backup (the service then fails: amber, not green); a
// repair that fails and rolls back; logging out (and Back); every view at
// 1366x900 and 390x844 (axe-core, no sideways scrolling at 360 and 390 px,
// 44 px targets, screenshots); the server stopping and coming back; the
// automatic repair's countdown. Every page is watched: a request to another
// origin, a JavaScript error or a console error fails the test.
//
// Cases that need the server side of job outcomes and reports (job summary,
// the audit's job filter, the HTML reports and login page, offline verify)
// are in outcomes.test.mjs.
//
//   node --test            (from tests/e2e, after npm ci)

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import {
  TMI_REL,
  apiGet,
  axeViolations,
  breakSandboxService,
  launchBrowser,
  loginUrl,
  overflowing,
  parseCsv,
  screenshot,
  smallTargets,
  startDemo,
  startServe,
  watchPage,
} from "./harness.mjs";

// What the server knows, read from its API (GET /api/plan) when a demo
// starts: the playbook's files and each action's steps in the order its
// job runs them.
let FILES = [];
let STEPS = {};

async function readProcedure(demo) {
  const plan = await apiGet(demo, "/api/plan");
  FILES = plan.playbook_files;
  STEPS = plan.steps;
  assert.equal(FILES.length, 8, `playbook files: ${FILES}`);
}

/* The steps an action runs when nothing fails (the rollback runs only on
 * failure). */
const stepsOk = (action) => STEPS[action].filter((s) => s !== "rollback");

/* Every control a keyboard or a screen reader reaches has a name. */
async function unnamedControls(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const e of document.querySelectorAll(
      "button, a[href], input, select, textarea, [tabindex]",
    )) {
      if (e.closest("[hidden]") || e.getAttribute("tabindex") === "-1") continue;
      let name = (e.getAttribute("aria-label") || "").trim();
      if (!name && e.getAttribute("aria-labelledby")) {
        name = e
          .getAttribute("aria-labelledby")
          .split(/\s+/)
          .map((id) => (document.getElementById(id) || {}).textContent || "")
          .join(" ")
          .trim();
      }
      if (!name && e.labels && e.labels.length) name = e.labels[0].textContent.trim();
      if (!name && (e.tagName === "BUTTON" || e.tagName === "A")) name = e.textContent.trim();
      if (!name) bad.push(e.outerHTML.slice(0, 100));
    }
    return bad;
  });
}

/* The browser logs each request the stopped server did not answer: those
 * are expected here, anything else still fails the test. */
function forgiveFailedRequests(w, refused) {
  const re = refused
    ? /Failed to load resource: (net::ERR_|the server responded with a status of 401)/
    : /Failed to load resource: net::ERR_/;
  const rest = w.problems.filter((p) => !re.test(p));
  w.problems.splice(0, w.problems.length, ...rest);
  w.assertClean();
}

/* What a signed-out page shows besides "Signed out" and how to sign in
 * again: [] when nothing (no data of the session, no notice in API words). */
async function signedOutOnly(page) {
  return page.evaluate(() => {
    const bad = [];
    const shown = (e) => e && !e.closest("[hidden]") && e.getClientRects().length > 0;
    if (!shown(document.getElementById("view-login"))) bad.push("the sign-in view is not shown");
    if (!/^Signed out$/.test(document.getElementById("login-title").textContent))
      bad.push("title: " + document.getElementById("login-title").textContent);
    for (const e of document.querySelectorAll("main > .view, #notice, #conn, #tabs, #who"))
      if (e.id !== "view-login" && shown(e)) bad.push(e.id + " is shown");
    const text = document.body.textContent;
    for (const word of ["No backups yet", "Bearer", "Healthy", "affected", "Job 1"])
      if (text.includes(word)) bad.push("the page still holds “" + word + "”");
    return bad;
  });
}

/* Tick labels of the timeline's axis that overlap one another. */
async function overlappingTicks(page) {
  return page.evaluate(() => {
    const boxes = [...document.querySelectorAll("#timeline svg text.tl-tick")].map((t) => {
      const b = t.getBBox();
      return { x0: b.x, x1: b.x + b.width, y: Math.round(b.y), text: t.textContent };
    });
    const bad = [];
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i];
        const b = boxes[j];
        if (a.y === b.y && a.x0 < b.x1 && b.x0 < a.x1) bad.push(a.text + " / " + b.text);
      }
    return bad;
  });
}

async function noHorizontalScroll(page) {
  return page.evaluate(
    () => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1,
  );
}

async function bannerVerdict(page) {
  return page.locator("#banner").getAttribute("data-verdict");
}

/* Follow a job in the job panel until it ends; returns the top of the files
 * card at each poll while the job runs (it must not move: the panel keeps
 * its space while its steps and messages change). */
async function watchJob(page, timeoutMs) {
  const tops = new Set();
  const seen = new Set();
  const end = Date.now() + timeoutMs;
  for (;;) {
    const st = await page.evaluate(() => {
      const job = document.getElementById("job");
      const files = document.getElementById("files-title").closest(".card");
      const running = [...document.querySelectorAll("#job-steps li[data-outcome=running]")].map(
        (li) => li.dataset.step,
      );
      return {
        status: job.dataset.status,
        top: Math.round(files.getBoundingClientRect().top + window.scrollY),
        running,
      };
    });
    if (st.status && st.status !== "running") return { status: st.status, tops, seen };
    if (st.status === "running") tops.add(st.top);
    for (const s of st.running) seen.add(s);
    if (Date.now() > end) throw new Error(`the job did not end within ${timeoutMs} ms`);
    await page.waitForTimeout(150);
  }
}

/* Click an action's button, check its dialog's lead, confirm, and follow the
 * job to its end (it must succeed). */
async function runAction(page, action, lead) {
  await page.locator(`#act-${action}`).click();
  await page.locator("#confirm").waitFor({ state: "visible" });
  await page.waitForFunction(() => !document.getElementById("confirm-ok").disabled);
  assert.match(await page.locator("#confirm-lead").innerText(), lead);
  await page.locator("#confirm-ok").click();
  await page.locator("#confirm").waitFor({ state: "hidden" });
  const run = await watchJob(page, 60000);
  assert.equal(run.status, "succeeded", await page.locator("#job-result").innerText());
  await page.locator("#act-scan:not([disabled])").waitFor();
}

describe("the demo, repaired through the web console", () => {
  let demo;
  let browser;
  let page;
  let watch;

  before(async () => {
    demo = await startDemo("repair");
    await readProcedure(demo);
    browser = await launchBrowser();
    page = await browser.firstPage();
    watch = watchPage(page, demo.base);
  });

  after(async () => {
    if (browser) await browser.close();
    if (demo) await demo.stop();
  });

  it("shows how to log in when there is no session", async () => {
    await page.goto(demo.base + "/");
    await page.locator("#view-login").waitFor({ state: "visible" });
    assert.match(await page.locator("#view-login").innerText(), /not signed in/);
    assert.match(await page.locator("#view-login").innerText(), /tmi-console login-url/);
    assert.equal(await page.locator("#tabs").isVisible(), false);
    await screenshot(page, "01-login-needed");
    await page.setViewportSize({ width: 1366, height: 900 });
    assert.deepEqual(await axeViolations(page), [], "axe: the sign-in view");
    await screenshot(page, "view-login-1366");
    await page.setViewportSize({ width: 1366, height: 768 });
    // with nothing to sign in with, the page does not even ask the API
    assert.deepEqual(
      watch.requests.filter((r) => r.includes("/api/")),
      [],
    );
    watch.assertClean();
  });

  it("logs in with the one-time URL and shows the fault", async () => {
    await page.goto(demo.url);
    assert.equal(
      page.url(),
      demo.base + "/",
      "the login redirects to / (the code leaves the address bar)",
    );
    await page.locator("#banner[data-verdict=affected]").waitFor();
    const banner = await page.locator("#banner").innerText();
    assert.match(banner, /The TMI service cannot run/);
    assert.match(banner, /8 of 8 files are the old 1\.12\.0\.1156 version/);
    assert.match(banner, /needs 1\.12\.0\.1266/);
    // the evidence: the service failed and event 800 was logged
    await page.locator("#ev-service.badge-stopped").waitFor();
    assert.match(
      await page.locator("#ev-event").innerText(),
      /Event 800 from Trend Micro Control Manager/,
    );
    assert.match(await page.locator("#ev-event").innerText(), /errcode=-107/);
    assert.match(
      await page.locator("#note-version").innerText(),
      /not a vulnerable build.*incompatible with Control Manager 6\.0 SP3 or later/s,
    );
    // the eight files, expected vs found
    const rows = page.locator("#files-body tr");
    assert.equal(await rows.count(), 8);
    for (const name of FILES) {
      const row = page.locator(`#files-body tr[data-file="${name}"]`);
      const text = await row.innerText();
      assert.match(text, /1\.12\.0\.1266\s+1\.12\.0\.1156\s+old/, `${name}: ${text}`);
    }
    assert.match(await page.locator("#source-summary").innerText(), /is_backup\/filegroup100/);
    // what applies and what does not, with the reason in words
    assert.equal(await page.locator("#act-repair").isEnabled(), true);
    assert.equal(await page.locator("#act-restart").isDisabled(), true);
    assert.match(
      await page.locator("#why-restart").innerText(),
      /cannot help while the files are old/,
    );
    assert.match(await page.locator("#act-restart").getAttribute("title"), /cannot help/);
    // times in the server's local time with its offset (the server runs in
    // Tokyo, the browser in New York)
    assert.match(
      await page.locator("#watch-line").innerText(),
      /^Checked (just now|\d+ s ago), when the server started: scan \d+ at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+09:00\. Watching \d+ folder\(s\) for changes/,
    );
    assert.equal(await page.locator("#watch-warn").isVisible(), false, "watching works");
    assert.match(await page.locator("#tz-note").innerText(), /server's local time \(UTC\+09:00\)/);
    assert.deepEqual(await unnamedControls(page), []);
    await screenshot(page, "02-status-affected");
    watch.assertClean();
  });

  it("keeps the session's two parts apart: an HttpOnly cookie of this port, a secret in the tab", async () => {
    const port = new URL(demo.base).port;
    const cookies = await browser.context.cookies(demo.base);
    assert.deepEqual(
      cookies.map((c) => [c.name, c.httpOnly, c.sameSite]),
      [[`tmi_session_${port}`, true, "Strict"]],
    );
    assert.equal(await page.evaluate(() => document.cookie), "", "the page cannot read the cookie");
    const secret = await page.evaluate(() => sessionStorage.getItem("tmi-console.secret"));
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.notEqual(secret, cookies[0].value);
    assert.ok(!page.url().includes(secret), "the secret left the address bar");
    // every API call carries it
    const req = page.waitForRequest((r) => r.url().endsWith("/api/status"));
    await page.locator("#act-scan").click();
    assert.equal((await req).headers()["x-tmi-secret"], secret);
    await page.locator("#act-scan:not([disabled])").waitFor();
    watch.assertClean();
  });

  it("stays signed in across a reload", async () => {
    await page.reload();
    await page.locator("#banner[data-verdict=affected]").waitFor();
    assert.equal(await page.locator("#view-login").isVisible(), false);
    assert.equal(page.url(), demo.base + "/");
    watch.assertClean();
  });

  it("signs a second tab in through the open one", async () => {
    const tab = await browser.context.newPage();
    const tabWatch = watchPage(tab, demo.base);
    await tab.goto(demo.base + "/#history");
    await tab.locator("#view-history").waitFor({ state: "visible" });
    assert.equal(await tab.locator("#view-login").isVisible(), false);
    assert.equal(
      await tab.evaluate(() => sessionStorage.getItem("tmi-console.secret")),
      await page.evaluate(() => sessionStorage.getItem("tmi-console.secret")),
    );
    await tab.locator("#timeline svg").waitFor();
    await screenshot(tab, "02b-second-tab");
    tabWatch.assertClean();
    await tab.close();
    watch.assertClean();
  });

  it("fits a 1366x768 screen at 125 % zoom", async () => {
    await page.setViewportSize({ width: 1093, height: 614 }); // 1366x768 CSS pixels / 1.25
    assert.ok(await noHorizontalScroll(page), "no horizontal scrolling at 125 %");
    const box = await page.locator("#act-repair").boundingBox();
    assert.ok(box && box.y + box.height < 614, "the Repair button is on the first screen");
    await screenshot(page, "03-status-125pct", { fullPage: false });
    await page.setViewportSize({ width: 1366, height: 768 });
  });

  it("confirms the plan, shows every step while the repair runs, and ends healthy", async () => {
    // by keyboard: focus Repair, Enter
    await page.locator("#act-repair").focus();
    await page.keyboard.press("Enter");
    const dialog = page.locator("#confirm");
    await dialog.waitFor({ state: "visible" });
    await page.locator("#plan-table tbody tr").first().waitFor();
    assert.equal(await page.locator("#plan-table tbody tr").count(), 8);
    const plan = await page.locator("#plan-table").innerText();
    assert.match(plan, /mrf\.exe\s+1\.12\.0\.1156\s+1\.12\.0\.1266/);
    assert.match(plan, /is_backup\/filegroup100\/mrf\.exe/);
    assert.equal(
      await page.locator("#plan-source").innerText(),
      path.join(demo.root, TMI_REL, "is_backup", "filegroup100"),
    );
    assert.equal(await page.locator("#plan-tmidir").innerText(), path.join(demo.root, TMI_REL));
    // Cancel has the focus first: an Enter by mistake changes nothing
    assert.equal(await page.evaluate(() => document.activeElement.id), "confirm-cancel");
    await screenshot(page, "04-repair-confirm", { fullPage: false });
    await page.locator("#confirm-ok").click();
    await dialog.waitFor({ state: "hidden" });

    await page.locator("#job[data-status=running]").waitFor();
    assert.equal(
      await page.locator("#act-backup").isDisabled(),
      true,
      "no second job while one runs",
    );
    assert.match(await page.locator("#why-backup").innerText(), /is running: wait/);
    // the service must stay up for 5 s: the start step is seen running, and
    // its elapsed time counts up
    await page
      .locator("#job-steps li[data-step=start][data-outcome=running]")
      .waitFor({ timeout: 20000 });
    const ms0 = Number(await page.locator("#job-elapsed").getAttribute("data-ms"));
    // the banner follows the job, not the scan from before it
    assert.equal(await page.locator("#banner").getAttribute("data-state"), "job");
    assert.match(await page.locator("#banner-title").innerText(), /^Repair running: Start service$/);
    assert.match(await page.locator("#files-note").innerText(), /Job \d+ is changing these files/);
    await screenshot(page, "05-repair-running", { fullPage: false });
    await page.waitForTimeout(1200);
    const el = page.locator("#job-elapsed");
    if (await el.count()) {
      const ms1 = Number(await el.getAttribute("data-ms"));
      assert.ok(ms1 >= ms0 + 900, `the elapsed time counts: ${ms0} then ${ms1}`);
      assert.match(await page.locator("#job-result").innerText(), /\d+\.\d s so far/);
    }
    const run = await watchJob(page, 60000);
    assert.equal(run.status, "succeeded");
    assert.equal(
      run.tops.size,
      1,
      `the page below the job panel moved while polling: ${[...run.tops]}`,
    );
    // the panel shows the steps as the server lists them, in its order
    assert.deepEqual(
      await page.locator("#job-steps li").evaluateAll((lis) => lis.map((li) => li.dataset.step)),
      STEPS.repair,
    );
    for (const step of stepsOk("repair")) {
      assert.equal(
        await page.locator(`#job-steps li[data-step=${step}]`).getAttribute("data-outcome"),
        "ok",
        step,
      );
    }
    assert.match(await page.locator("#job-result").innerText(), /Repair succeeded/);
    assert.equal(await page.locator("#job").getAttribute("data-outcome"), "ok");
    const job = (await apiGet(demo, "/api/jobs")).jobs[0];
    assert.match(
      await page.locator("#job-links a[data-link=backup]").innerText(),
      new RegExp("Backup " + job.backup.replace(/[.]/g, "\\.")),
    );
    // every step's whole text, without a tooltip: the backup folder in full
    await page.locator("#job-details > summary").click();
    assert.match(
      await page.locator("#job-details-body tr[data-step=backup]").innerText(),
      new RegExp(path.join(demo.data, "backups", job.backup).replace(/[.()]/g, "\\$&")),
    );
    await page.locator("#job-details > summary").click();

    await page.locator("#banner[data-verdict=healthy]").waitFor();
    assert.match(await page.locator("#banner-title").innerText(), /^Healthy$/);
    await page.locator("#ev-service.badge-running").waitFor();
    assert.match(
      await page.locator("#banner-detail").innerText(),
      /All 8 TMI files are at 1\.12\.0\.1266 and the TMI service is running/,
    );
    for (const name of FILES) {
      assert.match(
        await page.locator(`#files-body tr[data-file="${name}"]`).innerText(),
        /1\.12\.0\.1266\s+1\.12\.0\.1266\s+ok/,
      );
    }
    assert.equal(await page.locator("#act-repair").isDisabled(), true);
    assert.match(await page.locator("#why-repair").innerText(), /Nothing to repair/);
    assert.equal(await page.locator("#banner-job").isVisible(), false, "no note: all went well");
    // the whole SHA-256, for keyboard and touch too
    const mrfRow = page.locator('#files-body tr[data-file="mrf.exe"]');
    assert.equal(await mrfRow.locator(".hash-full").isVisible(), false);
    await page.locator("#files-hashes").click();
    assert.match(await mrfRow.locator(".hash-full").innerText(), /^[0-9a-f]{64}$/);
    await page.locator("#files-hashes").click();
    await screenshot(page, "06-status-healthy");
    // the sandbox agrees: the TMI folder holds the good set now
    const mrf = fs.readFileSync(path.join(demo.root, TMI_REL, "mrf.exe"));
    const good = fs.readFileSync(
      path.join(demo.root, TMI_REL, "is_backup", "filegroup100", "mrf.exe"),
    );
    assert.ok(mrf.equals(good), "mrf.exe was replaced by the good copy");
    watch.assertClean();
  });

  it("lists the backup with a Restore that says what it would put back", async () => {
    await page.locator("#tab-backups").click();
    await page.locator("#backups-body tr[data-backup]").first().waitFor();
    const row = page.locator("#backups-body tr[data-backup]").first();
    assert.match(await row.innerText(), /8 × 1\.12\.0\.1156/);
    await page.locator("#jobs-body tr[data-job]").first().waitFor();
    const jobRow = page.locator("#jobs-body tr[data-job]").first();
    // who ran it, in a column of its own; what it changed; its links
    assert.match(await jobRow.innerText(), /Repair\s+succeeded\s+root \(session\)/);
    assert.equal(await jobRow.locator(".badge-job-ok").count(), 1);
    assert.equal(await jobRow.locator("a[data-link=audit]").count(), 1);
    assert.equal(await jobRow.locator("button[data-report]").count(), 1);
    const restore = row.getByRole("button", { name: /Restore backup/ });
    assert.equal(await restore.isEnabled(), true);
    await restore.click();
    await page.locator("#confirm").waitFor({ state: "visible" });
    assert.match(await page.locator("#confirm-lead").innerText(), /holds old files/);
    assert.match(
      await page.locator("#confirm-body").innerText(),
      /mrf\.exe\s+1\.12\.0\.1266\s+1\.12\.0\.1156/,
    );
    await screenshot(page, "07-restore-confirm", { fullPage: false });
    await page.keyboard.press("Escape");
    await page.locator("#confirm").waitFor({ state: "hidden" });
    await screenshot(page, "08-backups");
    watch.assertClean();
  });

  it("links the job to its backup", async () => {
    await page.locator("#tab-status").click();
    const link = page.locator("#job-links a[data-link=backup]");
    const id = (await link.innerText()).replace(/^Backup /, "");
    await link.click();
    await page.locator("#view-backups").waitFor({ state: "visible" });
    assert.match(page.url(), /#backups\?backup=/);
    await page.locator("#backups-body tr.row-chosen").waitFor();
    assert.equal(await page.locator("#backups-body tr.row-chosen").getAttribute("data-backup"), id);
    watch.assertClean();
  });

  it("finds the repair in the audit trail, with the chain verified", async () => {
    await page.locator("#tab-audit").click();
    await page.locator("#chain.badge-intact").waitFor();
    assert.match(await page.locator("#chain").innerText(), /Chain verified: \d+ records intact/);
    await page.locator("#audit-body tr[data-action=repair]").first().waitFor();
    // the job's records are one group under its own record
    const head = page.locator("#audit-body tr.group-head[data-action=repair]");
    assert.equal(await head.count(), 1);
    const jobId = await head.getAttribute("data-job");
    const members = page.locator(`#audit-body tr.group-row[data-job="${jobId}"]`);
    assert.ok((await members.count()) >= 8, "the steps and scans of the job");
    assert.equal(await members.first().isVisible(), false, "folded at first");
    const toggle = head.locator("button.group-toggle");
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    await toggle.click();
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");
    assert.equal(await members.first().isVisible(), true);
    assert.ok(await page.locator(`#audit-body tr.group-row[data-action="repair.commit"]`).isVisible());
    // details as fields, not JSON; one meaning per column
    const scanRow = page.locator("#audit-body tr[data-action=scan]").last();
    const details = await scanRow.locator(".details-cell").innerText();
    assert.match(details, /Scan\s+scan \d+/);
    assert.match(details, /Verdict\s+affected/);
    assert.doesNotMatch(details, /[{]"scan_id"/);
    const login = page.locator("#audit-body tr[data-action=login]").first();
    assert.equal((await login.locator(".folder-cell").innerText()).trim(), "", "no folder");
    assert.match(await login.locator(".details-cell").innerText(), /Signed in to\s+web/);
    assert.match(await page.locator("#audit-table thead").innerText(), /Who\s+Signed in by\s+Action\s+Outcome\s+Folder\s+Details/);
    for (const a of [
      "repair",
      "repair.preflight",
      "repair.backup",
      "repair.commit",
      "repair.start",
      "login",
      "scan",
    ]) {
      assert.ok(
        (await page.locator(`#audit-body tr[data-action="${a}"]`).count()) > 0,
        `audit row ${a}`,
      );
    }
    assert.match(
      await page.locator("#audit-body tr[data-action=repair]").first().innerText(),
      /repair\s.*ok/s,
    );
    // filter by action
    await page.locator("#f-action").fill("repair");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("#audit-body tr[data-action]")];
      return rows.length > 0 && rows.every((r) => r.dataset.action === "repair");
    });
    // a time range that holds nothing, typed as the table shows times: in
    // the server's local time, which the labels say
    assert.match(await page.locator("label[for=f-since]").innerText(), /server time, UTC\+09:00/);
    await page.locator("#f-action").fill("");
    await page.locator("#f-since").fill("2001-13-01");
    await page.getByRole("button", { name: "Apply" }).click();
    assert.equal(await page.locator("#f-since").getAttribute("aria-invalid"), "true");
    assert.match(await page.locator("#audit-error").innerText(), /is not a time like/);
    await page.locator("#f-since").fill("2001-01-01 00:00");
    await page.locator("#f-until").fill("2001-01-02 00:00:00");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator("#audit-body tr.empty-row").waitFor();
    assert.equal(await page.locator("#audit-error").isVisible(), false);
    assert.match(
      await page.locator("#exp-audit-csv").getAttribute("href"),
      /since=2000-12-31T15%3A00%3A00\.000Z/,
    );
    await page.locator("#f-reset").click();
    await page.locator("#audit-body tr[data-action=repair]").first().waitFor();
    await screenshot(page, "09-audit");
    watch.assertClean();
  });

  it("exports the audit trail as CSV", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.locator("#exp-audit-csv").click(),
    ]);
    const file = await download.path();
    const rows = parseCsv(fs.readFileSync(file, "utf8")).filter((r) => r.length > 1);
    const head = rows[0];
    assert.deepEqual(head.slice(0, 6), ["seq", "time", "time_ns", "actor", "auth", "action"]);
    const body = rows.slice(1);
    const col = (n) => head.indexOf(n);
    const repair = body.filter((r) => r[col("action")] === "repair");
    assert.equal(repair.length, 1, "one repair row");
    assert.equal(repair[0][col("outcome")], "ok");
    assert.ok(body.some((r) => r[col("action")] === "repair.commit"));
    // the rows chain: each prev_hash is the hash of the row before
    for (let i = 1; i < body.length; i++) {
      assert.equal(
        body[i][col("prev_hash")],
        body[i - 1][col("hash")],
        `chain at seq ${body[i][0]}`,
      );
    }
    const seqs = body.map((r) => Number(r[0]));
    assert.deepEqual(
      seqs,
      seqs.slice().sort((a, b) => a - b),
    );
    watch.assertClean();
  });

  it("draws a file's timeline: the old version, then the good one", async () => {
    await page.locator("#tab-history").click();
    await page.locator("#history-file").selectOption("mrf.exe");
    const tmi = page.locator("#timeline svg g.tl-seg[data-lane=tmi]");
    await tmi.nth(1).waitFor();
    assert.equal(await tmi.count(), 2);
    assert.equal(await tmi.nth(0).getAttribute("data-version"), "1.12.0.1156");
    assert.equal(await tmi.nth(0).getAttribute("data-status"), "old");
    assert.equal(await tmi.nth(1).getAttribute("data-version"), "1.12.0.1266");
    assert.equal(await tmi.nth(1).getAttribute("data-status"), "ok");
    assert.ok(
      (await page.locator("#timeline svg g.tl-seg[data-lane=source]").count()) >= 1,
      "the source lane",
    );
    assert.match(
      await page.locator("#timeline-summary").textContent(),
      /TMI folder: 1\.12\.0\.1156 \(old\).*then 1\.12\.0\.1266 \(ok\)/,
    );
    // placed by time: later boxes start further right, in proportion
    const boxes = await tmi.evaluateAll((gs) =>
      gs.map((g) => ({ t: Date.parse(g.dataset.start), x: g.querySelector("rect").x.baseVal.value })),
    );
    assert.ok(boxes[1].t > boxes[0].t && boxes[1].x > boxes[0].x, JSON.stringify(boxes));
    // the repair's change is marked as the job's
    assert.equal(await page.locator("#timeline svg g.tl-mark-job").count(), 1);
    assert.match(await page.locator("#timeline svg g.tl-mark-job").innerHTML(), /job \d+|<rect/);
    // a box opens its observation: the whole hash, who changed the file
    await tmi.nth(1).click();
    await page.locator("#obs-panel").waitFor({ state: "visible" });
    assert.match(await page.locator("#obs-sha256").innerText(), /^[0-9a-f]{64}$/);
    assert.match(await page.locator("#obs-changed-by").innerText(), /^tmi-console job \d+, run by root/);
    // the signature the observation recorded (the demo's files are unsigned)
    assert.match(await page.locator("#obs-signature").innerText(), /^Unsigned/);
    await page.locator("#obs-close").click();
    assert.equal(await page.evaluate(() => document.activeElement.dataset.version), "1.12.0.1266");
    // by keyboard too
    await page.keyboard.press("Enter");
    await page.locator("#obs-panel").waitFor({ state: "visible" });
    await page.locator("#obs-close").click();
    // a readable axis at every zoom: no two tick labels of a row overlap
    for (let i = 0; i < 6; i++) {
      assert.deepEqual(await overlappingTicks(page), [], `zoom step ${i}`);
      await page.locator("#tl-zoom-in").click();
    }
    await page.locator("#tl-zoom-fit").click();
    await page.locator("#scans-body tr[data-scan]").first().waitFor();
    const verdicts = await page.locator("#scans-body tr[data-scan] .badge").allInnerTexts();
    assert.ok(verdicts.includes("affected") && verdicts.includes("healthy"), verdicts.join(","));
    // another file, picked with the keyboard
    await page.locator("#history-file").focus();
    await page.keyboard.press("ArrowDown");
    await page.waitForFunction(() =>
      document.querySelector("#timeline svg")?.getAttribute("aria-label")?.includes("MRF_CM.dll"),
    );
    await page.locator("#history-file").selectOption("mrf.exe");
    await page.waitForFunction(() =>
      document.querySelector("#timeline svg")?.getAttribute("aria-label")?.includes("mrf.exe"),
    );
    await screenshot(page, "10-history");
    assert.deepEqual(await unnamedControls(page), []);
    watch.assertClean();
  });

  it("shows a file status it has no words for by its name, as needing attention", async () => {
    const tab = await browser.context.newPage();
    const tabWatch = watchPage(tab, demo.base);
    await tab.goto(demo.base + "/");
    await tab.locator("#files-body tr[data-file]").first().waitFor();
    const got = await tab.evaluate(async () => {
      const m = await import("/assets/js/status.js");
      const scan = {
        verdict: "affected",
        expected_version: "1.12.0.1266",
        files: [
          { name: "x.dll", status: "quarantined", version: null, sha256: "ab".repeat(32) },
          { name: "y.dll", status: "ok", version: "1.12.0.1266" },
        ],
      };
      m.renderFiles(scan);
      const row = document.querySelector('#files-body tr[data-file="x.dll"]');
      return {
        text: row.innerText,
        cls: row.className,
        badge: row.querySelector(".badge").className,
        words: m.badFilesText(scan),
      };
    });
    assert.match(got.text, /x\.dll\s+1\.12\.0\.1266\s+–\s+quarantined/);
    assert.equal(got.cls, "row-bad");
    assert.match(got.badge, /badge-attention/);
    assert.equal(got.words, "1 file is quarantined");
    tabWatch.assertClean();
    await tab.close();
  });

  it("shows a damaged file (status invalid) as damaged, in the colours of trouble", async () => {
    const tab = await browser.context.newPage();
    const tabWatch = watchPage(tab, demo.base);
    await tab.goto(demo.base + "/");
    await tab.locator("#files-body tr[data-file]").first().waitFor();
    const got = await tab.evaluate(async () => {
      const m = await import("/assets/js/status.js");
      const scan = {
        verdict: "affected",
        expected_version: "1.12.0.1266",
        files: [
          { name: "x.dll", status: "invalid", version: null, sha256: "ab".repeat(32) },
          { name: "z.dll", status: "invalid", version: null, sha256: "cd".repeat(32) },
          { name: "y.dll", status: "ok", version: "1.12.0.1266" },
        ],
      };
      m.renderFiles(scan);
      const row = document.querySelector('#files-body tr[data-file="x.dll"]');
      const badge = row.querySelector(".badge");
      const trouble = document.createElement("span");
      trouble.className = "badge badge-attention";
      row.appendChild(trouble);
      const look = (n) => getComputedStyle(n).color + " on " + getComputedStyle(n).backgroundColor;
      const seen = { look: look(badge), trouble: look(trouble) };
      trouble.remove();
      return {
        text: row.innerText,
        cls: row.className,
        badge: badge.className,
        words: m.badFilesText(scan),
        ...seen,
      };
    });
    assert.match(got.text, /x\.dll\s+1\.12\.0\.1266\s+–\s+invalid \(damaged\)/);
    assert.equal(got.cls, "row-bad");
    assert.match(got.badge, /badge-invalid/);
    assert.doesNotMatch(got.badge, /badge-attention/);
    assert.equal(got.look, got.trouble); /* styled as trouble, not left plain */
    assert.equal(got.words, "2 files are damaged");
    tabWatch.assertClean();
    await tab.close();
  });

  it("shows each file's signature: a badge with the signer, red when invalid, details from the keyboard", async () => {
    // the demo's files are unsigned: every row says so
    await page.locator("#tab-status").click();
    await page.locator("#view-status").waitFor({ state: "visible" });
    for (const name of FILES) {
      assert.match(
        await page.locator(`#files-body tr[data-file="${name}"] .sig-cell`).innerText(),
        /Unsigned/,
        name,
      );
    }
    const tab = await browser.context.newPage();
    const tabWatch = watchPage(tab, demo.base);
    await tab.goto(demo.base + "/");
    await tab.locator("#files-body tr[data-file]").first().waitFor();
    const signer = {
      organization: "Trend Micro, Inc.",
      common_name: "Trend Micro, Inc.",
      subject: "CN=Trend Micro, Inc., O=Trend Micro, Inc.",
      issuer: "CN=Code Signing CA",
      thumbprint_sha1: "11".repeat(20),
      thumbprint_sha256: "22".repeat(32),
      not_before: "2015-01-01T00:00:00.000Z",
      not_after: "2020-01-01T00:00:00.000Z",
    };
    await tab.evaluate(
      async ({ signer }) => {
        const m = await import("/assets/js/status.js");
        const sig = (status, reason, detail) => ({
          status,
          reason,
          detail,
          source: "embedded",
          digest_algorithm: "sha256",
          signer,
          root: "CN=Root",
          signing_time: "2016-06-01T00:00:00.000Z",
          timestamp: "rfc3161",
          valid_by_timestamp: true,
          digest_cached: status === "valid",
        });
        m.renderFiles({
          verdict: "affected",
          expected_version: "1.12.0.1266",
          files: [
            { name: "a.dll", status: "ok", version: "1.12.0.1266", signature: sig("valid") },
            {
              name: "b.dll",
              status: "ok",
              version: "1.12.0.1266",
              signature: sig("invalid", "digest_mismatch", "the file changed after it was signed"),
            },
          ],
        });
      },
      { signer },
    );
    const good = tab.locator('#files-body tr[data-file="a.dll"] details.sig');
    const bad = tab.locator('#files-body tr[data-file="b.dll"] details.sig');
    assert.match(await good.locator("summary").innerText(), /Signed: Trend Micro, Inc\./);
    assert.match(await bad.locator("summary").innerText(), /Invalid: file changed after signing/);
    const colour = (loc) => loc.evaluate((n) => getComputedStyle(n).color);
    assert.equal(
      await colour(bad.locator(".badge")),
      await tab.evaluate(() => {
        const t = document.createElement("span");
        t.className = "badge badge-invalid";
        document.body.appendChild(t);
        const c = getComputedStyle(t).color;
        t.remove();
        return c;
      }),
      "an invalid signature is in the colours of trouble",
    );
    // the details open from the keyboard
    await bad.locator("summary").focus();
    await tab.keyboard.press("Enter");
    assert.equal(await bad.evaluate((d) => d.open), true);
    const text = await bad.innerText();
    assert.match(text, /the file changed after it was signed/);
    assert.match(text, /2{64}/);
    assert.match(text, /valid through its timestamp only/);
    assert.match(text, /sha256, computed from the file/);
    // a digest kept from an earlier scan says so
    await good.locator("summary").click();
    assert.match(await good.innerText(), /sha256, kept from an earlier scan of the same bytes/);
    assert.deepEqual(await axeViolations(tab), [], "axe: the signature details");
    tabWatch.assertClean();
    await tab.close();
  });

  it("restores the old backup: the files come back, the service does not (amber, not green)", async () => {
    await page.locator("#tab-backups").click();
    const row = page.locator("#backups-body tr[data-backup]").first();
    await row.getByRole("button", { name: /Restore backup/ }).click();
    await page.locator("#confirm-ok").click();
    await page.locator("#confirm").waitFor({ state: "hidden" });
    // the job panel is on the status page
    await page.locator("#view-status").waitFor({ state: "visible" });
    await watchJob(page, 60000);
    // the old files are back, so the service does not stay up: the files
    // were put in place but the job is amber, not green, and says why
    for (const step of stepsOk("restore").filter((s) => s !== "start")) {
      assert.equal(
        await page.locator(`#job-steps li[data-step=${step}]`).getAttribute("data-outcome"),
        "ok",
        step,
      );
    }
    assert.equal(
      await page.locator("#job-steps li[data-step=start]").getAttribute("data-outcome"),
      "failed",
    );
    assert.equal(await page.locator("#job").getAttribute("data-outcome"), "warn");
    const result = await page.locator("#job-result.result-warn").innerText();
    assert.match(result, /Restore finished, but the TMI service is not running/);
    assert.match(result, /errcode=-107/);
    assert.match(result, /What to try next: .*Repair puts the good set back/);
    await page.locator("#banner[data-verdict=affected]").waitFor();
    const note = page.locator("#banner-job.note-warn");
    await note.waitFor();
    assert.match(
      await note.innerText(),
      /Restore \(job \d+\) put the files in place, but the TMI service did not stay up\. Event log: “Trend Micro Management Infrastructure \(TMI\) is not ready/,
    );
    await screenshot(page, "14-restore-service-down");
    await page.locator("#tab-backups").click();
    // two backups now: the restore backed up the good files first
    await page.locator("#backups-body tr[data-backup]").nth(1).waitFor();
    assert.match(
      await page.locator("#backups-body tr[data-backup]").first().innerText(),
      /8 × 1\.12\.0\.1266/,
    );
    watch.assertClean();
  });

  it("passes axe-core and fits on every view, desktop and phone; screenshots of each", async () => {
    await page.locator("#tab-status").click();
    await page.locator("#banner[data-verdict=affected]").waitFor();
    for (const size of SIZES) {
      await page.setViewportSize(size);
      for (const view of VIEWS) {
        await showView(page, view);
        assert.deepEqual(await axeViolations(page), [], `axe: ${view} at ${size.width}`);
        await screenshot(page, `view-${view}-${size.width}`);
        if (size.width < 600) {
          for (const width of [360, 390]) {
            await page.setViewportSize({ width, height: size.height });
            assert.deepEqual(await overflowing(page), [], `${view} at ${width} px`);
          }
          assert.deepEqual(await smallTargets(page), [], `${view}: 44 px targets`);
        }
      }
    }
    await page.setViewportSize({ width: 1366, height: 768 });
    watch.assertClean();
  });

  it("on a phone: a compact header, a confirmation that fits, a tap reaches its button", async () => {
    const phone = await launchBrowser({ viewport: { width: 390, height: 844 }, mobile: true });
    try {
      const p = await phone.firstPage();
      const w = watchPage(p, demo.base);
      await p.goto(demo.base + "/");
      await p.locator("#view-login").waitFor({ state: "visible" });
      assert.deepEqual(await axeViolations(p), [], "axe: the sign-in view");
      await screenshot(p, "view-login-390");
      await p.goto(loginUrl(demo));
      await p.locator("#banner[data-verdict=affected]").waitFor();
      const header = await p.locator("header.top").boundingBox();
      assert.ok(header.height <= 110, `the header is ${header.height} px high`);
      await p.locator("#act-repair").tap();
      await p.locator("#plan-table tbody tr").first().waitFor();
      const d = await p.locator("#confirm").boundingBox();
      assert.ok(d.x >= 0 && d.x + d.width <= 390 && d.y >= 0 && d.y + d.height <= 844, JSON.stringify(d));
      const ok = await p.locator("#confirm-ok").boundingBox();
      assert.ok(ok.y + ok.height <= 844 && ok.height >= 44, `Repair now at ${JSON.stringify(ok)}`);
      // nothing covers it: a tap at its centre lands on it
      assert.equal(
        await p.evaluate(([x, y]) => document.elementFromPoint(x, y).id, [ok.x + ok.width / 2, ok.y + ok.height / 2]),
        "confirm-ok",
      );
      assert.deepEqual(await overflowing(p), []);
      assert.deepEqual(await axeViolations(p), [], "axe: the dialog");
      await screenshot(p, "view-confirm-390", { fullPage: false });
      await p.locator("#confirm-cancel").tap();
      await p.locator("#confirm").waitFor({ state: "hidden" });
      w.assertClean();
    } finally {
      await phone.close();
    }
  });
});

const SIZES = [
  { width: 1366, height: 900 },
  { width: 390, height: 844 },
];
const VIEWS = ["status", "backups", "history", "audit"];

/* Show a view by its tab and wait until its data is there. */
async function showView(page, view) {
  await page.locator(`#tab-${view}`).click();
  await page.locator(`#view-${view}`).waitFor({ state: "visible" });
  const ready = {
    status: "#files-body tr[data-file]",
    backups: "#jobs-body tr[data-job]",
    history: "#timeline svg g.tl-seg",
    audit: "#audit-body tr[data-seq]",
  }[view];
  await page.locator(ready).first().waitFor();
  await page.waitForTimeout(150); // layout settles (the timeline redraws on resize)
}

describe("a repair that fails is rolled back; then each action on its own", () => {
  let demo;
  let browser;
  let page;
  let watch;
  let fixService;

  before(async () => {
    demo = await startDemo("rollback");
    await readProcedure(demo);
    // the service now fails even with the good files
    fixService = breakSandboxService(demo.root);
    browser = await launchBrowser();
    page = await browser.firstPage();
    watch = watchPage(page, demo.base);
  });

  after(async () => {
    if (browser) await browser.close();
    if (demo) await demo.stop();
  });

  it("shows the failed step and the rollback", async () => {
    const tmi = path.join(demo.root, TMI_REL);
    const before = FILES.map((f) => fs.readFileSync(path.join(tmi, f)));
    await page.goto(demo.url);
    await page.locator("#banner[data-verdict=affected]").waitFor();
    await page.locator("#act-repair").click();
    await page.locator("#plan-table tbody tr").first().waitFor();
    await page.locator("#confirm-ok").click();
    await page.locator("#confirm").waitFor({ state: "hidden" });
    const run = await watchJob(page, 60000);
    assert.equal(run.status, "failed");
    assert.equal(run.tops.size, 1, "the page below the job panel did not move");
    assert.equal(
      await page.locator("#job-steps li[data-step=start]").getAttribute("data-outcome"),
      "failed",
    );
    assert.equal(
      await page.locator("#job-steps li[data-step=rollback]").getAttribute("data-outcome"),
      "ok",
    );
    assert.equal(
      await page.locator("#job-steps li[data-step=rescan]").getAttribute("data-outcome"),
      "pending",
    );
    const result = await page.locator("#job-result").innerText();
    assert.match(result, /Repair failed at step “Start service”/);
    assert.match(result, /Rolled back: every file was restored from backup \S+/);
    assert.match(result, /What to try next: The service did not stay up even with the files/);
    // the folder is as it was, and the page says the fault is still there,
    // what failed and what to try next, not just "use Repair"
    await page.locator("#banner[data-verdict=affected]").waitFor();
    const note = await page.locator("#banner-job.note-failed").innerText();
    assert.match(
      note,
      /^Repair \(job \d+\) failed at “Start service” and was rolled back: the files are as before it\./,
    );
    assert.match(note, /What to try next: The service did not stay up/);
    assert.doesNotMatch(await page.locator("#banner-meta").innerText(), /use Repair to put it in place/);
    const now = FILES.map((f) => fs.readFileSync(path.join(tmi, f)));
    for (let i = 0; i < FILES.length; i++)
      assert.ok(now[i].equals(before[i]), `${FILES[i]} is back`);
    await screenshot(page, "11-repair-rolled-back");

    await page.locator("#tab-audit").click();
    await page.locator("#chain.badge-intact").waitFor();
    await page.locator("#audit-body tr[data-action=repair]").first().waitFor();
    assert.match(
      await page.locator("#audit-body tr[data-action=repair]").first().innerText(),
      /failed/,
    );
    assert.ok((await page.locator("#audit-body tr[data-action='repair.rollback']").count()) > 0);
    watch.assertClean();
  });

  it("backs up, replaces and restarts one action at a time", async () => {
    fixService();
    await page.locator("#tab-status").click();
    await page.locator("#banner[data-verdict=affected]").waitFor();
    await runAction(page, "backup", /Copies these files/);
    assert.match(await page.locator("#job-result").innerText(), /Back up succeeded/);

    await runAction(page, "replace", /8 files will be replaced/);
    assert.match(await page.locator("#job-result").innerText(), /Replace succeeded/);
    // the files are good now, the service is left stopped: the banner says so
    await page.locator("#banner[data-verdict=healthy].banner-warn").waitFor();
    assert.match(
      await page.locator("#banner-title").innerText(),
      /Files are fine, but the TMI service is stopped/,
    );
    assert.equal(await page.locator("#act-restart").isEnabled(), true);
    await screenshot(page, "12-replaced-service-stopped");

    await runAction(page, "restart", /Stops the service/);
    assert.match(await page.locator("#job-result").innerText(), /Restart service succeeded/);
    await page.locator("#banner.banner-healthy").waitFor();
    await page.locator("#ev-service.badge-running").waitFor();
    watch.assertClean();
  });
  it("shows the sign-in view in a tab opened when no signed-in tab is open", async () => {
    const port = new URL(demo.base).port;
    // a blank tab first keeps the browser session (and its cookie) open
    const blank = await browser.context.newPage();
    await page.close();
    page = blank;
    watch = watchPage(page, demo.base);
    await page.goto(demo.base + "/");
    await page.locator("#view-login").waitFor({ state: "visible" });
    assert.match(await page.locator("#view-login").innerText(), /This tab is not signed in/);
    // the cookie is still there, and still useless without the secret: the
    // page does not even try it
    const names = (await browser.context.cookies(demo.base)).map((c) => c.name);
    assert.deepEqual(names, [`tmi_session_${port}`]);
    assert.deepEqual(
      watch.requests.filter((r) => r.includes("/api/")),
      [],
    );
    await screenshot(page, "13-tab-not-signed-in");
    // a new login link signs it in again
    await page.goto(loginUrl(demo));
    await page.locator("#banner.banner-healthy").waitFor();
    watch.assertClean();
  });

  it("logs out: every view says signed out and nothing else, also after Back", async () => {
    for (const v of ["backups", "history", "audit"]) await showView(page, v);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.locator("#view-login").waitFor({ state: "visible" });
    watch.assertClean();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("tmi-console.secret")), null);
    assert.deepEqual(await browser.context.cookies(demo.base), [], "the cookie is cleared");
    for (let i = 0; i <= VIEWS.length; i++) {
      assert.deepEqual(await signedOutOnly(page), [], `after logout, Back ${i} time(s)`);
      if (i < VIEWS.length) {
        await page.goBack();
        // a page loaded anew asks the other tabs first (none answers)
        await page.locator("#view-login").waitFor({ state: "visible" });
      }
    }
    for (const size of SIZES) {
      await page.setViewportSize(size);
      assert.deepEqual(await axeViolations(page), [], `axe: signed out at ${size.width}`);
      await screenshot(page, `view-signed-out-${size.width}`);
    }
    await page.reload();
    await page.locator("#view-login").waitFor({ state: "visible" });
    assert.deepEqual(await signedOutOnly(page), [], "after a reload");
    watch.assertClean();
  });
});

describe("watching, the automatic repair, and a server that goes away", () => {
  let srv;
  let browser;
  let page;
  let watch;

  before(async () => {
    // serve (not demo) takes --auto-repair: a countdown long enough to cancel
    srv = await startServe("conn", ["--auto-repair", "300"]);
    browser = await launchBrowser({ viewport: { width: 1366, height: 900 } });
    page = await browser.firstPage();
    watch = watchPage(page, srv.base);
  });

  after(async () => {
    if (browser) await browser.close();
    if (srv) await srv.stop();
  });

  it("counts the automatic repair down, and Cancel stops it", async () => {
    await page.goto(srv.url);
    await page.locator("#banner[data-verdict=affected]").waitFor();
    const box = page.locator("#auto-repair[data-state=scheduled]");
    await box.waitFor();
    const first = Number((await box.innerText()).match(/Automatic repair in (\d+) s/)[1]);
    assert.ok(first > 250 && first <= 300, `${first} s left`);
    await page.waitForTimeout(2100);
    const later = Number((await box.innerText()).match(/Automatic repair in (\d+) s/)[1]);
    assert.ok(later < first, `the countdown moves: ${first} then ${later}`);
    await screenshot(page, "15-auto-repair-countdown", { fullPage: false });
    await page.getByRole("button", { name: "Cancel automatic repair" }).click();
    await page.locator("#auto-repair[data-state=done]").waitFor();
    assert.match(await page.locator("#auto-repair").innerText(), /cancelled by root/);
    assert.equal(await page.locator("#auto-repair-cancel").isVisible(), false);
    const st = await apiGet(srv, "/api/status");
    assert.equal(st.watch.auto_repair.state, "done");
    watch.assertClean();
  });

  it("warns when watching is off or does not work", async () => {
    // the server here watches fine; the words for the other states
    const got = await page.evaluate(async () => {
      const m = await import("/assets/js/watch.js");
      return [
        m.watchWarning({ mode: "off", ok: true, detail: "", interval_s: 0 }),
        m.watchWarning({ mode: "notify", ok: false, detail: "inotify: no space", interval_s: 900 }),
        m.watchWarning(null),
        m.watchWarning({ mode: "notify", ok: true, interval_s: 900 }),
      ];
    });
    assert.match(got[0], /^Watching is off: a change to the files is found only when someone scans/);
    assert.match(got[1], /^Watching does not work: inotify: no space\. Until it does, changes are found by the regular check every 15 min\./);
    assert.match(got[2], /does not watch/);
    assert.equal(got[3], "");
  });

  it("shows a server that does not answer as disconnected, and comes back by itself", async () => {
    const t0 = Date.now();
    process.kill(srv.proc.pid, "SIGSTOP"); // no answer at all, as a hung server
    try {
      await page.locator("#conn").waitFor({ state: "visible", timeout: 15000 });
      const took = Date.now() - t0;
      // one refresh period (5 s) plus the time a request may take (4 s)
      assert.ok(took < 10500, `disconnected after ${took} ms`);
      assert.match(await page.locator("#conn").innerText(), /Disconnected: the server does not answer\./);
      assert.match(await page.locator("#conn-detail").innerText(), /What you see is as the server told it at \d\d:\d\d:\d\d \((\d+ s ago|just now)\)/);
      assert.ok(await page.locator("main.stale").isVisible(), "the last data is greyed");
      assert.equal(await page.locator("#act-backup").isDisabled(), true);
      assert.match(await page.locator("#why-backup").innerText(), /does not answer/);
      await screenshot(page, "16-disconnected", { fullPage: false });
    } finally {
      process.kill(srv.proc.pid, "SIGCONT");
    }
    // back by itself, still signed in
    await page.locator("#conn").waitFor({ state: "hidden", timeout: 15000 });
    assert.equal(await page.locator("main.stale").count(), 0);
    await page.locator("#banner[data-verdict=affected]").waitFor();
    assert.equal(await page.locator("#act-backup").isEnabled(), true);
    assert.equal(await page.locator("#notice").isVisible(), false);
    forgiveFailedRequests(watch);
  });

  it("notices a stopped server within one refresh period, and a restarted one by itself", async () => {
    const t0 = Date.now();
    await srv.halt();
    await page.locator("#conn").waitFor({ state: "visible", timeout: 15000 });
    const took = Date.now() - t0;
    assert.ok(took < 6500, `disconnected after ${took} ms`);
    await srv.restart();
    // the page finds it back without a reload; the restarted server no
    // longer knows the session (they live in its memory): signed out
    await page.locator("#view-login").waitFor({ state: "visible", timeout: 15000 });
    assert.deepEqual(await signedOutOnly(page), []);
    assert.match(await page.locator("#login-reason").innerText(), /The server ended this tab's session: it was restarted/);
    await page.goto(srv.url);
    await page.locator("#banner[data-verdict=affected]").waitFor();
    assert.equal(await page.locator("#conn").isVisible(), false);
    forgiveFailedRequests(watch, true);
  });
});

describe("alerts: a file changed outside tmi-console", () => {
  let srv;
  let browser;
  let page;
  let watch;

  before(async () => {
    srv = await startServe("alerts", ["--stay-seconds", "1"]);
    browser = await launchBrowser({ viewport: { width: 1366, height: 900 } });
    page = await browser.firstPage();
    watch = watchPage(page, srv.base);
  });

  after(async () => {
    if (browser) await browser.close();
    if (srv) await srv.stop();
  });

  it("shows the open alert in the banner and the change in Recent alerts, as /api/alerts says", async () => {
    const mrf = path.join(srv.root, TMI_REL, "mrf.exe");
    const old = path.join(srv.work, "old-mrf.exe");
    fs.copyFileSync(mrf, old);
    await page.goto(srv.url);
    await page.locator("#banner[data-verdict=affected]").waitFor();
    await runAction(page, "repair", /./);
    await page.locator("#banner[data-verdict=healthy]").waitFor();
    await page.locator("#alerts-list li[data-kind=verdict_change]").first().waitFor();
    assert.equal(await page.locator("#banner-alerts").isVisible(), false, "no open alert while healthy");

    fs.copyFileSync(old, mrf); // outside tmi-console: an old copy put back
    await page.locator("#banner[data-verdict=affected]").waitFor({ timeout: 15000 });
    const line = page.locator("#banner-alerts li", { hasText: "changed outside tmi-console" });
    await line.waitFor({ timeout: 15000 });
    assert.match(
      await line.innerText(),
      /^Alert: a file changed outside tmi-console at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d.* \(mrf\.exe 1\.12\.0\.1266 -> 1\.12\.0\.1156\)\.$/,
    );
    const item = page.locator("#alerts-list li[data-kind=outside_change]");
    await item.waitFor();
    assert.match(await item.innerText(), /Changed outside tmi-console[\s\S]*1\.12\.0\.1266 -> 1\.12\.0\.1156/);
    assert.equal(await page.locator("#alerts-empty").isVisible(), false);

    const doc = await apiGet(srv, "/api/alerts");
    const open = doc.open.filter((a) => a.kind === "verdict");
    assert.equal(open.length, 1, JSON.stringify(doc.open));
    assert.equal(open[0].state, "affected");
    const out = doc.recent.items.filter((a) => a.kind === "outside_change");
    assert.equal(out.length, 1, JSON.stringify(doc.recent.items));
    assert.equal(out[0].details.new_version, "1.12.0.1156");
    assert.equal(await item.getAttribute("data-seq"), String(out[0].seq));

    // reachable by keyboard, and fits a phone
    await page.locator(".alerts-wrap").focus();
    assert.equal(await page.evaluate(() => document.activeElement.className), "alerts-wrap");
    for (const size of [
      { width: 1366, height: 900 },
      { width: 390, height: 844 },
    ]) {
      await page.setViewportSize(size);
      assert.deepEqual(await axeViolations(page), [], `axe: status with alerts at ${size.width}`);
      await screenshot(page, `17-alerts-${size.width}`);
    }
    await page.setViewportSize({ width: 360, height: 800 });
    assert.deepEqual(await overflowing(page), [], "status with alerts at 360 px");
    assert.deepEqual(await smallTargets(page), [], "status with alerts: 44 px targets");
    watch.assertClean();
  });
});
