// outcomes.test.mjs - what the server says about a job's outcome, and the
// pages it makes, as the web console shows them (headless Chromium on
// `tmi-console demo`):
//   - a job's summary line ("8 files: 1.12.0.1156 -> 1.12.0.1266, backup ...")
//   - a restore whose service does not come back: "succeeded_service_down"
//     in the job panel, the jobs table and the audit record
//   - a job's audit records through the audit's job filter (GET /api/audit?job=)
//   - the printable reports (a job's and the state now), fetched with the
//     tab's secret and opened from a blob: URL, checked as printed
//   - a reused login URL: an HTML page that says what to do, and a favicon
//   - an exported audit trail verified offline (`audit verify --file`), and
//     a tampered copy refused
// These need the server's side of them (job JSON "summary", "report",
// "audit"; GET /api/audit?job=; GET /api/jobs/{id}/report and /api/report;
// the login page; `audit verify --file`).

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import {
  TMI_REL,
  apiGet,
  binary,
  launchBrowser,
  screenshot,
  startDemo,
  tempDir,
  cleanup,
  watchPage,
} from "./harness.mjs";

/* Run a job from the status view (its button, then Confirm) to its end. */
async function runJob(page, openDialog) {
  await openDialog();
  await page.locator("#confirm").waitFor({ state: "visible" });
  await page.waitForFunction(() => !document.getElementById("confirm-ok").disabled);
  await page.locator("#confirm-ok").click();
  await page.locator("#confirm").waitFor({ state: "hidden" });
  await page.locator("#job[data-status=running]").waitFor();
  await page.waitForFunction(
    () => document.getElementById("job").dataset.status !== "running",
    null,
    { timeout: 60000 },
  );
}

/* Open a report through a button: the new tab, loaded. */
async function openReport(context, page, button) {
  const [tab] = await Promise.all([context.waitForEvent("page"), button.click()]);
  await tab.waitForURL(/^blob:/, { timeout: 30000 });
  await tab.waitForLoadState("load");
  return tab;
}

