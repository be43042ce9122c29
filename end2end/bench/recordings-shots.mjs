// Screenshots of the recordings page (desktop 1280x800 and phone 390x844), for looking at the
// UI (not a test). Needs a running server at BASE; writes PNGs to OUT (default
// ../target/recording-shots). Makes two recordings from the Rust tests' Chrome fixture.
import { chromium } from "playwright";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BASE = process.env.BASE ?? "http://127.0.0.1:3100";
const OUT = process.env.OUT ?? "../target/recording-shots";
const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.resolve(here, "../../server/tests/fixtures/chrome-vp8-opus");
const chunks = fs.readdirSync(FIXTURE).sort().map((f) => fs.readFileSync(path.join(FIXTURE, f)));
fs.mkdirSync(OUT, { recursive: true });

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--disable-gpu", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] });
const room = "shots" + Date.now().toString(36);
const owner = await browser.newPage();
await owner.goto(BASE + "/health");
await owner.evaluate(async (room) => {
  await new Promise((resolve) => {
    const ws = new WebSocket(`ws://${location.host}/ws/${room}/recorder`);
    window.ws = ws;
    ws.onmessage = resolve;
  });
}, room);

async function record(count, stop) {
  const r = await fetch(`${BASE}/api/rooms/${room}/recordings`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ peer: "recorder" }),
  });
  const s = await r.json();
  const auth = { authorization: `Bearer ${s.upload_token}` };
  for (let i = 0; i < count; i++) {
    await fetch(`${BASE}/api/rooms/${room}/recordings/${s.id}/chunks/${i}`, { method: "PUT", headers: auth, body: chunks[i] });
  }
  if (stop) await fetch(`${BASE}/api/rooms/${room}/recordings/${s.id}/stop`, { method: "POST", headers: auth });
  return s;
}
const first = await record(chunks.length, true);
await new Promise((r) => setTimeout(r, 1100));
const second = await record(3, false);

for (const [name, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]]) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && console.log("console error:", m.text()));
  await page.goto(BASE + "/health");
  await page.evaluate(([id, t]) => localStorage.setItem(`record-meet:recording-owner:${id}`, t), [first.id, first.owner_token]);
  await page.goto(`${BASE}/room/${room}/recordings`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.locator("[data-testid=recording]").first().waitFor();
  await page.locator("video").first().evaluate((v) => v.readyState >= 2 || new Promise((r) => v.addEventListener("loadeddata", r)));
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(OUT, `recordings-${name}.png`), fullPage: true });
  await page.goto(`${BASE}/room/empty-${room}/recordings`);
  await page.locator("[data-testid=recordings-empty]").waitFor();
  await page.screenshot({ path: path.join(OUT, `recordings-empty-${name}.png`) });
  await page.goto(`${BASE}/room/${room}`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.screenshot({ path: path.join(OUT, `room-link-${name}.png`) });
  await context.close();
}
// In the call while "second" is still recording: everyone sees the indicator.
for (const [name, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]]) {
  const context = await browser.newContext({ viewport, permissions: ["camera", "microphone"] });
  const page = await context.newPage();
  await page.goto(`${BASE}/room/${room}`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.getByTestId("name-input").fill("Alice");
  await page.waitForFunction(() => !document.querySelector("[data-testid=join]").disabled);
  await page.getByTestId("join").click();
  await page.locator("[data-testid=recording-indicator]").waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(OUT, `call-recording-${name}.png`) });
  await context.close();
}
console.log("second (still recording):", second.id);
await browser.close();
