import { Page, BrowserContext } from "@playwright/test";
import { spawn, ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * coturn, started by the test on loopback with TURN REST authentication (`use-auth-secret`),
 * exactly as deploy/coturn/turnserver.conf configures it minus TLS. The browser tests run in a
 * loopback-only namespace, so the fixed port cannot collide with anything.
 */
export class Coturn {
  private child: ChildProcess | null = null;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "record-meet-coturn-"));
  constructor(readonly secret: string, readonly port = 3478) {}

  async start() {
    this.child = spawn(
      "turnserver",
      [
        "-n",
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        `--listening-port=${this.port}`,
        "--use-auth-secret",
        `--static-auth-secret=${this.secret}`,
        "--realm=record-meet",
        "--no-tls",
        "--no-dtls",
        "--allow-loopback-peers",
        "--no-cli",
        "--simple-log",
        `--log-file=${path.join(this.dir, "turn.log")}`,
        `--pidfile=${path.join(this.dir, "turn.pid")}`,
      ],
      { stdio: "ignore" },
    );
    // Up when its TCP listener accepts.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await accepts(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("coturn did not start");
  }

  async stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Records every WebSocket frame a page sends and receives. */
export function recordFrames(page: Page): string[] {
  const frames: string[] = [];
  page.on("websocket", (ws) => {
    ws.on("framereceived", (f) => frames.push(String(f.payload)));
    ws.on("framesent", (f) => frames.push(String(f.payload)));
  });
  return frames;
}

/** Records every response body (HTML, scripts, wasm as text, CSS) a context loads. */
export function recordResponses(context: BrowserContext): Promise<string>[] {
  const bodies: Promise<string>[] = [];
  context.on("response", (r) => {
    bodies.push(
      r
        .body()
        .then((b) => b.toString("latin1"))
        .catch(() => ""),
    );
  });
  return bodies;
}

/** Records `icecandidateerror` codes of every connection the page creates. */
export const RECORD_ICE_ERRORS = `
  (() => {
    window.__iceErrors = [];
    const Original = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Original {
      constructor(...args) {
        super(...args);
        this.addEventListener("icecandidateerror", (e) => window.__iceErrors.push(e.errorCode));
      }
    };
  })();
`;

/** The candidate types (`host`, `srflx`, `relay`) of the selected pairs of the page's connections. */
export async function selectedCandidateTypes(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const types: string[] = [];
    for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
      if (pc.connectionState === "closed") continue;
      const stats = await pc.getStats();
      const byId = new Map<string, any>();
      stats.forEach((s: any) => byId.set(s.id, s));
      stats.forEach((s: any) => {
        if (s.type === "transport" && s.selectedCandidatePairId) {
          const pair = byId.get(s.selectedCandidatePairId);
          const local = pair && byId.get(pair.localCandidateId);
          const remote = pair && byId.get(pair.remoteCandidateId);
          if (local) types.push(`${local.candidateType}/${remote?.candidateType}`);
        }
      });
    }
    return types;
  });
}

/** The TURN user names the page's open connections are configured with now. */
export async function configuredTurnUsernames(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    ((window as any).__pcs as RTCPeerConnection[])
      .filter((pc) => pc.connectionState !== "closed")
      .flatMap((pc) => pc.getConfiguration().iceServers ?? [])
      .map((s) => s.username ?? "")
      .filter((u) => u !== ""),
  );
}
