import { test, expect, Browser } from "@playwright/test";
import {
  person,
  join,
  inbound,
  expectVideoFrom,
  expectRemoteVideosPlaying,
  freshRoom,
  ServerProcess,
  closeEveryone,
} from "./call-helpers";

// Calls with several pages are slow on two cores.
test.setTimeout(120_000);
test.afterEach(closeEveryone);

async function twoInACall(browser: Browser, baseURL: string) {
  const room = freshRoom("pair");
  const alice = await person(browser);
  const bob = await person(browser);
  await join(alice.page, baseURL, room, "Alice");
  await join(bob.page, baseURL, room, "Bob");
  return { room, alice, bob };
}

test("two people see and hear each other", async ({ browser, baseURL }) => {
  const { alice, bob } = await twoInACall(browser, baseURL!);
  await expectVideoFrom(alice.page, 1);
  await expectVideoFrom(bob.page, 1);
  await expect.poll(async () => (await inbound(alice.page)).audioPackets).toBeGreaterThan(0);
  await expect.poll(async () => (await inbound(bob.page)).audioPackets).toBeGreaterThan(0);
  await expectRemoteVideosPlaying(alice.page, 1);
  await expectRemoteVideosPlaying(bob.page, 1);
  await expect(alice.page.getByTestId("remote-tile").getByTestId("tile-name")).toHaveText("Bob");
  await expect(bob.page.getByTestId("remote-tile").getByTestId("tile-name")).toHaveText("Alice");
  expect(alice.errors).toEqual([]);
  expect(bob.errors).toEqual([]);
});

test("a new connection starts the camera at half size and sends it full size soon after", async ({
  browser,
  baseURL,
}) => {
  const { alice, bob } = await twoInACall(browser, baseURL!);
  // The widest video frame Bob has decoded so far.
  const widest = () =>
    bob.page.evaluate(async () => {
      let width = 0;
      for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
        (await pc.getStats()).forEach((s: any) => {
          if (s.type === "inbound-rtp" && s.kind === "video") width = Math.max(width, s.frameWidth ?? 0);
        });
      }
      return width;
    });
  // The first frames: 640 wide, half the camera's 1280.
  await expect.poll(widest).toBeGreaterThan(0);
  expect(await widest()).toBeLessThanOrEqual(640);
  // What Alice's camera senders are set to scale down by, per connection.
  const scales = () =>
    alice.page.evaluate(() =>
      ((window as any).__pcs as RTCPeerConnection[])
        .filter((pc) => pc.connectionState !== "closed")
        .flatMap((pc) => pc.getSenders())
        .filter((s) => s.track?.kind === "video")
        .map((s) => s.getParameters().encodings[0]?.scaleResolutionDownBy ?? 1),
    );
  await expect.poll(scales, { timeout: 10_000 }).toEqual([1]);
  // And Bob decodes frames wider than the start's.
  await expect.poll(widest, { timeout: 30_000 }).toBeGreaterThan(640);
  expect(alice.errors).toEqual([]);
  expect(bob.errors).toEqual([]);
});

test("chat goes both ways with names, as text only", async ({ browser, baseURL }) => {
  const { alice, bob } = await twoInACall(browser, baseURL!);
  await alice.page.getByTestId("toggle-chat").click();
  await alice.page.getByTestId("chat-input").fill("<script>window.pwned=1</script> hello");
  await alice.page.getByTestId("chat-send").click();
  // Bob's panel is closed: an unread badge appears.
  await expect(bob.page.getByTestId("unread")).toHaveText("1");
  await bob.page.getByTestId("toggle-chat").click();
  const bobLine = bob.page.getByTestId("chat-line").last();
  await expect(bobLine.getByTestId("chat-name")).toHaveText("Alice");
  await expect(bobLine.getByTestId("chat-text")).toHaveText("<script>window.pwned=1</script> hello");
  expect(await bob.page.evaluate(() => (window as any).pwned)).toBeUndefined();
  await bob.page.getByTestId("chat-input").fill("hi Alice");
  await bob.page.keyboard.press("Enter");
  const aliceLine = alice.page.getByTestId("chat-line").last();
  await expect(aliceLine.getByTestId("chat-name")).toHaveText("Bob");
  await expect(aliceLine.getByTestId("chat-text")).toHaveText("hi Alice");
  // The sender sees their own message too.
  await expect(alice.page.getByTestId("chat-text")).toHaveCount(2);
  expect(alice.errors).toEqual([]);
  expect(bob.errors).toEqual([]);
});

