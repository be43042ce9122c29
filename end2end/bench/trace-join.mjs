// Where a join's main-thread time goes: one page's Chrome timeline (devtools trace) from the
// joiner's click, for 900 ms, printed as one line per task over 2 ms (start and length from the
// click, and what it spent on script, style, layout, paint). WHO=B (default) traces the joiner,
// WHO=A the person already in the call; RUNS (default 2) joins, the first one a warm-up.
// Run it in the loopback namespace against the release build:
//   scripts/netns.sh node end2end/bench/trace-join.mjs
import { chromium } from "playwright";
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const PORT = 3399, BASE = `http://127.0.0.1:${PORT}`;
const server = spawn(ROOT + "/target/release/server", [], { cwd: ROOT, env: { ...process.env, LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`, LEPTOS_SITE_ROOT: ROOT + "/target/site", LEPTOS_SITE_PKG_DIR: "pkg", LEPTOS_OUTPUT_NAME: "record-meet", RUST_LOG: "warn" }, stdio: "inherit" });
for (let i = 0; i < 100; i++) { try { if ((await fetch(BASE + "/health")).ok) break; } catch {} await new Promise(r => setTimeout(r, 100)); }
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection", "--disable-gpu", "--disable-quic"] });
async function person() { const c = await browser.newContext({ permissions: ["camera", "microphone"] }); return { c, p: await c.newPage() }; }
async function lobby(page, room) {
  await page.goto(`${BASE}/room/${room}`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.getByTestId("name-input").fill("Bench");
  await page.waitForFunction(() => !document.querySelector("[data-testid=join]").disabled);
}
const WHO = process.env.WHO ?? "B";
for (let run = 0; run < Number(process.env.RUNS ?? 2); run++) {
  const room = "trace" + Date.now().toString(36);
  const a = await person(), b = await person();
  await lobby(a.p, room); await a.p.getByTestId("join").click(); await a.p.locator("[data-phase=in-call]").waitFor();
  await lobby(b.p, room);
  await new Promise(r => setTimeout(r, 500));
  const target = WHO === "A" ? a.p : b.p;
  await browser.startTracing(target, { categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing"] });
  await a.p.evaluate(() => performance.mark("a-side"));
  await b.p.evaluate(() => { performance.mark("click"); document.querySelector("[data-testid=join]").click(); });
  await new Promise(r => setTimeout(r, 900));
  const buf = await browser.stopTracing();
  if (run === 0) { await a.c.close(); await b.c.close(); continue; }
  const events = JSON.parse(buf.toString()).traceEvents;
  const click = events.find(e => e.name === "click" && e.cat.includes("user_timing"));
  const t0 = click.ts;
  // main thread = thread of the click mark
  const who = WHO === "A" ? events.find(e => e.name === "a-side") : click;
  const main = events.filter(e => e.pid === who.pid && e.tid === who.tid && e.ts >= t0 - 1000 && e.ph === "X");
  const tasks = main.filter(e => e.name === "RunTask" && e.dur > 2000).sort((x, y) => x.ts - y.ts);
  for (const t of tasks) {
    const inner = main.filter(e => e.ts >= t.ts && e.ts + (e.dur ?? 0) <= t.ts + t.dur && e !== t && ["FunctionCall", "EventDispatch", "UpdateLayoutTree", "Layout", "Paint", "PrePaint", "Layerize", "TimerFire", "FireAnimationFrame", "v8.compile", "CompileScript", "EvaluateScript", "ParseHTML", "HitTest", "v8.callFunction", "Commit", "UpdateLayer"].includes(e.name));
    const by = new Map();
    for (const e of inner) by.set(e.name + (e.name === "EventDispatch" ? ":" + e.args?.data?.type : ""), (by.get(e.name) ?? 0) + e.dur);
    console.log(`${((t.ts - t0) / 1000).toFixed(0).padStart(5)} ms +${(t.dur / 1000).toFixed(1).padStart(6)} ms  ` + [...by].filter(([, d]) => d > 500).map(([k, d]) => `${k} ${(d / 1000).toFixed(1)}`).join(", "));
  }
  await a.c.close(); await b.c.close();
}
await browser.close(); server.kill("SIGTERM");
