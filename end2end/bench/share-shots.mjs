// Screenshots of the call layouts, for looking at them (not a test): the grid at 2, 3, 5 and 8
// people and the presenter layout, each on a desktop (1280×800) and a phone (390×844) viewer,
// plus the presenter's own view. Needs a running server at BASE (default http://127.0.0.1:3100);
// writes PNGs to OUT (default ../target/share-shots). Extra people join without devices (avatar
// tiles) so that eight pages fit on two cores.
import { chromium } from "playwright";
import fs from "node:fs";
import path from "node:path";

const BASE = process.env.BASE ?? "http://127.0.0.1:3100";
const OUT = process.env.OUT ?? "../target/share-shots";
fs.mkdirSync(OUT, { recursive: true });

const args = ["--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection", "--disable-gpu", "--disable-quic"];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args });
// The presenter's browser answers getDisplayMedia with a fake screen.
const sharing = await chromium.launch({ executablePath: "/usr/bin/chromium", args: [...args, "--use-fake-ui-for-media-stream"] });

const room = "shots" + Date.now().toString(36);
const names = ["Alice", "Bob", "Carol", "Dan", "Eve", "Frank", "Grace", "Heidi"];
let next = 0;

async function join(b, { viewport = { width: 1280, height: 800 }, devices = true } = {}) {
  const context = await b.newContext({ viewport, permissions: devices ? ["camera", "microphone"] : [] });
  const page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && console.log("console error:", m.text()));
  await page.goto(`${BASE}/room/${room}`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.getByTestId("name-input").fill(names[next++] ?? `Guest ${next}`);
  await page.waitForFunction(() => !document.querySelector("[data-testid=join]").disabled);
  await page.getByTestId("join").click();
  await page.locator("[data-phase=in-call]").waitFor();
  return page;
}

const settle = (page, count) =>
  page.waitForFunction((n) => document.querySelectorAll("[data-testid=remote-tile]").length === n - 1, count).then(() => page.waitForTimeout(2500));
const shot = (page, name) => page.screenshot({ path: path.join(OUT, `${name}.png`) });

const desk = await join(browser);
const phone = await join(browser, { viewport: { width: 390, height: 844 } });
let people = 2;
async function grow(to, devices) {
  while (people < to) {
    await join(browser, { devices: devices && people < 4 });
    people++;
  }
  await settle(desk, people);
  await settle(phone, people);
}

await settle(desk, 2);
await shot(desk, "grid-2-desktop");
await shot(phone, "grid-2-phone");
await grow(3, true);
await shot(desk, "grid-3-desktop");
await shot(phone, "grid-3-phone");
const presenter = await join(sharing);
people++;
await grow(5, false);
await shot(desk, "grid-5-desktop");
await shot(phone, "grid-5-phone");

await presenter.getByRole("button", { name: "Share screen", exact: true }).click();
await desk.locator("[data-testid=screen-tile]").waitFor();
await phone.locator("[data-testid=screen-tile]").waitFor();
await desk.waitForTimeout(3000);
await shot(desk, "presenter-5-desktop");
await shot(phone, "presenter-5-phone");
await shot(presenter, "presenter-own-view");
await presenter.getByRole("button", { name: "Stop sharing", exact: true }).click();
await desk.locator("[data-testid=screen-tile]").waitFor({ state: "detached" });

await grow(8, false);
await shot(desk, "grid-8-desktop");
await shot(phone, "grid-8-phone");
await presenter.getByRole("button", { name: "Share screen", exact: true }).click();
await phone.locator("[data-testid=screen-tile]").waitFor();
await phone.waitForTimeout(3000);
await shot(desk, "presenter-8-desktop");
await shot(phone, "presenter-8-phone");

await browser.close();
await sharing.close();
console.log("screenshots in", OUT);