const sha256 = (file) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("job outcomes, summaries, reports and the login page", () => {
  let demo;
  let browser;
  let page;
  let watch;
  let repairJob;

  before(async () => {
    demo = await startDemo("outcomes");
    browser = await launchBrowser({ viewport: { width: 1366, height: 900 } });
    page = await browser.firstPage();
    watch = watchPage(page, demo.base);
    await page.goto(demo.url);
    await page.locator("#banner[data-verdict=affected]").waitFor();
  });

  after(async () => {
    if (browser) await browser.close();
    if (demo) await demo.stop();
  });

  it("names the change a repair made in one line, as the server sums it up", async () => {
    await runJob(page, () => page.locator("#act-repair").click());
    repairJob = (await apiGet(demo, "/api/jobs")).jobs[0];
    const job = await apiGet(demo, "/api/jobs/" + repairJob.id);
    assert.equal(job.status, "succeeded");
    assert.match(job.summary.text, /^8 files: 1\.12\.0\.1156 -> 1\.12\.0\.1266, backup \S+/);
    assert.equal(await page.locator("#job-summary-line").innerText(), job.summary.text);
    assert.equal(job.report, `/api/jobs/${job.id}/report`);
    assert.ok(job.audit && job.audit.first_seq <= job.audit.last_seq, JSON.stringify(job.audit));
    watch.assertClean();
  });

  it("shows only a job's audit records from the job's link", async () => {
    await page.locator("#job-links a[data-link=audit]").click();
    await page.locator("#audit-job").waitFor({ state: "visible" });
    assert.match(await page.locator("#audit-job-text").innerText(), new RegExp(`job ${repairJob.id}\\.`));
    await page.locator("#audit-body tr[data-seq]").first().waitFor();
    const jobs = await page
      .locator("#audit-body tr[data-seq]")
      .evaluateAll((trs) => trs.map((tr) => tr.dataset.job));
    assert.ok(jobs.length >= 8, `${jobs.length} records`);
    assert.deepEqual([...new Set(jobs)], [String(repairJob.id)]);
    // filtered to one job, the group is open
    assert.ok(await page.locator('#audit-body tr[data-action="repair.commit"]').isVisible());
    const api = await apiGet(demo, `/api/audit?job=${repairJob.id}&limit=500`);
    assert.ok(api.items.every((r) => r.job === repairJob.id));
    assert.equal(api.items.length, jobs.length);
    await screenshot(page, "20-audit-of-one-job");
    await page.locator("#audit-job-clear").click();
    await page.locator("#audit-job").waitFor({ state: "hidden" });
    watch.assertClean();
  });

  it("opens a job's report as a printable page", async () => {
    await page.locator("#tab-backups").click();
    const button = page.locator(`#jobs-body tr[data-job="${repairJob.id}"] button[data-report]`);
    const tab = await openReport(browser.context, page, button);
    const tabWatch = watchPage(tab, demo.base);
    const text = await tab.locator("body").innerText();
    const tmi = path.join(demo.root, TMI_REL);
    assert.match(text, new RegExp(`\\b${repairJob.id}\\b`));
    assert.ok(text.includes(repairJob.backup), "the backup id");
    assert.ok(text.includes(sha256(path.join(tmi, "mrf.exe"))), "mrf.exe's SHA-256 after");
    assert.ok(
      text.includes(sha256(path.join(demo.data, "backups", repairJob.backup, "mrf.exe"))),
      "mrf.exe's SHA-256 before",
    );
    assert.match(text, /1\.12\.0\.1156/);
    assert.match(text, /1\.12\.0\.1266/);
    // its stylesheet came (same origin, allowed by the CSP the tab inherits)
    const sheets = await tab.evaluate(() =>
      [...document.styleSheets].filter((s) => s.href && s.cssRules.length > 0).map((s) => s.href),
    );
    assert.ok(sheets.some((h) => h.endsWith("/assets/report.css")), sheets.join(", "));
    await tab.emulateMedia({ media: "print" });
    await tab.setViewportSize({ width: 794, height: 1123 }); // A4 at 96 dpi
    await screenshot(tab, "21-report-job-print");
    tabWatch.assertClean();
    await tab.close();
    watch.assertClean();
  });

  it("opens the report of the state now", async () => {
    await page.locator("#tab-status").click();
    const tab = await openReport(browser.context, page, page.locator("#act-report"));
    const text = await tab.locator("body").innerText();
    assert.match(text, /healthy/i);
    await tab.emulateMedia({ media: "print" });
    await screenshot(tab, "22-report-now-print");
    await tab.close();
    watch.assertClean();
  });

  it("calls a restore whose service does not come back amber: succeeded_service_down", async () => {
    await page.locator("#tab-backups").click();
    await page.locator(`#backups-body tr[data-backup="${repairJob.backup}"] button`).click();
    await runJob(page, async () => {});
    const jobs = (await apiGet(demo, "/api/jobs")).jobs;
    const restore = jobs[0];
    assert.equal(restore.action, "restore");
    assert.equal(restore.status, "succeeded_service_down");
    assert.equal(await page.locator("#job").getAttribute("data-status"), "succeeded_service_down");
    assert.equal(await page.locator("#job").getAttribute("data-outcome"), "warn");
    assert.match(await page.locator("#job-result").innerText(), /Restore finished, but the TMI service is not running/);
    await page.locator("#tab-backups").click();
    const row = page.locator(`#jobs-body tr[data-job="${restore.id}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute("data-status"), "succeeded_service_down");
    assert.equal(await row.locator(".badge-job-warn").count(), 1);
    // the audit record of the job says so too
    const rows = (await apiGet(demo, `/api/audit?job=${restore.id}&action=restore`)).items;
    assert.equal(rows.length, 1);
    assert.match(JSON.stringify(rows[0]), /service_down|did not/);
    watch.assertClean();
  });

  it("verifies an exported audit trail offline; a tampered copy fails", async () => {
    await page.locator("#tab-audit").click();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.locator("#exp-audit-json").click(),
    ]);
    const dir = tempDir("tmi-e2e-export-");
    try {
      const file = path.join(dir, "audit.json");
      fs.copyFileSync(await download.path(), file);
      const ok = spawnSync(binary(), ["audit", "verify", "--file", file], { encoding: "utf8" });
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      // change one record's outcome: its hash no longer matches
      const text = fs.readFileSync(file, "utf8");
      const bad = path.join(dir, "tampered.json");
      const tampered = text.replace(/"outcome":\s*"ok"/, '"outcome":"failed"');
      assert.notEqual(tampered, text);
      fs.writeFileSync(bad, tampered);
      const no = spawnSync(binary(), ["audit", "verify", "--file", bad], { encoding: "utf8" });
      assert.equal(no.status, 1, no.stdout + no.stderr);
    } finally {
      cleanup(dir);
    }
    watch.assertClean();
  });

  it("answers a reused login URL with a page that says how to get a new one", async () => {
    const tab = await browser.context.newPage();
    const res = await tab.goto(demo.url); // used at the start
    assert.ok(res.status() >= 400, `HTTP ${res.status()}`);
    assert.match(res.headers()["content-type"], /^text\/html/);
    const text = await tab.locator("body").innerText();
    assert.match(text, /tmi-console login-url/);
    assert.doesNotMatch(text, /^\s*\{/, "not a JSON document");
    await screenshot(tab, "23-login-url-used");
    // a script still gets problem+json
    const api = await fetch(demo.url, { headers: { Accept: "application/json" }, redirect: "manual" });
    assert.match(api.headers.get("content-type"), /application\/problem\+json/);
    // and the browser's favicon request is answered
    const icon = await fetch(demo.base + "/favicon.ico");
    assert.ok(icon.status === 200 || icon.status === 204, `favicon: HTTP ${icon.status}`);
    await tab.close();
    // the CLI's own word on the job list, for the record
    const out = execFileSync(binary(), ["--data", demo.data, "jobs", "--json"], { encoding: "utf8" });
    assert.match(out, /succeeded_service_down/);
  });
});
