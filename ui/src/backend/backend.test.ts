import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { NodeStatus } from "./bindings";
import { MockBackend } from "./mock-backend";
import { createBackend } from "./select";
import { TauriBackend } from "./tauri-backend";
import { BackendError } from "./types";

const bindings = vi.hoisted(() => ({
  nodeStatus: vi.fn(),
  listen: vi.fn(),
}));

vi.mock("./bindings", () => ({
  commands: { nodeStatus: bindings.nodeStatus },
  events: { nodeEvent: { listen: bindings.listen } },
}));

const status: NodeStatus = {
  version: "0.1.0",
  dataDir: "/data",
  databasePath: "/data/tallymesh.sqlite3",
  schemaVersion: 1,
  logDir: "/data/logs",
  startedAtMs: 0,
  uptimeSecs: 5,
  peerId: "12D3KooWTest",
  listenAddrs: [],
  connectedPeers: 0,
};

describe("TauriBackend", () => {
  it("returns the status from an ok result", async () => {
    bindings.nodeStatus.mockResolvedValue({ status: "ok", data: status });
    await expect(new TauriBackend().nodeStatus()).resolves.toEqual(status);
  });

  it("turns an error result into a BackendError with its code and message", async () => {
    bindings.nodeStatus.mockResolvedValue({ status: "error", error: { code: "storage", message: "disk full" } });
    const error = await new TauriBackend().nodeStatus().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: "storage", message: "disk full" });
  });

  it("turns a thrown IPC failure into an internal BackendError", async () => {
    bindings.nodeStatus.mockRejectedValue(new Error("command node_status not found"));
    await expect(new TauriBackend().nodeStatus()).rejects.toMatchObject({
      code: "internal",
      message: "command node_status not found",
    });
  });

  it("treats an error of an unknown shape as internal", async () => {
    bindings.nodeStatus.mockResolvedValue({ status: "error", error: "boom" });
    await expect(new TauriBackend().nodeStatus()).rejects.toMatchObject({ code: "internal", message: "boom" });
  });

  it("passes each event's payload to the callback and returns the unlisten function", async () => {
    const unlisten = vi.fn();
    bindings.listen.mockImplementation(async (handler: (event: { payload: unknown }) => void) => {
      handler({ payload: { kind: "peerConnected", peerId: "12D3KooWPeer" } });
      return unlisten;
    });
    const callback = vi.fn();
    const stop = await new TauriBackend().onNodeEvent(callback);
    expect(callback).toHaveBeenCalledWith({ kind: "peerConnected", peerId: "12D3KooWPeer" });
    stop();
    expect(unlisten).toHaveBeenCalled();
  });
});

describe("createBackend", () => {
  afterEach(() => {
    delete (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
  });

  it("uses the mock in a plain browser", () => {
    const backend = createBackend();
    expect(backend).toBeInstanceOf(MockBackend);
    (backend as MockBackend).dispose();
  });

  it("uses Tauri inside the app's webview", () => {
    (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__ = {};
    expect(createBackend()).toBeInstanceOf(TauriBackend);
  });
});

describe("MockBackend", () => {
  let now = 1_700_000_000_000;
  beforeEach(() => {
    now = 1_700_000_000_000;
  });

  it("reports an uptime that advances with the clock", async () => {
    const backend = new MockBackend({ now: () => now, status: { startedAtMs: now - 10_000 } });
    expect((await backend.nodeStatus()).uptimeSecs).toBe(10);
    now += 65_000;
    expect((await backend.nodeStatus()).uptimeSecs).toBe(75);
  });

  it("fails with a typed error until it recovers", async () => {
    const backend = new MockBackend();
    backend.fail("unavailable", "stopped");
    await expect(backend.nodeStatus()).rejects.toMatchObject({ code: "unavailable", message: "stopped" });
    backend.recover();
    await expect(backend.nodeStatus()).resolves.toMatchObject({ version: "0.1.0" });
  });

  it("emits now and then on its own when asked to", async () => {
    vi.useFakeTimers();
    try {
      const backend = new MockBackend({ autoEvents: true });
      const events: unknown[] = [];
      await backend.onNodeEvent((event) => events.push(event));
      vi.advanceTimersByTime(16_000);
      expect(events).toHaveLength(1);
      backend.dispose();
      vi.advanceTimersByTime(60_000);
      expect(events).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
