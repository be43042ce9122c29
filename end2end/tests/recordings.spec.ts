import { test, expect, hydrated } from "./fixtures";
import { recordFixture, holdOwnerToken } from "./recordings-helpers";

test("the recordings page plays and seeks a recording, and only its owner may delete it", async ({
  page,
  request,
  browser,
}) => {
  const room = "rec" + Date.now().toString(36);
  const started = await recordFixture(page, request, room);
  await holdOwnerToken(page, started);

  // Reached from the room.
  await page.goto(`/room/${room}`);
  await hydrated(page);
  await page.getByTestId("recordings-link").click();
  await expect(page).toHaveURL(new RegExp(`/room/${room}/recordings$`));
  await hydrated(page);

  const card = page.getByTestId("recording");
  await expect(card).toHaveCount(1);
  await expect(card).toHaveAttribute("data-state", "complete");
  await expect(card.getByTestId("recording-state")).toHaveText("Complete");
  await expect(card.getByTestId("recording-facts")).toHaveText(/^0:0[56] · \d+ KB$/);
  await expect(card.getByTestId("download")).toHaveAttribute("href", `/api/rooms/${room}/recordings/${started.id}/file`);

  // The finalized file has a finite duration and seeks: what live WebM cannot do.
  const video = card.locator("video");
  const played = await video.evaluate(async (v: HTMLVideoElement) => {
    if (v.readyState < 1) await new Promise((r) => v.addEventListener("loadedmetadata", r, { once: true }));
    const duration = v.duration;
    const seeked = new Promise((r) => v.addEventListener("seeked", r, { once: true }));
    v.currentTime = 4;
    await seeked;
    return { duration, at: v.currentTime, width: v.videoWidth };
  });
  expect(Number.isFinite(played.duration)).toBe(true);
  expect(played.duration).toBeGreaterThan(5.5);
  expect(played.at).toBeGreaterThan(3.5);
  expect(played.width).toBe(320);

  // Another browser (no owner token) may watch but not delete.
  const other = await browser.newPage();
  await other.goto(`/room/${room}/recordings`);
  await hydrated(other);
  await expect(other.getByTestId("recording")).toHaveCount(1);
  await expect(other.getByTestId("delete")).toHaveCount(0);
  await other.close();

  page.once("dialog", (d) => d.accept());
  await card.getByTestId("delete").click();
  await expect(page.getByTestId("recordings-empty")).toBeVisible();
  const list = await request.get(`/api/rooms/${room}/recordings`);
  expect(await list.json()).toEqual([]);
});

test("a room without recordings says so, server-rendered first", async ({ page }) => {
  const response = await page.goto("/room/empty-room-1/recordings");
  expect(response?.status()).toBe(200);
  await hydrated(page);
  await expect(page.getByTestId("recordings-empty")).toContainText("No recordings yet");
  await expect(page.getByTestId("back-to-room")).toHaveAttribute("href", "/room/empty-room-1");
});
