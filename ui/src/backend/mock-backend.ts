import { type Backend, BackendError, type ApiErrorCode, type NodeEvent, type NodeStatus, type Unsubscribe } from "./types";

/** Status as the mock reports it, without the uptime, which follows from the clock. */
export type MockNodeState = Omit<NodeStatus, "uptimeSecs">;

export interface MockBackendOptions {
  /** Overrides for the fake node's status. */
  status?: Partial<MockNodeState>;
  /** Delay before each answer, to make loading states visible. `Infinity` never answers. */
  latencyMs?: number;
  /** Emit a peer coming or going now and then, as a live node would. */
  autoEvents?: boolean;
  /** Fail every call with this error until {@link MockBackend.recover} is called. */
  failWith?: BackendError;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
}

const MINUTE_MS = 60_000;

export function sampleNodeState(now: number): MockNodeState {
  const dataDir = "/home/ana/.local/share/tallymesh";
  return {
    version: "0.1.0",
    dataDir,
    databasePath: `${dataDir}/tallymesh.sqlite3`,
    schemaVersion: 1,
    logDir: `${dataDir}/logs`,
    startedAtMs: now - (3 * 60 + 12) * MINUTE_MS - 41_000,
    peerId: "12D3KooWRfYU5FaY9SmJcRD5uZp4Jk8pMGcAq6ZbQ3vHkS7tXn2W",
    listenAddrs: ["/ip4/127.0.0.1/udp/47811/quic-v1", "/ip4/192.168.1.40/tcp/47811"],
    connectedPeers: 3,
  };
}

/**
 * A node that lives in memory, so every screen runs in a plain browser and in
 * tests. Tests steer it: change the status, make calls fail, emit events.
 */
export class MockBackend implements Backend {
  private state: MockNodeState;
  private failure: BackendError | null;
  private readonly latencyMs: number;
  private readonly now: () => number;
  private readonly listeners = new Set<(event: NodeEvent) => void>();
  private autoEventsTimer: ReturnType<typeof setInterval> | null = null;
  private calls = 0;

  constructor(options: MockBackendOptions = {}) {
    this.now = options.now ?? Date.now;
    this.state = { ...sampleNodeState(this.now()), ...options.status };
    this.failure = options.failWith ?? null;
    this.latencyMs = options.latencyMs ?? 0;
    if (options.autoEvents) this.startAutoEvents();
  }

  /** How many times `nodeStatus` has been called. */
  get nodeStatusCalls(): number {
    return this.calls;
  }

  /** How many event subscriptions are open. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  async nodeStatus(): Promise<NodeStatus> {
    this.calls += 1;
    await this.delay();
    if (this.failure) throw this.failure;
    const uptimeSecs = Math.max(0, Math.floor((this.now() - this.state.startedAtMs) / 1000));
    return { ...this.state, listenAddrs: [...this.state.listenAddrs], uptimeSecs };
  }

  async onNodeEvent(callback: (event: NodeEvent) => void): Promise<Unsubscribe> {
    this.listeners.add(callback);
    return () => {
      this.listeners.delete(callback);
    };
  }

  setStatus(patch: Partial<MockNodeState>): void {
    this.state = { ...this.state, ...patch };
  }

  fail(code: ApiErrorCode = "unavailable", message = "The node is not running."): void {
    this.failure = new BackendError(code, message);
  }

  recover(): void {
    this.failure = null;
  }

  /** Delivers `event` to every subscriber, as the node would. */
  emit(event: NodeEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  /** Stops the background events, if any. */
  dispose(): void {
    if (this.autoEventsTimer !== null) clearInterval(this.autoEventsTimer);
    this.autoEventsTimer = null;
  }

  private delay(): Promise<void> {
    if (this.latencyMs <= 0) return Promise.resolve();
    if (!Number.isFinite(this.latencyMs)) return new Promise(() => {});
    return new Promise((resolve) => setTimeout(resolve, this.latencyMs));
  }

  private startAutoEvents(): void {
    let step = 0;
    this.autoEventsTimer = setInterval(() => {
      step += 1;
      const peerId = `12D3KooWMockPeer${String(step).padStart(4, "0")}`;
      // Peers come and go, but a few always stay.
      if (step % 3 === 0 && this.state.connectedPeers > 2) {
        this.setStatus({ connectedPeers: this.state.connectedPeers - 1 });
        this.emit({ kind: "peerDisconnected", peerId });
      } else {
        this.setStatus({ connectedPeers: Math.min(this.state.connectedPeers + 1, 9) });
        this.emit({ kind: "peerConnected", peerId });
      }
    }, 15_000);
  }
}
