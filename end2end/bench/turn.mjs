// Join -> first remote frame, relay-only through coturn against direct, in the same run:
// one coturn (TURN REST auth) and two servers of the release build, one forcing
// iceTransportPolicy "relay" with minted credentials, one with no ICE servers (direct host
// candidates). Rounds alternate between them so both see the same machine load.
// Run with scripts/bench-turn.sh (loopback-only namespace).
import { chromium } from "playwright";
import { spawn } from "node:child_process";
import net from "node:net";
import os from "node:os";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SECRET = "bench-turn-secret-0123456789";
const RECORD = `(() => { const O = window.RTCPeerConnection; window.__pcs = [];
  window.RTCPeerConnection = class extends O { constructor(...a) { super(...a); window.__pcs.push(this); } }; })();`;

function server(port, env) {
  return spawn(path.join(ROOT, "target/release/server"), [], {
    cwd: ROOT,
    env: { ...process.env, LEPTOS_SITE_ADDR: `127.0.0.1:${port}`, RUST_LOG: "warn", ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
}

async function until(check) {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("did not start");
}

const accepts = (port) =>
  new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

async function joinToFirstFrame(browser, base, run) {
  const room = `bench${Date.now().toString(36)}${run}`;
  const people = [];
  for (let i = 0; i < 2; i++) {
    const context = await browser.newContext({ permissions: ["camera", "microphone"] });
    await context.addInitScript(RECORD);
    people.push({ context, page: await context.newPage() });
  }
  const [a, b] = people;
  for (const p of people) {
    await p.page.goto(`${base}/room/${room}`);
    await p.page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
    await p.page.getByTestId("name-input").fill("Bench");
    await p.page.waitForFunction(() => !document.querySelector("[data-testid=join]").disabled);
  }
  await a.page.getByTestId("join").click();
  await a.page.locator("[data-phase=in-call]").waitFor();
  const ms = await b.page.evaluate(async () => {
    const start = performance.now();
    document.querySelector("[data-testid=join]").click();
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
  for (const p of people) await p.context.close();
  return ms;
}

const median = (xs) => {
  const s = xs.filter((x) => x >= 0).sort((x, y) => x - y);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-coturn-"));
const coturn = spawn(
  "turnserver",
  ["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--listening-port=3478", "--use-auth-secret",
   `--static-auth-secret=${SECRET}`, "--realm=record-meet", "--no-tls", "--no-dtls", "--allow-loopback-peers",
   "--no-cli", "--simple-log", `--log-file=${path.join(dir, "turn.log")}`],
  { stdio: "ignore" },
);
const direct = server(3401, {});
const relay = server(3402, {
  RECORD_MEET_ICE_URLS: "turn:127.0.0.1:3478",
  RECORD_MEET_TURN_SECRET: SECRET,
  RECORD_MEET_ICE_TRANSPORT_POLICY: "relay",
});
try {
  await until(() => accepts(3478));
  await until(() => accepts(3401));
  await until(() => accepts(3402));
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection", "--disable-gpu", "--disable-quic"],
  });
  await joinToFirstFrame(browser, "http://127.0.0.1:3401", "warmup");
  await joinToFirstFrame(browser, "http://127.0.0.1:3402", "warmup");
  const times = { direct: [], relay: [] };
  for (let i = 0; i < RUNS; i++) {
    times.direct.push(await joinToFirstFrame(browser, "http://127.0.0.1:3401", `d${i}`));
    times.relay.push(await joinToFirstFrame(browser, "http://127.0.0.1:3402", `r${i}`));
  }
  await browser.close();
  for (const [name, xs] of Object.entries(times)) {
    console.log(`${name.padEnd(7)} join -> first remote frame (ms): ${xs.map((t) => t.toFixed(0)).join(" ")}  median ${median(xs).toFixed(0)}`);
  }
} finally {
  direct.kill("SIGTERM");
  relay.kill("SIGTERM");
  coturn.kill("SIGTERM");
}
