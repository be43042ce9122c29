import { test, expect, Page } from "@playwright/test";
import {
  person,
  join,
  freshRoom,
  closeEveryone,
  expectVideoFrom,
  capturedTracks,
  ServerProcess,
  Proxy,
} from "./call-helpers";

// The call belongs to the room page: every way of leaving the page ends it like Leave.
test.setTimeout(120_000);
test.afterEach(closeEveryone);

/** Goes to the room by the home page's join form, so the page change is in-app (no reload). */
async function joinFromHome(page: Page, baseURL: string, room: string, name: string) {
  await page.goto(`${baseURL}/`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.getByLabel("Room name").fill(room);
  await page.getByRole("button", { name: "Join", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/room/${room}$`));
  await page.getByTestId("name-input").fill(name);
  await expect(page.getByTestId("join")).toBeEnabled();
  await page.getByTestId("join").click();
  await expect(page.getByTestId("stage")).toHaveAttribute("data-phase", "in-call");
}

/** Every camera/microphone track the page ever captured is ended. */
async function expectAllCapturedEnded(page: Page) {
  await expect
    .poll(async () => (await capturedTracks(page)).filter((t) => t.state !== "ended").length, {
      timeout: 2_000,
      message: "captured tracks still live",
    })
    .toBe(0);
  expect((await capturedTracks(page)).length).toBeGreaterThanOrEqual(2);
}

/** The same tab joins another room without a reload and decodes video there. */
async function joinAnotherRoom(page: Page, baseURL: string, name: string, browser: any) {
  const room = freshRoom("second");
  const host = await person(browser);
  await join(host.page, baseURL, room, "Host");
  const marker = await page.evaluate(() => ((window as any).__sameDocument = true));
  await page.getByLabel("Room name").fill(room);
  await page.getByRole("button", { name: "Join", exact: true }).click();
  await page.getByTestId("name-input").fill(name);
  await expect(page.getByTestId("join")).toBeEnabled();
  await page.getByTestId("join").click();
  await expect(page.getByTestId("stage")).toHaveAttribute("data-phase", "in-call");
  await expectVideoFrom(page, 1);
  await expectVideoFrom(host.page, 1);
  // No reload happened on the way.
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(marker);
}

for (const how of ["the logo link", "browser back"] as const) {
  test(`leaving by ${how} ends the call like Leave, and the tab can join another room`, async ({
    browser,
    baseURL,
  }) => {
    const room = freshRoom("away");
    const alice = await person(browser);
    const bob = await person(browser);
    await joinFromHome(alice.page, baseURL!, room, "Alice");
    await expect(alice.page).toHaveTitle(`Room ${room} · record-meet`);
    await join(bob.page, baseURL!, room, "Bob");
    await expectVideoFrom(bob.page, 1);
    await expectVideoFrom(alice.page, 1);

    if (how === "the logo link") {
      await alice.page.getByRole("link", { name: "record-meet home" }).click();
    } else {
      await alice.page.goBack();
    }
    await expect(alice.page).toHaveURL(`${baseURL}/`);
    // The page's title follows a navigation inside the app, too.
    await expect(alice.page).toHaveTitle("record-meet");
    // Bob sees Alice go within 2 s, and her connection to him is closed.
    await expect(bob.page.getByTestId("remote-tile")).toHaveCount(0, { timeout: 2_000 });
    await expectAllCapturedEnded(alice.page);
    expect(
      await alice.page.evaluate(() =>
        ((window as any).__pcs as RTCPeerConnection[]).every((pc) => pc.connectionState === "closed"),
      ),
    ).toBe(true);

    await joinAnotherRoom(alice.page, baseURL!, "Alice", browser);
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });
}

test("closing the tab drops the connection for the others within 2 s", async ({ browser, baseURL }) => {
  const room = freshRoom("close");
  const alice = await person(browser);
  const bob = await person(browser);
  await join(alice.page, baseURL!, room, "Alice");
  await join(bob.page, baseURL!, room, "Bob");
  await expectVideoFrom(bob.page, 1);
  await alice.page.close({ runBeforeUnload: true });
  await expect(bob.page.getByTestId("remote-tile")).toHaveCount(0, { timeout: 2_000 });
  await expect
    .poll(() =>
      bob.page.evaluate(() =>
        ((window as any).__pcs as RTCPeerConnection[]).filter((pc) => pc.connectionState !== "closed").length,
      ),
    )
    .toBe(0);
});

test("Leave stops every captured track", async ({ browser, baseURL }) => {
  const room = freshRoom("leave");
  const alice = await person(browser);
  await join(alice.page, baseURL!, room, "Alice");
  await alice.page.getByTestId("leave").click();
  await expect(alice.page.getByTestId("ended")).toBeVisible();
  await expectAllCapturedEnded(alice.page);
});

test("a dropped signaling socket reconnects without recreating tiles or videos", async ({ browser }) => {
  const server = new ServerProcess(3211);
  const proxy = new Proxy(3212, 3211);
  await server.start();
  await proxy.start();
  try {
    const room = freshRoom("resume");
    const alice = await person(browser);
    const bob = await person(browser);
    await alice.context.addInitScript(() => {
      const Original = window.WebSocket;
      (window as any).__sockets = 0;
      (window as any).WebSocket = class extends Original {
        constructor(...args: ConstructorParameters<typeof WebSocket>) {
          super(...args);
          (window as any).__sockets += 1;
        }
      };
    });
    await join(alice.page, proxy.url, room, "Alice");
    await join(bob.page, server.url, room, "Bob");
    await expectVideoFrom(alice.page, 1);
    // Mark every video element and tile, then drop Alice's socket the way a network does.
    await alice.page.evaluate(() =>
      document.querySelectorAll("video, [data-testid=remote-tile]").forEach((el) => ((el as any).__mark = 1)),
    );
    const marked = await alice.page.evaluate(() => document.querySelectorAll("video").length);
    proxy.cut();
    await expect.poll(() => alice.page.evaluate(() => (window as any).__sockets)).toBe(2);
    await expect(alice.page.getByTestId("stage")).toHaveAttribute("data-phase", "in-call", { timeout: 20_000 });
    const kept = await alice.page.evaluate(() => ({
      videos: [...document.querySelectorAll("video")].filter((v) => (v as any).__mark === 1).length,
      tiles: [...document.querySelectorAll("[data-testid=remote-tile]")].filter((t) => (t as any).__mark === 1)
        .length,
    }));
    expect(kept).toEqual({ videos: marked, tiles: 1 });
    await expectVideoFrom(alice.page, 1);
    expect(alice.errors).toEqual([]);
  } finally {
    await proxy.stop();
    await server.stop();
  }
});
