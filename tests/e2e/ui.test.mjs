// ui.test.mjs - the web console in a real browser (headless Chromium), on the
// sandbox `tmi-console demo` makes: log in with the one-time URL, see the
// fault, repair it and watch the steps, find it in the audit trail and the
// file history, export the audit as CSV; and a repair that fails and rolls
// back. Every page is watched: a request to another origin, a JavaScript
// error or a console error fails the test.
//
//   node --test            (from tests/e2e, after npm ci)

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import {
  TMI_REL,
  apiGet,
  breakSandboxService,
  launchBrowser,
  loginUrl,
  parseCsv,
  screenshot,
  startDemo,
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
    page = browser.context.pages()[0] || (await browser.context.newPage());
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
      await page.locator("#banner-meta").innerText(),
      /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+09:00/,
    );
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
    // the service must stay up for 5 s: the start step is seen running
    await page
      .locator("#job-steps li[data-step=start][data-outcome=running]")
      .waitFor({ timeout: 20000 });
    await screenshot(page, "05-repair-running", { fullPage: false });
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
    assert.match(
      await page.locator("#jobs-body tr[data-job]").first().innerText(),
      /Repair\s+succeeded/,
    );
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

  it("finds the repair in the audit trail, with the chain verified", async () => {
    await page.locator("#tab-audit").click();
    await page.locator("#chain.badge-intact").waitFor();
    assert.match(await page.locator("#chain").innerText(), /Chain verified: \d+ records intact/);
    await page.locator("#audit-body tr[data-action=repair]").first().waitFor();
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
    // a time range that holds nothing, entered in the server's local time
    await page.locator("#f-action").fill("");
    await page.locator("#f-since").fill("2001-01-01T00:00");
    await page.locator("#f-until").fill("2001-01-02T00:00");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator("#audit-body tr.empty-row").waitFor();
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
      await page.locator("#timeline svg").getAttribute("aria-label"),
      /TMI folder: 1\.12\.0\.1156 \(old\).*then 1\.12\.0\.1266 \(ok\)/,
    );
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

  it("restores the backup: the old files come back", async () => {
    await page.locator("#tab-backups").click();
    const row = page.locator("#backups-body tr[data-backup]").first();
    await row.getByRole("button", { name: /Restore backup/ }).click();
    await page.locator("#confirm-ok").click();
    await page.locator("#confirm").waitFor({ state: "hidden" });
    // the job panel is on the status page
    await page.locator("#view-status").waitFor({ state: "visible" });
    const run = await watchJob(page, 60000);
    assert.equal(run.status, "succeeded");
    for (const step of stepsOk("restore")) {
      assert.equal(
        await page.locator(`#job-steps li[data-step=${step}]`).getAttribute("data-outcome"),
        "ok",
        step,
      );
    }
    assert.match(await page.locator("#job-result").innerText(), /Restore succeeded/);
    await page.locator("#banner[data-verdict=affected]").waitFor();
    // two backups now: the restore backed up the good files first
    await page.locator("#tab-backups").click();
    await page.locator("#backups-body tr[data-backup]").nth(1).waitFor();
    assert.match(
      await page.locator("#backups-body tr[data-backup]").first().innerText(),
      /8 × 1\.12\.0\.1266/,
    );
    watch.assertClean();
  });
});

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
    page = browser.context.pages()[0] || (await browser.context.newPage());
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
    // the folder is as it was, and the page says the fault is still there
    await page.locator("#banner[data-verdict=affected]").waitFor();
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

  it("logs out: the session ends on the server too", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.locator("#view-login").waitFor({ state: "visible" });
    watch.assertClean();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("tmi-console.secret")), null);
    assert.deepEqual(await browser.context.cookies(demo.base), [], "the cookie is cleared");
    await page.reload();
    await page.locator("#view-login").waitFor({ state: "visible" });
    watch.assertClean();
  });
});
