import { APIRequestContext, Page, expect } from "@playwright/test";
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
