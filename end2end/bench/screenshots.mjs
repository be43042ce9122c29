// Screenshots of every page state, for looking at the UI (not a test). Needs a running server at
// BASE (default http://127.0.0.1:3100); writes PNGs to end2end/screenshots/.
import { chromium } from "playwright";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BASE = process.env.BASE ?? "http://127.0.0.1:3100";
const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "screenshots");
fs.mkdirSync(OUT, { recursive: true });

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection", "--disable-gpu", "--disable-quic"],
});
const viewport = { width: 1280, height: 800 };
async function person(permissions = ["camera", "microphone"], vp = viewport) {
  const context = await browser.newContext({ permissions, viewport: vp });
  const page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && console.log("console error:", m.text()));
  return page;
}
const shot = (page, name) => page.screenshot({ path: path.join(OUT, `${name}.png`) });
const hydrated = (page) => page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });

const home = await person();
await home.goto(BASE + "/");
await hydrated(home);
await shot(home, "01-home");
await home.getByLabel("Room name").fill("bad name!");
await shot(home, "02-home-invalid-name");

const room = "shots" + Date.now().toString(36);
const a = await person();
await a.goto(`${BASE}/room/${room}`);
await hydrated(a);
await a.getByTestId("name-input").fill("Alice");
await a.waitForFunction(() => !document.querySelector("[data-testid=join]").disabled);
await a.waitForTimeout(500);
await shot(a, "03-lobby");
await a.getByTestId("join").click();
await a.locator("[data-phase=in-call]").waitFor();
await a.waitForTimeout(500);
await shot(a, "04-call-alone");

const b = await person();
await b.goto(`${BASE}/room/${room}`);
await hydrated(b);
await b.getByTestId("name-input").fill("Bob");
await b.waitForFunction(() => !document.querySelector("[data-testid=join]").disabled);
await b.getByTestId("join").click();
await a.locator("[data-testid=remote-tile] video").waitFor();
await a.waitForTimeout(2500);
await shot(a, "05-call-two");
await b.getByTestId("toggle-mic").click();
await b.getByTestId("toggle-camera").click();
await a.getByTestId("toggle-stats").click();
await a.getByTestId("toggle-chat").click();
await b.getByTestId("toggle-chat").click();
await b.getByTestId("chat-input").fill("Hi Alice! <b>not bold</b>");
await b.keyboard.press("Enter");
await a.waitForTimeout(1500);
await shot(a, "06-call-chat-stats-muted");
await b.getByTestId("toggle-settings").click();
await shot(b, "07-call-settings-self-off");

const c = await person(["microphone"]);
await c.goto(`${BASE}/room/${room}`);
await hydrated(c);
await c.locator("[data-testid=media-problem]").waitFor();
await shot(c, "08-lobby-camera-blocked");
await c.getByTestId("join").click();
await a.waitForTimeout(2500);
await shot(a, "09-call-three");
await c.getByTestId("leave").click();
await shot(c, "10-left");

const phone = await person(["camera", "microphone"], { width: 390, height: 844 });
await phone.goto(`${BASE}/room/${room}`);
await hydrated(phone);
await phone.waitForFunction(() => !document.querySelector("[data-testid=join]").disabled);
await shot(phone, "11-phone-lobby");
await phone.getByTestId("join").click();
await phone.waitForTimeout(3000);
await shot(phone, "12-phone-call");

const nf = await person();
await nf.goto(BASE + "/no/such/page");
await shot(nf, "13-not-found");
await nf.goto(BASE + "/room/not.valid");
await shot(nf, "14-invalid-room");

await browser.close();
console.log("screenshots in", OUT);
