/**
 * The only door to the Rust side. Screens import from here, never from
 * `@tauri-apps/*` or the generated bindings directly.
 */
export { BackendProvider, useBackend } from "./context";
export { MockBackend, sampleNodeState, type MockBackendOptions, type MockNodeState } from "./mock-backend";
export { createBackend } from "./select";
export { BackendError, type ApiErrorCode, type Backend, type NodeEvent, type NodeStatus, type Unsubscribe } from "./types";
