import { test, expect, Browser } from "@playwright/test";
import {
  person,
  join,
  inbound,
  expectVideoFrom,
  freshRoom,
  ServerProcess,
  closeEveryone,
} from "./call-helpers";
import {
  Coturn,
  recordFrames,
  recordResponses,
  RECORD_ICE_ERRORS,
  selectedCandidateTypes,
  configuredTurnUsernames,
} from "./turn-helpers";

// Real coturn (started here, on loopback) and servers of our own with TURN settings: each test
// proves the relay path with relay-only connections, which have no other way to connect.
test.setTimeout(120_000);

const SECRET = "e2e-turn-secret-4b9d1f7a2c";
const TURN_URLS = "turn:127.0.0.1:3478,turn:127.0.0.1:3478?transport=tcp";

let coturn: Coturn;
let server: ServerProcess | null = null;

test.beforeEach(async () => {
  coturn = new Coturn(SECRET);
  await coturn.start();
});

test.afterEach(async () => {
  await closeEveryone();
  await server?.stop();
  server = null;
  await coturn.stop();
});

async function relayServer(port: number, secret: string, extra: Record<string, string> = {}) {
  server = new ServerProcess(port, {
    RECORD_MEET_ICE_URLS: `stun:127.0.0.1:3478,${TURN_URLS}`,
    RECORD_MEET_TURN_SECRET: secret,
    RECORD_MEET_ICE_TRANSPORT_POLICY: "relay",
    RUST_LOG: "debug",
    ...extra,
  });
  await server.start();
  return server;
}

async function relayPerson(browser: Browser) {
  const p = await person(browser);
  await p.context.addInitScript(RECORD_ICE_ERRORS);
  return { ...p, frames: recordFrames(p.page), bodies: recordResponses(p.context) };
}

test("two relay-only browsers see each other through coturn with minted credentials", async ({ browser }) => {
  const srv = await relayServer(3201, SECRET);
  const room = freshRoom("relay");
  const alice = await relayPerson(browser);
  const bob = await relayPerson(browser);
  await join(alice.page, srv.url, room, "Alice");
  await join(bob.page, srv.url, room, "Bob");
  await expectVideoFrom(alice.page, 1);
  await expectVideoFrom(bob.page, 1);
  // Both ends of the selected path are relay candidates: the media went through coturn.
  for (const p of [alice.page, bob.page]) {
    await expect.poll(() => selectedCandidateTypes(p)).toEqual(["relay/relay"]);
  }
  // The welcome carried minted credentials (expiry:peer) and the relay-only policy.
  const welcome = JSON.parse(alice.frames.find((f) => f.includes('"type":"welcome"'))!);
  expect(welcome.data.iceTransportPolicy).toBe("relay");
  const turn = welcome.data.iceServers.find((s: any) => s.urls[0].startsWith("turn:"));
  const [expiry, peer] = turn.username.split(":");
  const now = Date.now() / 1000;
  expect(Number(expiry)).toBeGreaterThan(now);
  expect(Number(expiry)).toBeLessThanOrEqual(now + 6 * 3600 + 5);
  expect(peer).toBe(welcome.to);
  expect(turn.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/);

  // The secret is nowhere: page, scripts, frames, console, server log.
  const captured = [
    await alice.page.content(),
    await bob.page.content(),
    ...(await Promise.all([...alice.bodies, ...bob.bodies])),
    ...alice.frames,
    ...bob.frames,
    ...srv.output,
  ];
  expect(captured.length).toBeGreaterThan(10);
  for (const text of captured) expect(text).not.toContain(SECRET);
  expect(alice.errors).toEqual([]);
  expect(bob.errors).toEqual([]);
});

test("with a server whose secret is not coturn's, the same call gets no media", async ({ browser }) => {
  const srv = await relayServer(3202, "not-the-secret-of-this-coturn");
  const room = freshRoom("wrong");
  const alice = await relayPerson(browser);
  const bob = await relayPerson(browser);
  await join(alice.page, srv.url, room, "Alice");
  await join(bob.page, srv.url, room, "Bob");
  // coturn answers 401 to the authenticated allocations (the browser reports only those, not
  // the usual first 401 that asks for credentials), so neither side has a single candidate.
  for (const p of [alice.page, bob.page]) {
    await expect
      .poll(() => p.evaluate(() => (window as any).__iceErrors as number[]), { timeout: 20_000 })
      .toContain(401);
    await expect
      .poll(() => p.evaluate(() => (window as any).__pcs.map((pc: RTCPeerConnection) => pc.iceGatheringState)), {
        timeout: 30_000,
      })
      .toEqual(["complete"]);
  }
  expect((await inbound(alice.page)).videoFrames).toBe(0);
  expect((await inbound(bob.page)).videoFrames).toBe(0);
  expect(await selectedCandidateTypes(alice.page)).toEqual([]);
});

