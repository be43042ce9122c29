import { test, expect, Page, BrowserContext, APIRequestContext } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { person, join, freshRoom, closeEveryone, SCREEN_LAUNCH, expectVideoFrom, expectScreens } from "./call-helpers";

// The recorder composites every tile and encodes 1280×720 on two cores next to the others.
test.use({ launchOptions: SCREEN_LAUNCH });
test.setTimeout(180_000);
test.afterEach(closeEveryone);

/** Where the server under test stores recordings (see playwright.config.ts). */
const STORE = path.resolve(__dirname, "../../target/e2e-recordings");

const startButton = (page: Page) => page.getByRole("button", { name: "Start recording", exact: true });
const stopButton = (page: Page) => page.getByRole("button", { name: "Stop recording", exact: true });
const indicator = (page: Page) => page.getByTestId("recording-indicator");

type Listed = { id: string; state: string; duration_ms: number; bytes: number; url: string };

/**
 * Every chunk the server acknowledged to `page`, from its network responses: the oracle for
 * "nothing acknowledged is lost". The recorder sends bytes, so the request body is readable.
 */
function acknowledged(page: Page): Map<number, Buffer> {
  const acked = new Map<number, Buffer>();
  page.on("response", (response) => {
    const m = /\/chunks\/(\d+)$/.exec(new URL(response.url()).pathname);
    if (m && response.request().method() === "PUT" && [200, 201].includes(response.status())) {
      const body = response.request().postDataBuffer();
      if (body) acked.set(Number(m[1]), body);
    }
  });
  return acked;
}

async function listed(request: APIRequestContext, room: string): Promise<Listed[]> {
  const response = await request.get(`/api/rooms/${room}/recordings`);
  expect(response.status()).toBe(200);
  return response.json();
}

/** Every acknowledged chunk is stored byte for byte, and none is missing before the last. */
function expectStored(room: string, id: string, acked: Map<number, Buffer>) {
  expect(acked.size).toBeGreaterThan(0);
  const last = Math.max(...acked.keys());
  for (let seq = 0; seq <= last; seq++) expect(acked.has(seq), `chunk ${seq} acknowledged`).toBe(true);
  for (const [seq, body] of acked) {
    const stored = fs.readFileSync(path.join(STORE, room, id, "chunks", String(seq).padStart(10, "0")));
    expect(stored.equals(body), `chunk ${seq} stored byte for byte`).toBe(true);
  }
}

/**
 * The file plays in a fresh page: a finite duration, 1280×720 video, decoded audio, and a seek
 * to the middle that lands. Returns the duration in seconds.
 */
async function expectPlayableAndSeekable(context: BrowserContext, baseURL: string, url: string): Promise<number> {
  const page = await context.newPage();
  await page.goto(`${baseURL}/health`);
  const seen = await page.evaluate(async (url) => {
    const video = document.createElement("video");
    video.muted = true;
    video.src = url;
    document.body.append(video);
    await new Promise((resolve, reject) => {
      video.onloadedmetadata = resolve;
      video.onerror = () => reject(new Error(`cannot load: ${video.error?.message}`));
    });
    await video.play();
    const until = (ok: () => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => (ok() ? resolve() : setTimeout(check, 50));
        check();
      });
    await until(() => (video as any).webkitAudioDecodedByteCount > 0 && video.currentTime > 0.3);
    video.pause();
    const target = video.duration / 2;
    const seeked = new Promise((resolve) => (video.onseeked = resolve));
    video.currentTime = target;
    await seeked;
    return {
      duration: video.duration,
      width: video.videoWidth,
      height: video.videoHeight,
      audioBytes: (video as any).webkitAudioDecodedByteCount,
      landed: video.currentTime,
      target,
    };
  }, url);
  await page.close();
  expect(Number.isFinite(seen.duration)).toBe(true);
  expect(seen.width).toBe(1280);
  expect(seen.height).toBe(720);
  expect(seen.audioBytes).toBeGreaterThan(0);
  expect(Math.abs(seen.landed - seen.target)).toBeLessThan(1);
  return seen.duration;
}

