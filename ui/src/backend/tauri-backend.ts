import { commands, events } from "./bindings";
import { type Backend, BackendError, type NodeEvent, type NodeStatus, type Unsubscribe } from "./types";

/** The backend inside the desktop app: typed commands and events over Tauri IPC. */
export class TauriBackend implements Backend {
  async nodeStatus(): Promise<NodeStatus> {
    let result;
    try {
      result = await commands.nodeStatus();
    } catch (cause) {
      throw BackendError.from(cause);
    }
    if (result.status === "error") throw BackendError.from(result.error);
    return result.data;
  }

  async onNodeEvent(callback: (event: NodeEvent) => void): Promise<Unsubscribe> {
    return events.nodeEvent.listen((event) => callback(event.payload));
  }
}

/** True inside the Tauri webview, where the IPC bridge is injected before any script runs. */
export function isTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}