test("renewed credentials reach open connections, and an ICE restart keeps the media", async ({ browser }) => {
  // Credentials for 10 s: the server renews them every 5 s.
  const srv = await relayServer(3203, SECRET, { RECORD_MEET_TURN_TTL_SECS: "10" });
  const room = freshRoom("renew");
  const alice = await relayPerson(browser);
  const bob = await relayPerson(browser);
  await join(alice.page, srv.url, room, "Alice");
  await join(bob.page, srv.url, room, "Bob");
  await expectVideoFrom(alice.page, 1);
  const first = (await configuredTurnUsernames(alice.page))[0];
  expect(first).toMatch(/^\d+:/);
  // An `ice-servers` frame arrives and the open connection is reconfigured with it.
  await expect
    .poll(() => alice.frames.filter((f) => f.includes('"type":"ice-servers"')).length, { timeout: 15_000 })
    .toBeGreaterThan(0);
  await expect.poll(() => configuredTurnUsernames(alice.page), { timeout: 5_000 }).not.toContain(first);
  const renewed = (await configuredTurnUsernames(alice.page))[0];
  expect(Number(renewed.split(":")[0])).toBeGreaterThan(Number(first.split(":")[0]));
  // The first credentials have expired by now; a restart must allocate with the renewed ones.
  await expect.poll(() => Date.now() / 1000, { timeout: 15_000 }).toBeGreaterThan(Number(first.split(":")[0]) + 1);
  await alice.page.evaluate(() => (window as any).__pcs.forEach((pc: RTCPeerConnection) => pc.restartIce()));
  await expectVideoFrom(alice.page, 1);
  await expectVideoFrom(bob.page, 1);
  expect(await alice.page.evaluate(() => (window as any).__iceErrors)).not.toContain(401);
  expect(await selectedCandidateTypes(alice.page)).toEqual(["relay/relay"]);
  expect(alice.errors).toEqual([]);
});

test("the connectivity check reports the relay as working, then as failed when coturn stops", async ({ browser }) => {
  const srv = await relayServer(3204, SECRET);
  const { page, context, errors } = await person(browser);
  const bodies = recordResponses(context);
  const frames = recordFrames(page);
  // Linked from the lobby.
  const room = freshRoom("check");
  await page.goto(`${srv.url}/room/${room}`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.getByTestId("check-link").click();
  await expect(page).toHaveURL(new RegExp(`/check\\?room=${room}$`));
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });

  const row = (key: string) => page.getByTestId(`check-${key}`);
  await expect(row("camera")).toHaveAttribute("data-status", "passed");
  await expect(row("microphone")).toHaveAttribute("data-status", "passed");
  await expect(row("signaling")).toHaveAttribute("data-status", "passed");
  await expect(row("relay-udp")).toHaveAttribute("data-status", "passed", { timeout: 15_000 });
  await expect(row("relay-tcp")).toHaveAttribute("data-status", "passed", { timeout: 15_000 });
  await expect(row("relay-udp").getByTestId("check-text")).toContainText("over UDP");
  // No turns: URL is configured: said so, with what to add.
  await expect(row("relay-tls")).toHaveAttribute("data-status", "skipped");
  await expect(row("relay-tls").getByTestId("check-admin")).toContainText("turns:");
  await expect(page.getByTestId("check-again")).toBeEnabled({ timeout: 15_000 });

  await coturn.stop();
  await page.getByTestId("check-again").click();
  await expect(row("relay-udp")).toHaveAttribute("data-status", "failed", { timeout: 30_000 });
  await expect(row("relay-tcp")).toHaveAttribute("data-status", "failed", { timeout: 30_000 });
  await expect(row("relay-tcp").getByTestId("check-text")).toContainText("No answer from the relay");
  await expect(row("relay-tcp").getByTestId("check-admin")).toContainText("TCP");
  await expect(page.getByTestId("check-summary")).toHaveAttribute("data-status", "failed");
  await expect(page.getByTestId("check-back")).toHaveAttribute("href", `/room/${room}`);

  const captured = [await page.content(), ...(await Promise.all(bodies)), ...frames, ...srv.output];
  for (const text of captured) expect(text).not.toContain(SECRET);
  expect(errors).toEqual([]);
});