test("a recorded call is one complete file through a share and a join and leave, and everyone sees the indicator", async ({
  browser,
  baseURL,
  request,
}) => {
  const room = freshRoom("rec");
  const alice = await person(browser);
  const bob = await person(browser);
  const acked = acknowledged(alice.page);
  await join(alice.page, baseURL!, room, "Alice");
  await join(bob.page, baseURL!, room, "Bob");
  await expectVideoFrom(alice.page, 1);

  await startButton(alice.page).click();
  await expect(indicator(alice.page)).toBeVisible();
  // The room hears of the recording before the recorder's start is answered.
  await expect(indicator(bob.page)).toBeVisible({ timeout: 1_000 });
  await expect(startButton(bob.page)).toBeDisabled();
  await expect(stopButton(alice.page)).toBeVisible();
  const started = Date.now();

  // During the recording: Bob shares his screen and stops; Carol joins (and sees the
  // indicator at once), then leaves.
  await bob.page.getByRole("button", { name: "Share screen", exact: true }).click();
  await expectScreens(alice.page, 1);
  const carol = await person(browser);
  await join(carol.page, baseURL!, room, "Carol");
  await expect(indicator(carol.page)).toBeVisible({ timeout: 1_000 });
  await expect(alice.page.getByTestId("people-count")).toHaveText("3 in call");
  await bob.page.getByRole("button", { name: "Stop sharing", exact: true }).click();
  await carol.page.getByTestId("leave").click();
  await expect.poll(() => acked.size, { timeout: 20_000 }).toBeGreaterThanOrEqual(8);

  await stopButton(alice.page).click();
  const recorded = (Date.now() - started) / 1000;
  // Back to "Start recording" once every chunk is acknowledged and the server stopped it.
  await expect(startButton(alice.page)).toBeEnabled({ timeout: 20_000 });
  await expect(indicator(bob.page)).toBeHidden({ timeout: 5_000 });

  const [rec] = await listed(request, room);
  expect(rec.state).toBe("complete");
  expect(Math.abs(rec.duration_ms / 1000 - recorded)).toBeLessThan(1.5);
  expectStored(room, rec.id, acked);
  const duration = await expectPlayableAndSeekable(alice.context, baseURL!, rec.url);
  expect(Math.abs(duration - rec.duration_ms / 1000)).toBeLessThan(0.5);
  expect(alice.errors).toEqual([]);
});

test("a recorder whose renderer crashes leaves an interrupted, seekable recording with every acknowledged chunk", async ({
  browser,
  baseURL,
  request,
}) => {
  const room = freshRoom("crash");
  const alice = await person(browser);
  const bob = await person(browser);
  const acked = acknowledged(alice.page);
  await join(alice.page, baseURL!, room, "Alice");
  await join(bob.page, baseURL!, room, "Bob");
  await expectVideoFrom(alice.page, 1);

  await startButton(alice.page).click();
  await expect(indicator(bob.page)).toBeVisible();
  // Recording from here: "Stop recording" appears once MediaRecorder runs.
  await expect(stopButton(alice.page)).toBeVisible();
  const started = Date.now();
  await expect.poll(() => acked.size, { timeout: 30_000 }).toBeGreaterThanOrEqual(8);
  const cdp = await alice.context.newCDPSession(alice.page);
  const crashedAt = Date.now();
  cdp.send("Page.crash").catch(() => {});
  const recorded = (crashedAt - started) / 1000;

  // The server notices the recorder is gone, ends the recording and tells the room.
  await expect(indicator(bob.page)).toBeHidden({ timeout: 30_000 });
  await expect.poll(async () => (await listed(request, room))[0]?.state, { timeout: 30_000 }).toBe("interrupted");
  const [rec] = await listed(request, room);
  expect(rec.duration_ms / 1000).toBeGreaterThanOrEqual(recorded - 2.5);
  expectStored(room, rec.id, acked);
  await expectPlayableAndSeekable(bob.context, baseURL!, rec.url);

  // The next visit in the recorder's browser uploads what its spool kept, then empties it.
  const again = await alice.context.newPage();
  await again.goto(`${baseURL}/room/${room}`);
  await again.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await expect
    .poll(
      () =>
        again.evaluate(async () => {
          const root = await navigator.storage.getDirectory();
          const spool = await root.getDirectoryHandle("record-meet-recordings", { create: true });
          let n = 0;
          for await (const _ of (spool as any).keys()) n++;
          return n;
        }),
      { timeout: 20_000 },
    )
    .toBe(0);
  // What the spool kept is on the server now too: the file is finalized again, never shorter.
  const [after] = await listed(request, room);
  expect(after.state).toBe("interrupted");
  expect(after.duration_ms).toBeGreaterThanOrEqual(rec.duration_ms);
  expect(after.bytes).toBeGreaterThanOrEqual(rec.bytes);
});