test("a name with markup shows as text", async ({ browser, baseURL }) => {
  const room = freshRoom("name");
  const alice = await person(browser);
  const bob = await person(browser);
  await join(alice.page, baseURL!, room, "<img src=x onerror=window.pwned=1>");
  await join(bob.page, baseURL!, room, "Bob");
  await expect(bob.page.getByTestId("remote-tile").getByTestId("tile-name")).toHaveText(
    "<img src=x onerror=window.pwned=1>",
  );
  expect(await bob.page.evaluate(() => (window as any).pwned)).toBeUndefined();
});

test("mic and camera off show on the other side; a device switch keeps frames flowing", async ({
  browser,
  baseURL,
}) => {
  const { alice, bob } = await twoInACall(browser, baseURL!);
  await expectVideoFrom(bob.page, 1);
  const aliceTile = bob.page.getByTestId("remote-tile");
  await expect(aliceTile.getByTestId("mic-off")).toHaveCount(0);
  await alice.page.getByTestId("toggle-mic").click();
  await expect(aliceTile.getByTestId("mic-off")).toBeVisible();
  await alice.page.keyboard.press("v");
  await expect(aliceTile.getByTestId("camera-off")).toBeVisible();
  await expect(alice.page.getByTestId("toggle-camera")).toHaveAttribute("aria-pressed", "false");
  await alice.page.keyboard.press("v");
  await alice.page.getByTestId("toggle-mic").click();
  await expect(aliceTile.getByTestId("mic-off")).toHaveCount(0);
  await expect(aliceTile.getByTestId("camera-off")).toHaveCount(0);

  // Switch Alice's camera to another (or the same) device: replaceTrack, no renegotiation.
  await alice.page.getByTestId("toggle-settings").click();
  const select = alice.page.getByTestId("camera-select").last();
  const values = await select.locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  await select.selectOption(values[values.length - 1]);
  await expectVideoFrom(bob.page, 1);
  expect(alice.errors).toEqual([]);
  expect(bob.errors).toEqual([]);
});

test("leaving or closing the tab removes the tile within 2 s", async ({ browser, baseURL }) => {
  const room = freshRoom("leave");
  const alice = await person(browser);
  const bob = await person(browser);
  const carol = await person(browser);
  await join(alice.page, baseURL!, room, "Alice");
  await join(bob.page, baseURL!, room, "Bob");
  await join(carol.page, baseURL!, room, "Carol");
  await expect(alice.page.getByTestId("remote-tile")).toHaveCount(2);

  await bob.page.getByTestId("leave").click();
  await expect(bob.page.getByTestId("ended")).toBeVisible();
  await expect(alice.page.getByTestId("remote-tile")).toHaveCount(1, { timeout: 2_000 });

  await carol.page.close();
  await expect(alice.page.getByTestId("remote-tile")).toHaveCount(0, { timeout: 2_000 });
  await expect(alice.page.getByTestId("waiting")).toBeVisible();
});

test("three in a call decode each other; a fourth joining later gets all three", async ({
  browser,
  baseURL,
}) => {
  const room = freshRoom("mesh");
  const people = [];
  for (const name of ["Ann", "Ben", "Cat"]) {
    const p = await person(browser);
    await join(p.page, baseURL!, room, name);
    people.push(p);
  }
  for (const p of people) await expectVideoFrom(p.page, 2, 40_000);
  const dan = await person(browser);
  await join(dan.page, baseURL!, room, "Dan");
  await expectVideoFrom(dan.page, 3, 40_000);
  await expectRemoteVideosPlaying(dan.page, 3);
  for (const p of [...people, dan]) expect(p.errors).toEqual([]);
});

test("a reloaded tab comes back into the call by itself", async ({ browser, baseURL }) => {
  const { alice, bob } = await twoInACall(browser, baseURL!);
  await expectVideoFrom(alice.page, 1);
  await bob.page.reload();
  await expect(bob.page.getByTestId("stage")).toHaveAttribute("data-phase", "in-call", { timeout: 20_000 });
  await expectVideoFrom(bob.page, 1);
  await expect(alice.page.getByTestId("remote-tile")).toHaveCount(1);
  await expectVideoFrom(alice.page, 1);
});

