// Opens one of mailsetup's HTML reports in Debian's headless Chromium (driven through the
// DevTools protocol by playwright-core) and prints what a test needs to judge it, as JSON:
//
//   node inspect.mjs REPORT.html SCREENSHOT.png NETLOG.json
//
// - console: every console message and page error (the page must have none);
// - requests: every request the page made, as seen by the DevTools Network domain;
// - netlog: every request in Chromium's own network log (--log-net-log), with its initiator;
// - dom: facts read from the live DOM (elements that must not exist, texts as rendered);
// - bars: every waterfall bar with its data attributes and its rendered geometry;
// - screenshot: a full-page PNG.
//
// Chromium runs as the tests do on this machine: as root, --headless --no-sandbox
// --disable-gpu, no background networking, a fresh user-data-dir.

import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [report, screenshot, netlog] = process.argv.slice(2);
if (!report || !screenshot || !netlog) {
  console.error("usage: node inspect.mjs REPORT.html SCREENSHOT.png NETLOG.json");
  process.exit(2);
}
const fileUrl = pathToFileURL(resolve(report)).href;
const profile = mkdtempSync(join(tmpdir(), "mailsetup-chromium-"));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    // Chromium's own background requests fail here without a DNS query leaving the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    `--log-net-log=${resolve(netlog)}`,
    "--net-log-capture-mode=Default",
  ],
  viewport: { width: 1200, height: 900 },
});

const out = { url: fileUrl, console: [], requests: [], netlog: [], dom: {}, bars: [] };
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => out.console.push({ type: m.type(), text: m.text() }));
  page.on("pageerror", (e) => out.console.push({ type: "pageerror", text: String(e) }));
  // Every request of every page and worker, as the DevTools Network domain reports it.
  context.on("request", (r) => out.requests.push(r.url()));
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  cdp.on("Network.requestWillBeSent", (e) => out.requests.push(e.request.url));

  await page.goto(fileUrl, { waitUntil: "load" });
  await page.waitForTimeout(300);

  out.dom = await page.evaluate(() => {
    const all = [...document.querySelectorAll("*")];
    const onAttrs = all.flatMap((el) =>
      [...el.attributes].filter((a) => a.name.toLowerCase().startsWith("on")).map((a) => `${el.tagName}[${a.name}]`),
    );
    const text = (sel) => [...document.querySelectorAll(sel)].map((el) => el.textContent);
    return {
      title: document.title,
      scripts: document.querySelectorAll("script").length,
      images: document.querySelectorAll("img, image, iframe, object, embed, link, video, audio").length,
      styles: document.querySelectorAll("style").length,
      eventHandlerAttributes: onAttrs,
      verdictStatus: document.querySelector("#verdict")?.dataset.status ?? null,
      verdictText: document.querySelector("#verdict")?.textContent ?? null,
      greetings: text("td.greeting"),
      problemCodes: [...document.querySelectorAll("tr[data-code]")].map((tr) => tr.dataset.code),
      problemsText: text("table.problems td"),
      endpointUrls: [...document.querySelectorAll("table.endpoints tr[data-url]")].map((tr) => tr.dataset.url),
      certificates: [...document.querySelectorAll("table.certificate")].map((t) => t.dataset.sha256),
      bodyTextLength: document.body.innerText.length,
    };
  });

  out.chart = await page.evaluate(() => {
    const svg = document.querySelector("#waterfall-chart");
    if (!svg) return null;
    const box = svg.getBoundingClientRect();
    const viewBox = svg.viewBox.baseVal;
    return {
      originX: Number(svg.dataset.originX),
      pxPerMs: Number(svg.dataset.pxPerMs),
      endMs: Number(svg.dataset.endMs),
      left: box.left,
      renderedWidth: box.width,
      viewBoxWidth: viewBox.width,
    };
  });

  out.bars = await page.evaluate(() =>
    [...document.querySelectorAll("#waterfall-chart rect.bar")].map((r) => {
      const row = r.closest("g.row");
      const box = r.getBoundingClientRect();
      return {
        kind: row.dataset.kind,
        key: row.dataset.key,
        index: Number(r.dataset.index),
        phase: r.dataset.phase,
        startMs: Number(r.dataset.startMs),
        endMs: Number(r.dataset.endMs),
        status: r.dataset.status,
        x: r.x.baseVal.value,
        width: r.width.baseVal.value,
        renderedLeft: box.left,
        renderedWidth: box.width,
      };
    }),
  );

  await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

// Chromium's own network log: every request of the whole browser, with who initiated it.
// Chromium's own background requests (component updates, account checks) carry the
// initiator "not an origin"; anything a page caused carries the page's origin ("null" for a
// file:// page).
try {
  const log = JSON.parse(readFileSync(netlog, "utf8"));
  const types = Object.fromEntries(Object.entries(log.constants.logEventTypes).map(([k, v]) => [v, k]));
  for (const ev of log.events ?? []) {
    if (types[ev.type] === "URL_REQUEST_START_JOB" && ev.params?.url) {
      out.netlog.push({ url: ev.params.url, initiator: ev.params.initiator ?? null, method: ev.params.method ?? null });
    }
  }
} catch (e) {
  out.netlogError = String(e);
}

process.stdout.write(JSON.stringify(out, null, 1) + "\n");
