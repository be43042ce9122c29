import { test, expect } from "@playwright/test";
import { person, join, closeEveryone, SCREEN_LAUNCH, expectScreens } from "./call-helpers";
import {
  expectPlayableAndSeekable,
  expectStored,
  indicator,
  listed,
  recordingCall,
  startButton,
  stopButton,
} from "./recordings-helpers";

// The recorder composites every tile and encodes 1280×720 on two cores next to the others.
test.use({ launchOptions: SCREEN_LAUNCH });
test.setTimeout(180_000);
test.afterEach(closeEveryone);

test("a recorded call is one complete file through a share, a join and leave and a camera switch, and everyone sees the indicator", async ({
  browser,
  baseURL,
  request,
}) => {
  const { room, alice, bob, acked } = await recordingCall(browser, baseURL!, "rec");

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
  // The recorder switches camera: the composite's input changes, its stream does not.
  await alice.page.getByTestId("toggle-settings").click();
  const cameras = alice.page.getByTestId("camera-select").last();
  const ids = await cameras.locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  await cameras.selectOption(ids[ids.length - 1]);
  await alice.page.getByTestId("toggle-settings").click();
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
  const { room, alice, bob, acked } = await recordingCall(browser, baseURL!, "crash");

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
  // What the spool kept is on the server now too: the file is finalized again, never shorter,
  // and it holds all but the last seconds before the crash. (Before the revisit the file can be
  // shorter than that on a starved machine, where acknowledgements lag the recording.)
  const [after] = await listed(request, room);
  expect(after.state).toBe("interrupted");
  expect(after.duration_ms).toBeGreaterThanOrEqual(rec.duration_ms);
  expect(after.bytes).toBeGreaterThanOrEqual(rec.bytes);
  expect(after.duration_ms / 1000).toBeGreaterThanOrEqual(recorded - 2.5);
});