test("after a server restart both tabs rejoin and frames flow again, without a reload", async ({
  browser,
}) => {
  const server = new ServerProcess(3201);
  await server.start();
  try {
    const room = freshRoom("restart");
    const alice = await person(browser);
    const bob = await person(browser);
    await join(alice.page, server.url, room, "Alice");
    await join(bob.page, server.url, room, "Bob");
    await expectVideoFrom(alice.page, 1);
    await expectVideoFrom(bob.page, 1);

    await server.stop();
    await expect(alice.page.getByTestId("reconnecting")).toBeVisible();
    await server.start();

    for (const p of [alice, bob]) {
      await expect(p.page.getByTestId("stage")).toHaveAttribute("data-phase", "in-call", { timeout: 30_000 });
    }
    // New connections: frames decoded on them (old ones are closed and not counted).
    await expectVideoFrom(alice.page, 1, 30_000);
    await expectVideoFrom(bob.page, 1, 30_000);
    await expectRemoteVideosPlaying(alice.page, 1);
  } finally {
    await server.stop();
  }
});

test("a full room says so", async ({ browser }) => {
  const server = new ServerProcess(3202, { RECORD_MEET_ROOM_CAPACITY: "2" });
  await server.start();
  try {
    const room = freshRoom("full");
    const alice = await person(browser);
    const bob = await person(browser);
    const carol = await person(browser);
    await join(alice.page, server.url, room, "Alice");
    await join(bob.page, server.url, room, "Bob");
    await carol.page.goto(`${server.url}/room/${room}`);
    await carol.page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
    await expect(carol.page.getByTestId("join")).toBeEnabled();
    await carol.page.getByTestId("join").click();
    await expect(carol.page.getByTestId("ended-detail")).toContainText("full");
  } finally {
    await server.stop();
  }
});

test("the call view waits hidden and inert behind the lobby; its shortcuts wait for the call", async ({
  browser,
  baseURL,
}) => {
  const alice = await person(browser);
  const page = alice.page;
  await page.goto(`${baseURL}/room/${freshRoom("layer")}`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  // The lobby loads the call's code and renders the call view behind itself.
  const layer = page.getByTestId("call-layer");
  await layer.waitFor({ state: "attached" });
  await expect(layer).toBeHidden();
  await expect(layer).toHaveAttribute("inert", "");
  await expect(page.getByTestId("join")).toBeEnabled();
  // M outside a text field: the lobby's microphone stays on.
  const lobbyMic = page.locator(".lobby").getByTestId("toggle-mic");
  await expect(lobbyMic).toHaveAttribute("aria-pressed", "true");
  await page.getByTestId("room-id").click();
  await page.keyboard.press("m");
  await expect(lobbyMic).toHaveAttribute("aria-pressed", "true");
  await page.getByTestId("name-input").fill("Alice");
  await page.getByTestId("join").click();
  await expect(page.getByTestId("stage")).toHaveAttribute("data-phase", "in-call");
  await expect(layer).toBeVisible();
  await expect(layer).not.toHaveAttribute("inert", /.*/);
  await page.getByTestId("room-id").click();
  await page.keyboard.press("m");
  await expect(page.getByTestId("toggle-mic")).toHaveAttribute("aria-pressed", "false");
  expect(alice.errors).toEqual([]);
});

test("with the camera blocked the lobby says so and joining still works", async ({ browser, baseURL }) => {
  const room = freshRoom("denied");
  const alice = await person(browser);
  const bob = await person(browser, { permissions: ["microphone"] });
  await join(alice.page, baseURL!, room, "Alice");
  await bob.page.goto(`${baseURL}/room/${room}`);
  await bob.page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await expect(bob.page.getByTestId("media-problem")).toContainText("camera");
  await bob.page.getByTestId("name-input").fill("Bob");
  await bob.page.getByTestId("join").click();
  await expect(bob.page.getByTestId("stage")).toHaveAttribute("data-phase", "in-call");
  // Bob still sees Alice, and Alice hears Bob.
  await expectVideoFrom(bob.page, 1);
  await expect.poll(async () => (await inbound(alice.page)).audioPackets).toBeGreaterThan(0);
  await expect(alice.page.getByTestId("remote-tile").getByTestId("camera-off")).toBeVisible();
});

test("on a phone the call and every control fit the screen, with no sideways scrolling", async ({ browser, baseURL }) => {
  const { alice } = await twoInACall(browser, baseURL!);
  for (const width of [390, 360]) {
    await alice.page.setViewportSize({ width, height: 800 });
    await expect
      .poll(() => alice.page.evaluate(() => document.documentElement.scrollWidth))
      .toBeLessThanOrEqual(width);
    const leave = await alice.page.getByTestId("leave").boundingBox();
    expect(leave!.x + leave!.width).toBeLessThanOrEqual(width);
  }
});
