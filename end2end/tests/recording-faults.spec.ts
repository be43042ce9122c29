import { test, expect, Route } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { person, join, freshRoom, closeEveryone, SCREEN_LAUNCH, ServerProcess } from "./call-helpers";
import {
  acknowledged,
  expectComplete,
  indicator,
  listed,
  recordingCall,
  startButton,
  stopButton,
} from "./recordings-helpers";

// What can go wrong between the recorder and the server: nothing acknowledged may be lost, and
// nothing may be stored twice.
test.use({ launchOptions: SCREEN_LAUNCH });
test.setTimeout(180_000);
test.afterEach(closeEveryone);

/** Bytes of every file under `dir`. */
function bytesUnder(dir: string): number {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
}

test("uploads that fail, stall, lose their answer or go offline lose nothing and store nothing twice", async ({
  browser,
  baseURL,
  request,
}) => {
  const { room, alice, acked } = await recordingCall(browser, baseURL!, "faults");
  // Chunk 2's first attempt fails; chunk 4 is stored but its answer is lost (the retry is a
  // replay); chunk 6 stalls for 3 s.
  const attempts = new Map<number, number>();
  await alice.page.route("**/chunks/*", async (route: Route) => {
    const seq = Number(route.request().url().split("/").pop());
    const n = (attempts.get(seq) ?? 0) + 1;
    attempts.set(seq, n);
    if (seq === 2 && n === 1) return route.abort("failed");
    if (seq === 4 && n === 1) {
      await route.fetch();
      return route.abort("connectionreset");
    }
    if (seq === 6 && n === 1) await new Promise((r) => setTimeout(r, 3_000));
    return route.continue();
  });
  await startButton(alice.page).click();
  await expect(stopButton(alice.page)).toBeVisible();
  const started = Date.now();
  await expect.poll(() => acked.size, { timeout: 30_000 }).toBeGreaterThanOrEqual(8);
  // Offline for 10 s: the chunks wait in the spool, then go.
  await alice.context.setOffline(true);
  const before = acked.size;
  await new Promise((r) => setTimeout(r, 10_000));
  // At most the two uploads already on the wire when the network went can still land.
  expect(acked.size).toBeLessThanOrEqual(before + 2);
  await alice.context.setOffline(false);
  await expect.poll(() => acked.size, { timeout: 30_000 }).toBeGreaterThanOrEqual(before + 10);

  await stopButton(alice.page).click();
  const recorded = (Date.now() - started) / 1000;
  await expect(startButton(alice.page)).toBeEnabled({ timeout: 30_000 });
  expect(attempts.get(4)).toBeGreaterThanOrEqual(2);

  const rec = await expectComplete(request, room, acked, alice.context, baseURL!);
  expect(Math.abs(rec.duration_ms / 1000 - recorded)).toBeLessThan(1.5);
});

