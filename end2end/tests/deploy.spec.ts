// The release bundle as people deploy it: unpacked anywhere, run with nothing but the address,
// behind a real TLS reverse proxy, and restarted under a live call.
import { test, expect } from "@playwright/test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { person, join, expectVideoFrom, freshRoom, closeEveryone } from "./call-helpers";
import {
  BundleProcess,
  Caddy,
  Nginx,
  RECORD_SIGNALING,
  bundlePath,
  emptyDir,
  httpsGet,
  longestStall,
  signals,
  startSampling,
  stopSampling,
  unpackBundle,
  unresponsiveSocket,
  wssUpgradeStatus,
} from "./deploy-helpers";

const PUBLIC_HOST = "meet.test";
const HTTPS_PORT = 3443;

test.use({
  launchOptions: {
    executablePath: "/usr/bin/chromium",
    args: [
      "--use-fake-device-for-media-stream",
      "--allow-loopback-in-peer-connection",
      "--disable-gpu",
      "--disable-quic",
      "--autoplay-policy=no-user-gesture-required",
      // The Caddy test's public name, and its `tls internal` certificate.
      `--host-resolver-rules=MAP ${PUBLIC_HOST} 127.0.0.1`,
      "--ignore-certificate-errors",
    ],
  },
});
test.setTimeout(150_000);
test.afterEach(closeEveryone);

const tarball = bundlePath();
test.skip(!tarball, "no release bundle in dist/: run `make dist` first");
let exe = "";
test.beforeAll(() => {
  if (tarball) exe = unpackBundle(tarball);
});

