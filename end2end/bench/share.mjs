// Measures screen sharing against the release build:
//   1. click "Share screen" -> first decoded screen frame on the other side (median of RUNS):
//      the viewer polls its screen receivers' getStats() framesDecoded every 5 ms; both pages run
//      in one browser on one machine, so Date.now() is one clock.
//   2. steady state: the screen's received bitrate, resolution and frame rate over 10 s.
// Run with scripts/bench-share.sh (it builds, and runs this inside a loopback-only namespace).
import { chromium } from "playwright";
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const PORT = Number(process.env.BENCH_PORT ?? 3310);
const BASE = `http://127.0.0.1:${PORT}`;
const RUNS = Number(process.env.BENCH_RUNS ?? 10);

const RECORD = `(() => { const O = window.RTCPeerConnection; window.__pcs = [];
  window.RTCPeerConnection = class extends O { constructor(...a) { super(...a); window.__pcs.push(this); } }; })();`;

const server = spawn(path.join(ROOT, "target/release/server"), [], {
  cwd: ROOT,
  env: { ...process.env, LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`, LEPTOS_SITE_ROOT: "target/site", RUST_LOG: "warn" },
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

async function person(browser, room, name) {
  const context = await browser.newContext({ permissions: ["camera", "microphone"] });
  await context.addInitScript(RECORD);
  const page = await context.newPage();
  await page.goto(`${BASE}/room/${room}`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.getByTestId("name-input").fill(name);
  await page.waitForFunction(() => !document.querySelector("[data-testid=join]").disabled);
  await page.getByTestId("join").click();
  await page.locator("[data-phase=in-call]").waitFor();
  return { context, page };
}

/** The viewer's screen receivers: total decoded frames, bytes, size and fps. */
const SCREEN_STATS = async () => {
  const ids = new Set();
  document.querySelectorAll("[data-testid=screen-tile] video").forEach((v) =>
    v.srcObject?.getVideoTracks().forEach((t) => ids.add(t.id)),
  );
  const out = { frames: 0, bytes: 0, width: 0, height: 0, fps: 0 };
  for (const pc of window.__pcs) {
    if (pc.connectionState === "closed") continue;
    for (const r of pc.getReceivers()) {
      if (!ids.has(r.track.id) || r.track.readyState !== "live") continue;
      (await r.getStats()).forEach((s) => {
        if (s.type !== "inbound-rtp") return;
        out.frames += s.framesDecoded ?? 0;
        out.bytes += s.bytesReceived ?? 0;
        out.width = s.frameWidth ?? out.width;
        out.height = s.frameHeight ?? out.height;
        out.fps = s.framesPerSecond ?? out.fps;
      });
    }
  }
  return out;
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

try {
  await waitHealthy();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      "--allow-loopback-in-peer-connection",
      "--disable-gpu",
      "--disable-quic",
    ],
  });
  const room = `benchshare${Date.now().toString(36)}`;
  const a = await person(browser, room, "Presenter");
  const b = await person(browser, room, "Viewer");
  await b.page.locator("[data-testid=remote-tile] video").waitFor();
  const times = [];
  for (let run = -1; run < RUNS; run++) {
    const watch = b.page.evaluate(async (stats) => {
      const read = eval(stats);
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline) {
        if ((await read()).frames > 0) return Date.now();
        await new Promise((r) => setTimeout(r, 5));
      }
      return -1;
    }, `(${SCREEN_STATS})`);
    const clicked = Date.now();
    await a.page.getByRole("button", { name: "Share screen", exact: true }).click();
    const seen = await watch;
    if (run >= 0) times.push(seen < 0 ? -1 : seen - clicked);
    if (run === RUNS - 1) break;
    await a.page.getByRole("button", { name: "Stop sharing", exact: true }).click();
    await b.page.locator("[data-testid=screen-tile]").waitFor({ state: "detached" });
  }
  // Steady state over 10 s of the last share (after 3 s of ramp-up).
  await new Promise((r) => setTimeout(r, 3000));
  const read = (p) => p.evaluate(async (stats) => eval(stats)(), `(${SCREEN_STATS})`);
  const s0 = await read(b.page);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 10000));
  const s1 = await read(b.page);
  const secs = (Date.now() - t0) / 1000;
  await browser.close();
  const ok = times.filter((t) => t >= 0);
  console.log(`share click -> first decoded screen frame, ${ok.length}/${times.length} runs (ms): ${times.join(" ")}`);
  console.log(`  median ${median(ok)} ms, min ${Math.min(...ok)} ms, max ${Math.max(...ok)} ms`);
  console.log(
    `steady state over ${secs.toFixed(1)} s: ${(((s1.bytes - s0.bytes) * 8) / 1000 / secs).toFixed(0)} kbit/s, ` +
      `${s1.width}x${s1.height}, ${((s1.frames - s0.frames) / secs).toFixed(1)} fps decoded`,
  );
} finally {
  server.kill("SIGTERM");
}
