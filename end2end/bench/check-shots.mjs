// Screenshots of the connectivity check page (/check), passed and failed, desktop and phone,
// for looking at the UI (not a test). Starts coturn and a release server of its own on
// loopback; run inside a loopback-only namespace:
//   unshare -rn bash -c 'ip link set lo up && cd end2end && OUT=../target/turn-shots node bench/check-shots.mjs'
import { chromium } from "playwright";
import { spawn } from "node:child_process";
import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const OUT = process.env.OUT ?? "../target/turn-shots";
const SECRET = "shots-turn-secret-0123456789";
const PORT = 3190;
fs.mkdirSync(OUT, { recursive: true });

const accepts = (port) =>
  new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
async function listening(port) {
  for (let i = 0; i < 300; i++) {
    if (await accepts(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shots-coturn-"));
const coturn = spawn(
  "turnserver",
  ["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--listening-port=3478", "--use-auth-secret",
   `--static-auth-secret=${SECRET}`, "--realm=record-meet", "--no-tls", "--no-dtls", "--allow-loopback-peers",
   "--no-cli", "--simple-log", `--log-file=${path.join(dir, "turn.log")}`, `--pidfile=${path.join(dir, "turn.pid")}`],
  { stdio: "ignore" },
);
const server = spawn(path.join(ROOT, "target/release/server"), [], {
  cwd: ROOT,
  env: {
    ...process.env,
    LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
    LEPTOS_SITE_ROOT: "target/site",
    LEPTOS_SITE_PKG_DIR: "pkg",
    LEPTOS_OUTPUT_NAME: "record-meet",
    RUST_LOG: "warn",
    RECORD_MEET_ICE_URLS: "stun:127.0.0.1:3478,turn:127.0.0.1:3478,turn:127.0.0.1:3478?transport=tcp",
    RECORD_MEET_TURN_SECRET: SECRET,
  },
  stdio: ["ignore", "inherit", "inherit"],
});
await listening(3478);
await listening(PORT);

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection", "--disable-gpu", "--disable-quic"],
});
const pages = [];
for (const [name, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]]) {
  const context = await browser.newContext({ permissions: ["camera", "microphone"], viewport });
  const page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && console.log("console error:", m.text()));
  await page.goto(`http://127.0.0.1:${PORT}/check?room=standup`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  pages.push([name, page]);
}
const settled = (page) =>
  page.waitForFunction(() => {
    const s = document.querySelector("[data-testid=check-summary]")?.getAttribute("data-status");
    return s && s !== "running" && s !== "waiting" && !document.querySelector("[data-testid=check-again]")?.disabled;
  }, null, { timeout: 60_000 });
for (const [name, page] of pages) {
  await settled(page);
  await page.screenshot({ path: path.join(OUT, `check-passed-${name}.png`), fullPage: true });
}
coturn.kill("SIGTERM");
await new Promise((r) => coturn.once("exit", r));
for (const [name, page] of pages) {
  await page.getByTestId("check-again").click();
  await page.waitForFunction(() => document.querySelector("[data-testid=check-again]")?.disabled, null, { timeout: 5_000 }).catch(() => {});
  await settled(page);
  await page.screenshot({ path: path.join(OUT, `check-failed-${name}.png`), fullPage: true });
}
await browser.close();
server.kill("SIGTERM");
fs.rmSync(dir, { recursive: true, force: true });
console.log(`screenshots in ${OUT}`);
