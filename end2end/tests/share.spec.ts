import { test, expect, Page } from "@playwright/test";
import {
  person,
  join,
  freshRoom,
  closeEveryone,
  SCREEN_LAUNCH,
  decodedBySource,
  expectScreens,
  expectCamerasFlowing,
  expectVideoFrom,
} from "./call-helpers";

// Screen capture needs the fake picker; calls with several pages are slow on two cores.
test.use({ launchOptions: SCREEN_LAUNCH });
test.setTimeout(180_000);
test.afterEach(closeEveryone);

const shareButton = (page: Page) => page.getByRole("button", { name: "Share screen", exact: true });
const stopButton = (page: Page) => page.getByRole("button", { name: "Stop sharing", exact: true });

/** No screen tile and no screen frames any more on `page`, within 3 s. */
async function expectNoScreen(page: Page) {
  await expect(page.getByTestId("screen-tile")).toHaveCount(0, { timeout: 3_000 });
  expect((await decodedBySource(page)).screens).toBe(0);
}

test("a shared screen reaches everyone, late joiners too, and stopping ends it everywhere", async ({
  browser,
  baseURL,
}) => {
  const room = freshRoom("share");
  const alice = await person(browser);
  const bob = await person(browser);
  await join(alice.page, baseURL!, room, "Alice");
  await join(bob.page, baseURL!, room, "Bob");
  await expectVideoFrom(bob.page, 1);

  await shareButton(alice.page).click();
  await expect(stopButton(alice.page)).toBeVisible();
  await expect(alice.page.getByTestId("presenting")).toContainText("You are presenting");
  // Bob decodes the 1280-wide fake screen on the stage, and Alice's camera beside it.
  await expect(bob.page.getByTestId("screen-tile")).toHaveCount(1);
  await expect(bob.page.getByTestId("tiles")).toHaveAttribute("data-layout", "presenter");
  await expectScreens(bob.page, 1);
  expect((await decodedBySource(bob.page)).screenWidth).toBeGreaterThan(1000);
  await expectCamerasFlowing(bob.page);
  // The presenter never sees their own screen as a tile (no mirror tunnel).
  await expect(alice.page.getByTestId("screen-tile")).toHaveCount(0);

  // Carol joins during the share and gets it in her first offer.
  const carol = await person(browser);
  await join(carol.page, baseURL!, room, "Carol");
  await expectScreens(carol.page, 1, 30_000);
  await expect(carol.page.getByTestId("screen-tile").getByTestId("tile-name")).toHaveText("Alice's screen");

  // Stop with the button: gone for both within 3 s, cameras continue.
  await stopButton(alice.page).click();
  await expect(shareButton(alice.page)).toBeVisible();
  await expectNoScreen(bob.page);
  await expectNoScreen(carol.page);
  await expect(bob.page.getByTestId("tiles")).toHaveAttribute("data-layout", "grid");
  await expectCamerasFlowing(bob.page);

  // Share again (shortcut S), then end it the way the browser's own "Stop sharing" bar does.
  await alice.page.keyboard.press("s");
  await expectScreens(bob.page, 1);
  await alice.page.evaluate(() => {
    for (const t of (window as any).__captured as MediaStreamTrack[]) {
      if (t.kind === "video" && t.label.startsWith("screen")) {
        t.stop();
        t.dispatchEvent(new Event("ended"));
      }
    }
  });
  await expect(shareButton(alice.page)).toBeVisible({ timeout: 3_000 });
  await expectNoScreen(bob.page);
  await expectNoScreen(carol.page);
  await expectCamerasFlowing(carol.page);
  for (const p of [alice, bob, carol]) expect(p.errors).toEqual([]);
});

test("two people who start sharing within 100 ms both reach everyone", async ({ browser, baseURL }) => {
  const room = freshRoom("glare");
  const people = [];
  for (const name of ["Ann", "Ben", "Cat"]) {
    const p = await person(browser);
    await join(p.page, baseURL!, room, name);
    people.push(p);
  }
  const [ann, ben, cat] = people;
  await expectVideoFrom(ann.page, 2, 40_000);
  await Promise.all([shareButton(ann.page).click(), shareButton(ben.page).click()]);
  await expectScreens(cat.page, 2, 30_000);
  await expectScreens(ann.page, 1, 30_000);
  await expectScreens(ben.page, 1, 30_000);
  await expect(cat.page.getByTestId("screen-tile")).toHaveCount(2);
  for (const p of people) expect(p.errors).toEqual([]);
});

test("a camera switch and mic/camera toggles during a share keep both flowing", async ({ browser, baseURL }) => {
  const room = freshRoom("switch");
  const alice = await person(browser);
  const bob = await person(browser);
  await join(alice.page, baseURL!, room, "Alice");
  await join(bob.page, baseURL!, room, "Bob");
  await shareButton(alice.page).click();
  await expectScreens(bob.page, 1);

  await alice.page.getByTestId("toggle-settings").click();
  const select = alice.page.getByTestId("camera-select").last();
  const values = await select
    .locator("option")
    .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  await select.selectOption(values[values.length - 1]);
  await expectScreens(bob.page, 1);
  await expectCamerasFlowing(bob.page);

  const aliceTile = bob.page.getByTestId("remote-tile");
  await alice.page.keyboard.press("m");
  await expect(aliceTile.getByTestId("mic-off")).toBeVisible();
  await alice.page.keyboard.press("v");
  await expect(aliceTile.getByTestId("camera-off")).toBeVisible();
  await expectScreens(bob.page, 1);
  await alice.page.keyboard.press("v");
  await alice.page.keyboard.press("m");
  await expect(aliceTile.getByTestId("mic-off")).toHaveCount(0);
  await expect(aliceTile.getByTestId("camera-off")).toHaveCount(0);
  await expectCamerasFlowing(bob.page);
  await expect(stopButton(alice.page)).toBeVisible();
  expect(alice.errors).toEqual([]);
  expect(bob.errors).toEqual([]);
});

test("any tile can be pinned to the stage and unpinned", async ({ browser, baseURL }) => {
  const room = freshRoom("pin");
  const alice = await person(browser);
  const bob = await person(browser);
  await join(alice.page, baseURL!, room, "Alice");
  await join(bob.page, baseURL!, room, "Bob");
  const tiles = bob.page.getByTestId("tiles");
  await expect(tiles).toHaveAttribute("data-layout", "grid");
  const slot = bob.page.locator(".slot[data-tile=person]");
  await slot.hover();
  await slot.getByTestId("pin").click();
  await expect(tiles).toHaveAttribute("data-layout", "presenter");
  await expect(slot).toHaveAttribute("data-on-stage", "true");
  await expect(slot.getByTestId("fullscreen")).toBeVisible();
  await slot.getByTestId("pin").click();
  await expect(tiles).toHaveAttribute("data-layout", "grid");
});