test("the unpacked bundle serves everything with env -i and only the address", async ({ browser }) => {
  const size = fs.statSync(tarball!).size;
  console.log(`bundle: ${tarball} ${(size / 1024 / 1024).toFixed(2)} MiB`);
  const run = (args: string[], env: string[] = []) =>
    spawnSync("env", ["-i", ...env, exe, ...args], { cwd: emptyDir("rm-cli-"), encoding: "utf8" });
  expect(run(["--version"]).stdout).toMatch(/^record-meet \d+\.\d+\.\d+/);
  const help = run(["--help"]).stdout;
  expect(help).toContain("--addr");
  expect(help).toContain("LEPTOS_SITE_ADDR");
  expect(help).toContain("--check-health");

  const server = new BundleProcess(exe, 3301);
  await server.start();
  try {
    const home = await fetch(`${server.url}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain("/pkg/record-meet.wasm");
    const health = await (await fetch(`${server.url}/health`)).json();
    expect(health.status).toBe("ok");
    expect(health.loops.runtime.ok).toBe(true);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    // The site comes from inside the executable: precompressed, with an ETag and 304s.
    const wasm = await fetch(`${server.url}/pkg/record-meet.wasm`, { headers: { "accept-encoding": "br" } });
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get("content-type")).toBe("application/wasm");
    const etag = wasm.headers.get("etag")!;
    expect(etag).toBeTruthy();
    const again = await fetch(`${server.url}/pkg/record-meet.wasm`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect((await fetch(`${server.url}/pkg/record-meet.css`)).status).toBe(200);
    expect((await fetch(`${server.url}/favicon.ico`)).status).toBe(200);
    expect((await fetch(`${server.url}/no/such/page`)).status).toBe(404);
    expect(run(["--check-health"], ["LEPTOS_SITE_ADDR=127.0.0.1:3301"]).status).toBe(0);

    const room = freshRoom("bundle");
    const alice = await person(browser);
    const bob = await person(browser);
    await join(alice.page, server.url, room, "Alice");
    await join(bob.page, server.url, room, "Bob");
    await expectVideoFrom(alice.page, 1);
    await expectVideoFrom(bob.page, 1);
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  } finally {
    await server.stop();
  }
  expect(run(["--check-health"], ["LEPTOS_SITE_ADDR=127.0.0.1:3301"]).status).toBe(1);
});

test("through Caddy with TLS: a call over https and wss, and the Origin check", async ({ browser }) => {
  const origin = `https://${PUBLIC_HOST}:${HTTPS_PORT}`;
  const server = new BundleProcess(exe, 3302, {
    RECORD_MEET_PUBLIC_ORIGIN: origin,
    RECORD_MEET_TRUSTED_PROXIES: "127.0.0.1,::1",
  });
  await server.start();
  const caddy = new Caddy(PUBLIC_HOST, HTTPS_PORT, 3302);
  try {
    await caddy.start();
    expect((await httpsGet(HTTPS_PORT, PUBLIC_HOST, "/ready")).status).toBe(200);
    const room = freshRoom("tls");
    expect(await wssUpgradeStatus(HTTPS_PORT, PUBLIC_HOST, `/ws/${room}-o/a`, origin)).toBe(101);
    expect(await wssUpgradeStatus(HTTPS_PORT, PUBLIC_HOST, `/ws/${room}-o/b`, "https://evil.test")).toBe(403);

    const alice = await person(browser);
    const bob = await person(browser);
    await alice.context.addInitScript(RECORD_SIGNALING);
    await join(alice.page, origin, room, "Alice");
    await join(bob.page, origin, room, "Bob");
    expect(await alice.page.evaluate(() => window.isSecureContext && location.protocol)).toBe("https:");
    await expectVideoFrom(alice.page, 1);
    await expectVideoFrom(bob.page, 1);
    expect((await signals(alice.page)).some((s) => s.type === "welcome")).toBe(true);
    expect(
      await alice.page.evaluate(() =>
        performance.getEntriesByType("resource").some((e) => e.name.startsWith("https://") && e.name.includes("/pkg/")),
      ),
    ).toBe(true);
  } finally {
    await caddy.stop();
    await server.stop();
  }
});

test("through nginx with TLS: the shipped site proxies pages and the WebSocket upgrade", async () => {
  const origin = `https://${PUBLIC_HOST}:${HTTPS_PORT + 10}`;
  const server = new BundleProcess(exe, 3304, {
    RECORD_MEET_PUBLIC_ORIGIN: origin,
    RECORD_MEET_TRUSTED_PROXIES: "127.0.0.1",
  });
  await server.start();
  const nginx = new Nginx(PUBLIC_HOST, HTTPS_PORT + 10, 3304);
  try {
    await nginx.start();
    const page = await httpsGet(HTTPS_PORT + 10, PUBLIC_HOST, "/");
    expect(page.status).toBe(200);
    expect(page.body).toContain("/pkg/record-meet.wasm");
    const room = freshRoom("nginx");
    expect(await wssUpgradeStatus(HTTPS_PORT + 10, PUBLIC_HOST, `/ws/${room}/a`, origin)).toBe(101);
    expect(await wssUpgradeStatus(HTTPS_PORT + 10, PUBLIC_HOST, `/ws/${room}/b`, "https://evil.test")).toBe(403);
  } finally {
    await nginx.stop();
    await server.stop();
  }
});

test("restart under a call: media never stops, both resume within 2 s, nobody leaves", async ({ browser }) => {
  const stateDir = emptyDir("rm-state-");
  const env = { RECORD_MEET_STATE_DIR: stateDir };
  let server = new BundleProcess(exe, 3303, env);
  await server.start();
  try {
    const room = freshRoom("restart");
    const alice = await person(browser);
    const bob = await person(browser);
    for (const p of [alice, bob]) await p.context.addInitScript(RECORD_SIGNALING);
    await join(alice.page, server.url, room, "Alice");
    await join(bob.page, server.url, room, "Bob");
    await expectVideoFrom(alice.page, 1);
    await expectVideoFrom(bob.page, 1);
    const pcsBefore = await Promise.all([alice, bob].map((p) => p.page.evaluate(() => (window as any).__pcs.length)));
    for (const p of [alice, bob]) await startSampling(p.page);
    await new Promise((r) => setTimeout(r, 1000));

    const sigterm = Date.now();
    await server.stop();
    const exitMs = server.exitMs;
    server = new BundleProcess(exe, 3303, env);
    await server.start();
    const listenedAt = server.listenedAt;
    // Both are back when each got a welcome from the new process.
    for (const p of [alice, bob]) {
      await expect
        .poll(async () => (await signals(p.page)).filter((s) => s.type === "welcome" && s.t >= sigterm).length, {
          timeout: 10_000,
        })
        .toBeGreaterThan(0);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const report: string[] = [];
    for (const [who, p] of [["alice", alice], ["bob", bob]] as const) {
      const samples = await stopSampling(p.page);
      const log = await signals(p.page);
      const closes = log.filter((s) => s.type === "close" && s.t >= sigterm);
      const welcome = log.find((s) => s.type === "welcome" && s.t >= sigterm)!;
      const first = log.find((s) => s.type === "welcome")!;
      const stall = longestStall(samples);
      report.push(
        `${who}: close ${closes.map((c) => `${c.code}@${c.t - sigterm}ms`).join(",")}, welcome ${welcome.t - listenedAt} ms after listening, longest frame gap ${stall.ms} ms (ending ${stall.endedAt - sigterm} ms after SIGTERM, ${samples.length} samples)`,
      );
      expect(closes[0]?.code, `${who} told to reconnect`).toBe(1012);
      expect(welcome.t - listenedAt, `${who} back in signaling`).toBeLessThanOrEqual(2000);
      expect(welcome.session, `${who} resumed the same session`).toBe(first.session);
      expect(log.filter((s) => s.type === "peer-left" || (s.type === "new-peer" && s.t >= sigterm))).toEqual([]);
      // Frames kept rising all along, on the same peer connection.
      expect(stall.ms, `${who}'s longest time without a new frame`).toBeLessThan(1000);
      expect(samples[samples.length - 1].frames).toBeGreaterThan(samples[0].frames + 30);
    }
    const pcsAfter = await Promise.all([alice, bob].map((p) => p.page.evaluate(() => (window as any).__pcs.length)));
    expect(pcsAfter).toEqual(pcsBefore);
    console.log(`restart: old process exited ${exitMs} ms after SIGTERM; ${report.join("; ")}`);
  } finally {
    await server.stop();
  }
});

test("a drain held up by a client that never answers: the browsers retry `restarting` until the new process takes them", async ({
  browser,
}) => {
  const stateDir = emptyDir("rm-state-");
  const env = { RECORD_MEET_STATE_DIR: stateDir };
  let server = new BundleProcess(exe, 3305, env);
  await server.start();
  const room = freshRoom("held");
  const stuck = await unresponsiveSocket(3305, `/ws/${room}-other/stuck`);
  try {
    const alice = await person(browser);
    const bob = await person(browser);
    for (const p of [alice, bob]) await p.context.addInitScript(RECORD_SIGNALING);
    await join(alice.page, server.url, room, "Alice");
    await join(bob.page, server.url, room, "Bob");
    await expectVideoFrom(alice.page, 1);
    await expectVideoFrom(bob.page, 1);

    const sigterm = Date.now();
    await server.stop();
    const drainMs = server.exitMs;
    // The browsers' first reconnects came while the old process still drained.
    expect(drainMs, "the drain waited for the unresponsive client").toBeGreaterThanOrEqual(400);
    server = new BundleProcess(exe, 3305, env);
    await server.start();
    for (const p of [alice, bob]) {
      await expect
        .poll(async () => (await signals(p.page)).filter((s) => s.type === "welcome" && s.t >= sigterm).length, {
          timeout: 10_000,
        })
        .toBeGreaterThan(0);
      const log = await signals(p.page);
      const first = log.find((s) => s.type === "welcome")!;
      const again = log.find((s) => s.type === "welcome" && s.t >= sigterm)!;
      expect(again.session, "the same session").toBe(first.session);
      expect(log.filter((s) => s.type === "peer-left" || (s.type === "new-peer" && s.t >= sigterm))).toEqual([]);
      await expect(p.page.getByTestId("stage")).toHaveAttribute("data-phase", "in-call");
    }
    await expectVideoFrom(alice.page, 1);
    const seen = async (p: typeof alice) =>
      (await signals(p.page))
        .filter((s) => s.t >= sigterm && (s.type === "close" || s.type === "welcome"))
        .map((s) => `${s.type === "close" ? s.code : "welcome"}@${s.t - sigterm}ms`)
        .join(",");
    console.log(`held-up drain: old process exited ${drainMs} ms after SIGTERM; alice ${await seen(alice)}; bob ${await seen(bob)}`);
  } finally {
    stuck.destroy();
    await server.stop();
  }
});
