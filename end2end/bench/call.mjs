// Measures the call's two user-facing numbers against the release build:
//   1. join → first remote frame: a second person clicks Join in a room where a first person is
//      already in the call; time from the click to the first decoded remote video frame
//      (RTCPeerConnection.getStats framesDecoded > 0), polled every 5 ms inside the page.
//      Runs alternate between our client and the floor (bench/floor.html, a minimal plain-JS
//      client of the same protocol on the same server and browser), so both medians and their
//      ratio come from the same run.
//   2. first-load transfer size of the room page: what a fresh browser fetches for it (HTML + JS
//      + wasm + CSS, as sent, brotli), and apart from it the call's wasm chunks, which the lobby
//      fetches ahead of Join.
// TRACE=1 adds each step of the join on both sides (see TRACER below).
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
// The floor's camera: `default` (the browser's 640×480, as the floor has always been measured)
// or `720p` (the 1280×720 our client captures; the floor sends it at full size from the start).
const FLOOR_VIDEO = process.env.FLOOR_VIDEO ?? "default";

const RECORD = `(() => { const O = window.RTCPeerConnection; window.__pcs = [];
  window.RTCPeerConnection = class extends O { constructor(...a) { super(...a); window.__pcs.push(this); } }; })();`;

// TRACE=1: every page also notes, on one clock shared by all pages of the browser (epoch ms),
// when its socket opened, each frame it sent and received, each step of each connection, and
// its first decoded frame; the run prints the median of each step from the click, both sides.
const TRACE = process.env.TRACE === "1";
const TRACER = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  const log = (window.__trace = []);
  const mark = (what) => log.push([what, now()]);
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...a) {
      super(...a);
      mark("ws created");
      this.addEventListener("open", () => mark("ws open"));
      this.addEventListener("message", (e) => {
        try { mark("recv " + JSON.parse(e.data).type); } catch {}
      });
    }
    send(data) {
      try { mark("send " + JSON.parse(data).type); } catch {}
      return super.send(data);
    }
  };
  const P = RTCPeerConnection.prototype;
  for (const name of ["createOffer", "createAnswer", "setLocalDescription", "setRemoteDescription"]) {
    const original = P[name];
    P[name] = function (...a) {
      const kind = name.startsWith("set") ? " " + (a[0]?.type ?? "implicit") : "";
      mark(name + kind + " called");
      return original.apply(this, a).then((r) => { mark(name + kind + " done"); return r; });
    };
  }
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PC {
    constructor(...a) {
      super(...a);
      mark("pc created");
      this.addEventListener("iceconnectionstatechange", () => mark("ice " + this.iceConnectionState));
      this.addEventListener("connectionstatechange", () => mark("pc " + this.connectionState));
      this.addEventListener("track", (e) => mark("track " + e.track.kind));
    }
  };
})();`;

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

/** What a fresh browser fetches for the room page, as the browser reports it (Resource Timing's
 * `encodedBodySize`: the body as sent, brotli-compressed where the server compressed it). The
 * call's wasm chunks (`__wasm_split_manifest.json`'s `call`) and the loader that fetches them are
 * counted apart: the lobby fetches them while the person chooses devices, so that Join does not
 * wait; everything else is the page's first load. */
async function firstLoad(browser) {
  const context = await browser.newContext({ permissions: ["camera", "microphone"] });
  const page = await context.newPage();
  await page.goto(`${BASE}/room/benchroom01`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.waitForFunction(() => !document.querySelector("[data-testid=join]").disabled);
  await page.waitForLoadState("networkidle");
  const manifest = await (await fetch(`${BASE}/pkg/__wasm_split_manifest.json`)).json();
  const call = new Set((manifest.call ?? []).map((chunk) => `/pkg/${chunk}.wasm`));
  const entries = await page.evaluate(() =>
    [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].map((e) => ({
      url: new URL(e.name).pathname,
      bytes: e.encodedBodySize,
      raw: e.decodedBodySize,
      start: e.startTime,
    })),
  );
  await context.close();
  const rows = entries.filter((e) => !e.url.startsWith("/ws/"));
  const isCall = (url) => call.has(url) || url.startsWith("/pkg/__wasm_split.");
  return { first: rows.filter((e) => !isCall(e.url)), later: rows.filter((e) => isCall(e.url)) };
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
  if (TRACE) await context.addInitScript(TRACER);
  await context.addInitScript(RECORD);
  const page = await context.newPage();
  return { context, page };
}

const traces = { ours: [], floor: [] };

const CLIENTS = {
  ours: {
    name: "ours",
    async open(page, room) {
      await openLobby(page, room);
    },
    async joined(page) {
      await page.locator("[data-phase=in-call]").waitFor();
    },
  },
  floor: {
    name: "floor",
    async open(page, room) {
      await page.goto(`${FLOOR_ORIGIN}/?room=${room}&server=127.0.0.1:${PORT}&video=${FLOOR_VIDEO}`);
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
    window.__clickedAt = performance.timeOrigin + start;
    document.querySelector("[data-testid=join], #join").click();
    for (;;) {
      for (const pc of window.__pcs) {
        const stats = await pc.getStats();
        let frames = 0;
        stats.forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded ?? 0;
        });
        if (frames > 0) {
          (window.__trace ?? []).push(["first frame", performance.timeOrigin + performance.now()]);
          return performance.now() - start;
        }
      }
      if (performance.now() - start > 20000) return -1;
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  if (TRACE && !String(run).startsWith("warmup")) {
    const clicked = await b.page.evaluate(() => window.__clickedAt);
    const steps = [];
    for (const [side, page] of [["A", a.page], ["B", b.page]]) {
      const seen = new Set();
      for (const [what, at] of await page.evaluate(() => window.__trace)) {
        // The first time of each step only; A's steps before B's click are not part of the join.
        if (at < clicked || seen.has(what)) continue;
        seen.add(what);
        steps.push([`${side} ${what}`, at - clicked]);
      }
    }
    traces[client.name].push(steps);
  }
  await a.context.close();
  await b.context.close();
  return ms;
}

/** Per client, each step's median time from the click over the traced runs, in time order. */
function printTraces() {
  for (const [name, runs] of Object.entries(traces)) {
    const byStep = new Map();
    for (const steps of runs) for (const [what, t] of steps) byStep.set(what, [...(byStep.get(what) ?? []), t]);
    const rows = [...byStep].map(([what, ts]) => [what, percentile(ts.sort((x, y) => x - y), 50), ts.length]);
    rows.sort((x, y) => x[1] - y[1]);
    console.log(`trace, ${name} (median ms from the click, runs that had the step):`);
    for (const [what, t, n] of rows) console.log(`  ${t.toFixed(0).padStart(6)}  ${what}  (${n})`);
  }
}

function percentile(sorted, p) {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

const floorSite = await startFloorSite();
const server = startServer();
try {
  await waitHealthy();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection", "--disable-gpu", "--disable-quic"],
  });
  const load = await firstLoad(browser);
  const times = { ours: [], floor: [] };
  await joinToFirstFrame(browser, CLIENTS.ours, "warmup");
  await joinToFirstFrame(browser, CLIENTS.floor, "warmupf");
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so neither always runs on a machine the other just warmed.
    const order = i % 2 === 0 ? ["ours", "floor"] : ["floor", "ours"];
    for (const name of order) times[name].push(await joinToFirstFrame(browser, CLIENTS[name], `${name}${i}`));
  }
  await browser.close();
  for (const [title, rows] of [
    ["first load of the room page (body bytes as sent)", load.first],
    ["fetched by the lobby afterwards (the call's code)", load.later],
  ]) {
    console.log(`${title}:`);
    let total = 0;
    for (const r of rows) {
      total += r.bytes;
      console.log(`  ${r.url.padEnd(48)} ${String(r.bytes).padStart(8)} B  (${r.raw} B decoded)`);
    }
    console.log(`  total ${(total / 1000).toFixed(1)} KB`);
  }
  const medians = {};
  for (const [name, all] of Object.entries(times)) {
    const ok = all.filter((t) => t >= 0).sort((x, y) => x - y);
    medians[name] = percentile(ok, 50);
    console.log(`join -> first remote frame, ${name}, ${ok.length}/${all.length} runs (ms): ${all.map((t) => t.toFixed(0)).join(" ")}`);
    console.log(`  median ${percentile(ok, 50).toFixed(0)} ms, p90 ${percentile(ok, 90).toFixed(0)} ms`);
  }
  console.log(`ours / floor (medians): ${(medians.ours / medians.floor).toFixed(2)}`);
  if (TRACE) printTraces();
} finally {
  server.kill("SIGTERM");
  floorSite.close();
}
