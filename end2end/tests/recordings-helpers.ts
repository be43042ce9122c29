import { APIRequestContext, Browser, BrowserContext, Page, expect } from "@playwright/test";
import { person, join, freshRoom, expectVideoFrom } from "./call-helpers";
import fs from "node:fs";
import path from "node:path";

/** The real Chrome MediaRecorder chunks the Rust tests use (6 s, vp8+opus). */
const FIXTURE = path.resolve(__dirname, "../../server/tests/fixtures/chrome-vp8-opus");

export function fixtureChunks(): Buffer[] {
  return fs
    .readdirSync(FIXTURE)
    .filter((f) => f.endsWith(".webm"))
    .sort()
    .map((f) => fs.readFileSync(path.join(FIXTURE, f)));
}

export type Started = { id: string; upload_token: string; owner_token: string };

/**
 * Makes a finished recording in `room` through the HTTP API, as a recorder would: `page` joins
 * the room over a bare WebSocket (the recorder must be in the room), then the fixture's chunks
 * are uploaded and the recording stopped.
 */
export async function recordFixture(page: Page, request: APIRequestContext, room: string): Promise<Started> {
  await page.goto("/health");
  await page.evaluate(async (room) => {
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`ws://${location.host}/ws/${room}/recorder`);
      (window as any).recorderSocket = ws;
      ws.onmessage = () => resolve();
      ws.onerror = () => reject(new Error("join failed"));
    });
  }, room);
  const start = await request.post(`/api/rooms/${room}/recordings`, { data: { peer: "recorder" } });
  expect(start.status()).toBe(201);
  const started: Started = await start.json();
  const auth = { authorization: `Bearer ${started.upload_token}` };
  for (const [seq, chunk] of fixtureChunks().entries()) {
    const put = await request.put(`/api/rooms/${room}/recordings/${started.id}/chunks/${seq}`, {
      headers: auth,
      data: chunk,
    });
    expect(put.status()).toBe(201);
  }
  const stop = await request.post(`/api/rooms/${room}/recordings/${started.id}/stop`, { headers: auth });
  expect(stop.status()).toBe(200);
  return started;
}

/** Puts the owner token where the recorder's browser keeps it. */
export async function holdOwnerToken(page: Page, started: Started) {
  await page.evaluate(
    ([id, token]) => localStorage.setItem(`record-meet:recording-owner:${id}`, token),
    [started.id, started.owner_token],
  );
}

/** Where the server under test stores recordings (see playwright.config.ts). */
export const STORE = path.resolve(__dirname, "../../target/e2e-recordings");

export const startButton = (page: Page) => page.getByRole("button", { name: "Start recording", exact: true });
export const stopButton = (page: Page) => page.getByRole("button", { name: "Stop recording", exact: true });
export const indicator = (page: Page) => page.getByTestId("recording-indicator");

export type Listed = { id: string; state: string; duration_ms: number; bytes: number; url: string };

/**
 * Every chunk the server acknowledged to `page`, from its network responses: the oracle for
 * "nothing acknowledged is lost". The recorder sends bytes, so the request body is readable.
 */
export function acknowledged(page: Page): Map<number, Buffer> {
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

export async function listed(request: APIRequestContext, room: string, base = ""): Promise<Listed[]> {
  const response = await request.get(`${base}/api/rooms/${room}/recordings`);
  expect(response.status()).toBe(200);
  return response.json();
}

/** Every acknowledged chunk is stored byte for byte, and none is missing before the last. */
export function expectStored(room: string, id: string, acked: Map<number, Buffer>, store = STORE) {
  expect(acked.size).toBeGreaterThan(0);
  const last = Math.max(...acked.keys());
  for (let seq = 0; seq <= last; seq++) expect(acked.has(seq), `chunk ${seq} acknowledged`).toBe(true);
  for (const [seq, body] of acked) {
    const stored = fs.readFileSync(path.join(store, room, id, "chunks", String(seq).padStart(10, "0")));
    expect(stored.equals(body), `chunk ${seq} stored byte for byte`).toBe(true);
  }
}

/**
 * The file plays in a fresh page: a finite duration, 1280×720 video, decoded audio, and a seek
 * to the middle that lands. Returns the duration in seconds.
 */
export async function expectPlayableAndSeekable(context: BrowserContext, baseURL: string, url: string): Promise<number> {
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


/**
 * Alice and Bob in a call at `base` (Alice decodes Bob), with every chunk the server
 * acknowledges to Alice, the recorder, kept for the checks.
 */
export async function recordingCall(browser: Browser, base: string, prefix: string) {
  const room = freshRoom(prefix);
  const alice = await person(browser);
  const bob = await person(browser);
  const acked = acknowledged(alice.page);
  await join(alice.page, base, room, "Alice");
  await join(bob.page, base, room, "Bob");
  await expectVideoFrom(alice.page, 1);
  return { room, alice, bob, acked };
}

/** The chunk files the server holds for a recording. */
export function storedChunks(store: string, room: string, id: string): string[] {
  return fs.readdirSync(path.join(store, room, id, "chunks")).filter((f) => /^\d+$/.test(f));
}

/**
 * The room's newest recording is complete: every acknowledged chunk stored byte for byte and
 * no other, and the file plays and seeks. Returns its listing entry.
 */
export async function expectComplete(
  request: APIRequestContext,
  room: string,
  acked: Map<number, Buffer>,
  context: BrowserContext,
  base: string,
  store = STORE,
): Promise<Listed> {
  const [rec] = await listed(request, room, base);
  expect(rec.state).toBe("complete");
  expectStored(room, rec.id, acked, store);
  expect(storedChunks(store, room, rec.id).length).toBe(acked.size);
  await expectPlayableAndSeekable(context, base, rec.url);
  return rec;
}
