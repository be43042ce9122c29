// Measures the call's two user-facing numbers against the release build:
//   1. join → first remote frame: a second person clicks Join in a room where a first person is
//      already in the call; time from the click to the first decoded remote video frame
//      (RTCPeerConnection.getStats framesDecoded > 0), polled every 5 ms inside the page.
//      Runs alternate between our client and the floor (bench/floor.html, a minimal plain-JS
//      client of the same protocol on the same server and browser), so both medians and their
//      ratio come from the same run.
//   2. first-load transfer size of the room page: HTML + JS + wasm + CSS as sent with brotli.
// Run with scripts/bench-call.sh (it builds, and runs this inside a loopback-only namespace).
import { chromium } from "playwright";
import { spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const PORT = Number(process.env.BENCH_PORT ?? 3300);
const BASE = `http://127.0.0.1:${PORT}`;
const RUNS = Number(process.env.BENCH_RUNS ?? 10);

const RECORD = `(() => { const O = window.RTCPeerConnection; window.__pcs = [];
  window.RTCPeerConnection = class extends O { constructor(...a) { super(...a); window.__pcs.push(this); } }; })();`;

function startServer() {
  const child = spawn(path.join(ROOT, "target/release/server"), [], {
    cwd: ROOT,
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
      RUST_LOG: "warn",
      // The floor client's page comes from its own little server (below).
      RECORD_MEET_ALLOWED_ORIGINS: FLOOR_ORIGIN,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return child;
}

async function waitHealthy() {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${BASE}/health`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not start");
}

/** Bytes on the wire for one GET with brotli accepted. */
function wireBytes(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { "accept-encoding": "br, gzip" } }, (res) => {
        let n = 0;
        res.on("data", (c) => (n += c.length));
        res.on("end", () => resolve({ bytes: n, encoding: res.headers["content-encoding"] ?? "identity", status: res.statusCode }));
      })
      .on("error", reject);
  });
}

async function firstLoad() {
  const html = await (await fetch(`${BASE}/room/benchroom01`)).text();
  const assets = [`${BASE}/room/benchroom01`];
  for (const m of html.matchAll(/(?:href|src|from)=?["'](\/pkg\/[^"']+)["']/g)) assets.push(BASE + m[1]);
  for (const m of html.matchAll(/["'](\/pkg\/[^"']+\.(?:js|wasm|css))["']/g)) assets.push(BASE + m[1]);
  const unique = [...new Set(assets)];
  const rows = [];
  for (const url of unique) rows.push({ url: url.replace(BASE, ""), ...(await wireBytes(url)) });
  return rows;
}

const FLOOR_HTML = readFileSync(path.join(ROOT, "end2end/bench/floor.html"), "utf8");
const FLOOR_PORT = PORT + 1;
const FLOOR_ORIGIN = `http://127.0.0.1:${FLOOR_PORT}`;

/** Serves the floor client from its own origin: a page that did not come from the network
 * (e.g. `page.route`) may not open loopback sockets under Chromium's local-network checks. */
function startFloorSite() {
  const site = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(FLOOR_HTML);
  });
  return new Promise((resolve) => site.listen(FLOOR_PORT, "127.0.0.1", () => resolve(site)));
}

async function person(browser) {
  const context = await browser.newContext({ permissions: ["camera", "microphone"] });
  await context.addInitScript(RECORD);
  const page = await context.newPage();
  return { context, page };
}

const CLIENTS = {
  ours: {
    async open(page, room) {
      await openLobby(page, room);
    },
    async joined(page) {
      await page.locator("[data-phase=in-call]").waitFor();
    },
  },
  floor: {
    async open(page, room) {
      await page.goto(`${FLOOR_ORIGIN}/?room=${room}&server=127.0.0.1:${PORT}`);
      await page.waitForFunction(() => !document.querySelector("#join").disabled);
    },
    async joined(page) {
      await page.locator("body[data-joined=true]").waitFor({ state: "attached" });
    },
  },
};

async function openLobby(page, room) {
  await page.goto(`${BASE}/room/${room}`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.getByTestId("name-input").fill("Bench");
  await page.getByTestId("join").waitFor();
  await page.waitForFunction(() => !document.querySelector("[data-testid=join]").disabled);
}

async function joinToFirstFrame(browser, client, run) {
  const room = `bench${Date.now().toString(36)}${run}`;
  const a = await person(browser);
  const b = await person(browser);
  await client.open(a.page, room);
  await a.page.locator("[data-testid=join], #join").first().click();
  await client.joined(a.page);
  await client.open(b.page, room);
  const ms = await b.page.evaluate(async () => {
    const start = performance.now();
    document.querySelector("[data-testid=join], #join").click();
    for (;;) {
      for (const pc of window.__pcs) {
        const stats = await pc.getStats();
        let frames = 0;
        stats.forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded ?? 0;
        });
        if (frames > 0) return performance.now() - start;
      }
      if (performance.now() - start > 20000) return -1;
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  await a.context.close();
  await b.context.close();
  return ms;
}

function percentile(sorted, p) {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

const floorSite = await startFloorSite();
const server = startServer();
try {
  await waitHealthy();
  const load = await firstLoad();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection", "--disable-gpu", "--disable-quic"],
  });
  const times = { ours: [], floor: [] };
  await joinToFirstFrame(browser, CLIENTS.ours, "warmup");
  await joinToFirstFrame(browser, CLIENTS.floor, "warmupf");
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so neither always runs on a machine the other just warmed.
    const order = i % 2 === 0 ? ["ours", "floor"] : ["floor", "ours"];
    for (const name of order) times[name].push(await joinToFirstFrame(browser, CLIENTS[name], `${name}${i}`));
  }
  await browser.close();
  console.log("first load (bytes on the wire, brotli accepted):");
  let total = 0;
  for (const r of load) {
    total += r.bytes;
    console.log(`  ${r.url.padEnd(40)} ${String(r.bytes).padStart(8)} B  ${r.encoding}`);
  }
  console.log(`  total ${(total / 1024).toFixed(1)} KiB`);
  const medians = {};
  for (const [name, all] of Object.entries(times)) {
    const ok = all.filter((t) => t >= 0).sort((x, y) => x - y);
    medians[name] = percentile(ok, 50);
    console.log(`join -> first remote frame, ${name}, ${ok.length}/${all.length} runs (ms): ${all.map((t) => t.toFixed(0)).join(" ")}`);
    console.log(`  median ${percentile(ok, 50).toFixed(0)} ms, p90 ${percentile(ok, 90).toFixed(0)} ms`);
  }
  console.log(`ours / floor (medians): ${(medians.ours / medians.floor).toFixed(2)}`);
} finally {
  server.kill("SIGTERM");
  floorSite.close();
}
