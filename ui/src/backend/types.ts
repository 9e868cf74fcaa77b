/**
 * The backend's vocabulary as the rest of the UI sees it. Types come from the
 * generated bindings so a regenerated file keeps every screen honest.
 */
import type { ApiError, NodeEvent, NodeStatus } from "./bindings";

export type { NodeEvent, NodeStatus };

export type ApiErrorCode = ApiError["code"];

const API_ERROR_CODES: readonly ApiErrorCode[] = ["invalidInput", "unavailable", "storage", "internal"];

/** A failed backend call: one of the few codes the UI can act on, and a message for people. */
export class BackendError extends Error {
  readonly code: ApiErrorCode;

  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.name = "BackendError";
    this.code = code;
  }

  /** Turns whatever a call threw or returned as its error into a `BackendError`. */
  static from(cause: unknown): BackendError {
    if (cause instanceof BackendError) return cause;
    if (isApiError(cause)) return new BackendError(cause.code, cause.message);
    if (cause instanceof Error) return new BackendError("internal", cause.message);
    return new BackendError("internal", typeof cause === "string" ? cause : "Unknown error");
  }
}

function isApiError(value: unknown): value is ApiError {
  if (typeof value !== "object" || value === null) return false;
  const { code, message } = value as Record<string, unknown>;
  return (
    typeof message === "string" && typeof code === "string" && (API_ERROR_CODES as readonly string[]).includes(code)
  );
}

export type Unsubscribe = () => void;

/** Everything the UI asks of the node. Implemented over Tauri in the app and by a mock elsewhere. */
export interface Backend {
  /** The node's current status. Rejects with a {@link BackendError}. */
  nodeStatus(): Promise<NodeStatus>;
  /** Calls `callback` for every node event until the returned function is called. */
  onNodeEvent(callback: (event: NodeEvent) => void): Promise<Unsubscribe>;
}
