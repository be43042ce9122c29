// Measures the in-call recorder against the release build: two people in a call, one records
// for SECONDS with its tab in front, then again with another tab in front (its own tab hidden).
// For each: the composite's frame rate in the finalized file (ffprobe counts the frames), and
// the upload overhead (bytes on the wire for every chunk PUT, headers and answers included,
// against the recorded bytes). Run with scripts/bench-recording-client.sh.
import { chromium } from "playwright";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const PORT = Number(process.env.BENCH_PORT ?? 3311);
const BASE = `http://127.0.0.1:${PORT}`;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const STORE = path.join(ROOT, "target/bench/recordings-client");

const server = spawn(path.join(ROOT, "target/release/server"), [], {
  cwd: ROOT,
  env: {
    ...process.env,
    LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
    LEPTOS_SITE_ROOT: "target/site",
    RECORD_MEET_RECORDINGS_DIR: STORE,
    RECORD_MEET_RECORDINGS_MIN_FREE_BYTES: "0",
    RUST_LOG: "warn",
  },
  stdio: ["ignore", "inherit", "inherit"],
});

async function waitHealthy() {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${BASE}/health`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not start");
}

/** Counts the compositor's frames: each starts with a full-canvas fillRect on the 1280-wide canvas. */
const COUNT_DRAWS = `(() => { window.__draws = 0; const f = CanvasRenderingContext2D.prototype.fillRect;
  CanvasRenderingContext2D.prototype.fillRect = function (...a) {
    if (this.canvas.width === 1280 && a[0] === 0 && a[1] === 0 && a[2] === 1280) window.__draws++;
    return f.apply(this, a); }; })();`;

async function person(browser, room, name) {
  const context = await browser.newContext({ permissions: ["camera", "microphone"] });
  await context.addInitScript(COUNT_DRAWS);
  const page = await context.newPage();
  await page.goto(`${BASE}/room/${room}`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.getByTestId("name-input").fill(name);
  await page.waitForFunction(() => !document.querySelector("[data-testid=join]").disabled);
  await page.getByTestId("join").click();
  await page.locator("[data-phase=in-call]").waitFor();
  return { context, page };
}

async function record(browser, hidden) {
  const room = "bench" + Date.now().toString(36);
  const alice = await person(browser, room, "Alice");
  const bob = await person(browser, room, "Bob");
  let wire = 0;
  let recorded = 0;
  alice.page.on("requestfinished", async (request) => {
    if (request.method() !== "PUT" || !/\/chunks\/\d+$/.test(request.url())) return;
    const sizes = await request.sizes();
    wire += sizes.requestBodySize + sizes.requestHeadersSize + sizes.responseBodySize + sizes.responseHeadersSize;
    recorded += request.postDataBuffer()?.length ?? 0;
  });
  await alice.page.getByRole("button", { name: "Start recording", exact: true }).click();
  await alice.page.getByRole("button", { name: "Stop recording", exact: true }).waitFor();
  // Hidden: the recorder's window is minimized (CDP), as when someone switches away.
  const cdp = await alice.context.newCDPSession(alice.page);
  const { windowId } = await cdp.send("Browser.getWindowForTarget");
  let front = null;
  if (hidden) {
    await cdp.send("Browser.setWindowBounds", { windowId, bounds: { windowState: "minimized" } });
    // Another tab in front of it, in the same window, as when someone switches tabs.
    front = await alice.context.newPage();
    await front.goto(`${BASE}/health`);
    await front.bringToFront();
  }
  const visibility = await alice.page.evaluate(() => document.visibilityState);
  const draws0 = await alice.page.evaluate(() => window.__draws);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const drawn = (await alice.page.evaluate(() => window.__draws) - draws0) / ((Date.now() - t0) / 1000);
  const visibilityAtEnd = await alice.page.evaluate(() => document.visibilityState);
  if (hidden) {
    await front.close();
    await cdp.send("Browser.setWindowBounds", { windowId, bounds: { windowState: "normal" } });
    await alice.page.bringToFront();
  }
  await alice.page.getByRole("button", { name: "Stop recording", exact: true }).click();
  await alice.page.getByRole("button", { name: "Start recording", exact: true }).waitFor({ timeout: 60_000 });
  await alice.page.waitForFunction(() => !document.querySelector("[data-testid=toggle-recording]").disabled, null, { timeout: 60_000 });
  const [rec] = await (await fetch(`${BASE}/api/rooms/${room}/recordings`)).json();
  const file = path.join(ROOT, "target/bench", `recording-${hidden ? "hidden" : "visible"}.webm`);
  fs.writeFileSync(file, Buffer.from(await (await fetch(`${BASE}${rec.url}`)).arrayBuffer()));
  const probe = JSON.parse(
    execFileSync("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
      "stream=nb_read_frames,width,height:format=duration", "-of", "json", file]).toString(),
  );
  const frames = Number(probe.streams[0].nb_read_frames);
  const duration = Number(probe.format.duration);
  await alice.context.close();
  await bob.context.close();
  return { visibility: `${visibility}, then ${visibilityAtEnd}`, drawn, state: rec.state, duration, frames, fps: frames / duration, width: probe.streams[0].width,
    height: probe.streams[0].height, recorded, wire, overhead: wire / recorded - 1 };
}

try {
  await waitHealthy();
  // HEADFUL=1 (under xvfb-run) makes a real window, which minimizing hides; headless pages
  // stay `visible` whatever is done to their window.
  const browser = await chromium.launch({
    headless: !process.env.HEADFUL,
    // Playwright turns Chromium's backgrounding off by default; a hidden tab must be throttled
    // here as in a person's browser.
    ignoreDefaultArgs: ["--disable-backgrounding-occluded-windows", "--disable-renderer-backgrounding",
      "--disable-background-timer-throttling"],
    executablePath: "/usr/bin/chromium",
    args: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
      "--allow-loopback-in-peer-connection", "--disable-gpu", "--disable-quic",
      "--autoplay-policy=no-user-gesture-required"],
  });
  for (const hidden of [false, true]) {
    const r = await record(browser, hidden);
    console.log(`${hidden ? "hidden " : "visible"} tab (${r.visibility}): ${r.state}, ${r.duration.toFixed(1)} s, ` +
      `${r.width}x${r.height}, drawn ${r.drawn.toFixed(1)} fps, ${r.frames} frames in the file = ${r.fps.toFixed(1)} fps; ` +
      `upload ${(r.recorded / 1e6).toFixed(2)} MB recorded, ${(r.wire / 1e6).toFixed(2)} MB on the wire ` +
      `(overhead ${(r.overhead * 100).toFixed(2)} %)`);
  }
  await browser.close();
} finally {
  server.kill("SIGTERM");
}
