import { MockBackend } from "./mock-backend";
import { TauriBackend, isTauri } from "./tauri-backend";
import { BackendError, type Backend } from "./types";

/**
 * The Tauri backend inside the app; everywhere else a mock node. In a browser,
 * `?mock=error`, `?mock=loading` or `?mock=slow` show the other states of the screens.
 */
export function createBackend(): Backend {
  if (isTauri()) return new TauriBackend();
  const scenario = new URLSearchParams(window.location.search).get("mock");
  switch (scenario) {
    case "error":
      return new MockBackend({
        failWith: new BackendError("unavailable", "The node did not answer within 5 seconds."),
        latencyMs: 300,
      });
    case "loading":
      return new MockBackend({ latencyMs: Number.POSITIVE_INFINITY });
    case "slow":
      return new MockBackend({ latencyMs: 2_000, autoEvents: true });
    default:
      return new MockBackend({ latencyMs: 250, autoEvents: true });
  }
}