test("a server killed between chunks and restarted loses no acknowledged chunk", async ({ browser }) => {
  const store = path.resolve(__dirname, "../../target/e2e-recordings-restart");
  const server = new ServerProcess(3310, { RECORD_MEET_RECORDINGS_DIR: store, RECORD_MEET_RECORDINGS_MIN_FREE_BYTES: "0" });
  await server.start();
  try {
    const { room, alice, acked } = await recordingCall(browser, server.url, "restart");

    await startButton(alice.page).click();
    await expect(stopButton(alice.page)).toBeVisible();
    await expect.poll(() => acked.size, { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    await server.kill();
    const before = acked.size;
    await server.start();
    // The recorder rejoins, and its recording goes on with the same tokens.
    await expect.poll(() => acked.size, { timeout: 30_000 }).toBeGreaterThanOrEqual(before + 4);
    await stopButton(alice.page).click();
    await expect(startButton(alice.page)).toBeEnabled({ timeout: 30_000 });

    await expectComplete(alice.page.request, room, acked, alice.context, server.url, store);
  } finally {
    await server.stop();
  }
});

test("a full recordings quota pauses the recording for everyone, and it resumes with nothing lost once space is freed", async ({
  browser,
}) => {
  const store = path.resolve(__dirname, "../../target/e2e-recordings-quota");
  fs.rmSync(store, { recursive: true, force: true });
  const settings = { RECORD_MEET_RECORDINGS_DIR: store, RECORD_MEET_RECORDINGS_MIN_FREE_BYTES: "0" };
  // A first recording, 12 s in another room; its size sets the quota of the next server run.
  let server = new ServerProcess(3311, settings);
  await server.start();
  const earlier = freshRoom("quota-a");
  let first: { id: string; owner_token: string; bytes: number };
  try {
    const carol = await person(browser);
    const started = new Promise<{ id: string; owner_token: string }>((resolve) =>
      carol.page.on("response", async (r) => {
        if (r.request().method() === "POST" && r.url().endsWith("/recordings") && r.status() === 201) resolve(await r.json());
      }),
    );
    await join(carol.page, server.url, earlier, "Carol");
    await startButton(carol.page).click();
    await expect(stopButton(carol.page)).toBeVisible();
    const carolAcked = acknowledged(carol.page);
    await expect.poll(() => carolAcked.size, { timeout: 60_000 }).toBeGreaterThanOrEqual(12);
    await stopButton(carol.page).click();
    await expect(startButton(carol.page)).toBeEnabled({ timeout: 30_000 });
    const [listedFirst] = await listed(carol.page.request, earlier, server.url);
    first = { ...(await started), bytes: listedFirst.bytes };
    await carol.context.close();
  } finally {
    await server.stop();
  }

  // Room for about four more seconds beyond what the store holds (chunks and final file):
  // the next recording runs into the quota.
  server = new ServerProcess(3311, {
    ...settings,
    RECORD_MEET_RECORDINGS_QUOTA_BYTES: String(Math.round(bytesUnder(store) + first.bytes / 3)),
  });
  await server.start();
  try {
    const { room, alice, bob, acked } = await recordingCall(browser, server.url, "quota-b");
    let refused = 0;
    alice.page.on("response", (r) => {
      if (/\/chunks\/\d+$/.test(r.url()) && r.status() === 507) refused++;
    });
    await startButton(alice.page).click();
    await expect(stopButton(alice.page)).toBeVisible();
    // 507, and everyone sees "Recording paused"; the recorder keeps its chunks.
    await expect(indicator(bob.page)).toHaveText("Recording paused", { timeout: 30_000 });
    expect(refused).toBeGreaterThan(0);

    // Space comes back (the earlier recording is deleted by its owner): the kept chunks go up,
    // and the indicator says "Recording" again.
    const deleted = await alice.page.request.delete(`${server.url}/api/rooms/${earlier}/recordings/${first.id}`, {
      headers: { authorization: `Bearer ${first.owner_token}` },
    });
    expect(deleted.status()).toBe(204);
    await expect(indicator(bob.page)).toHaveText("Recording", { timeout: 15_000 });
    await stopButton(alice.page).click();
    await expect(startButton(alice.page)).toBeEnabled({ timeout: 30_000 });

    await expectComplete(alice.page.request, room, acked, alice.context, server.url, store);
  } finally {
    await server.stop();
  }
});

test("a recording deleted by its owner while it records ends for everyone, and a new one can start", async ({
  browser,
  baseURL,
  request,
}) => {
  const { room, alice, bob, acked } = await recordingCall(browser, baseURL!, "deleted");
  await startButton(alice.page).click();
  await expect(stopButton(alice.page)).toBeVisible();
  await expect.poll(() => acked.size, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
  const [first] = await listed(request, room);
  const owner = await alice.page.evaluate((id) => localStorage.getItem(`record-meet:recording-owner:${id}`), first.id);
  const deleted = await request.delete(`/api/rooms/${room}/recordings/${first.id}`, {
    headers: { authorization: `Bearer ${owner}` },
  });
  expect(deleted.status()).toBe(204);
  await expect(indicator(bob.page)).toBeHidden({ timeout: 5_000 });
  // The recorder stops and its control comes back for a new recording.
  await expect(startButton(alice.page)).toBeEnabled({ timeout: 15_000 });
  acked.clear();
  await startButton(alice.page).click();
  await expect(indicator(bob.page)).toHaveText("Recording");
  await expect.poll(() => acked.size, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
  await stopButton(alice.page).click();
  await expect(startButton(alice.page)).toBeEnabled({ timeout: 30_000 });
  const rec = await expectComplete(request, room, acked, alice.context, baseURL!);
  expect(rec.id).not.toEqual(first.id);
});
