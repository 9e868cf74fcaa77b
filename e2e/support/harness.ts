/**
 * Where things are in an end-to-end run, shared by the wdio config (launcher process) and the
 * specs (worker processes).
 *
 * A run has two parties, alice and bob: two copies of the app, each with its own tauri-driver,
 * data directory per spec file (which also holds its webview's storage) and desktop profile (XDG folders, for
 * whatever GTK, WebKit or the app keep outside the data directory). The run directory is chosen once, when the launcher first loads this module, and handed to
 * the workers through the environment so that every process agrees on it.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PARTY_NAMES = ["alice", "bob"] as const;
export type PartyName = (typeof PARTY_NAMES)[number];

export interface PartyPorts {
  /** Where tauri-driver listens for WebDriver clients. */
  port: number;
  /** Where tauri-driver starts WebKitWebDriver. */
  nativePort: number;
}

export const PARTY_PORTS: Record<PartyName, PartyPorts> = {
  alice: { port: 4444, nativePort: 4445 },
  bob: { port: 4454, nativePort: 4455 },
};

export const E2E_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = path.resolve(E2E_ROOT, "..");
export const LOGS_DIR = path.join(E2E_ROOT, "logs");
export const RUNS_DIR = path.join(E2E_ROOT, ".tmp");

const RUN_DIR_ENV = "TALLYMESH_E2E_RUN_DIR";

/** The app binary under test: `TALLYMESH_APP`, or the workspace's debug build. */
export function appBinary(): string {
  const fromEnv = process.env.TALLYMESH_APP;
  return fromEnv ? path.resolve(fromEnv) : path.join(REPO_ROOT, "target", "debug", "tallymesh-app");
}

/** Throws a message that says how to get the app binary when it is missing. */
export function requireAppBinary(): string {
  const app = appBinary();
  if (!existsSync(app)) {
    throw new Error(
      `The app binary ${app} does not exist. Build the UI and the app first ` +
        "(`npm run build` in ui/, then `cargo build --workspace`), or point TALLYMESH_APP at a built binary.",
    );
  }
  return app;
}

function newRunId(): string {
  // Sortable by time, unique per launcher process.
  return `${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`;
}

/** This run's directory, `e2e/.tmp/<run-id>`; the first process to ask picks it. */
export function runDir(): string {
  let dir = process.env[RUN_DIR_ENV];
  if (!dir) {
    dir = path.join(RUNS_DIR, newRunId());
    process.env[RUN_DIR_ENV] = dir;
  }
  return dir;
}

const SPEC_ENV = "TALLYMESH_E2E_SPEC";

/** Names the spec file the current worker runs, so its parties get fresh data directories. */
export function enterSpec(specFile: string): void {
  process.env[SPEC_ENV] = path.basename(specFile).replace(/\.e2e\.ts$/, "");
}

/**
 * The data directory the app of `party` is started with (`--data-dir`): one per spec file, so
 * every spec starts from a fresh node (with no identity yet) whatever ran before it.
 */
export function dataDirOf(party: PartyName): string {
  const spec = process.env[SPEC_ENV];
  if (!spec) throw new Error("No spec is running: data directories belong to a spec file.");
  return path.join(runDir(), spec, party);
}

/** The headless `tallymesh` command of the same build as the app. */
export function cliBinary(): string {
  return path.join(path.dirname(appBinary()), "tallymesh");
}

/** The XDG folders of `party`'s desktop profile, so nothing leaks between parties or into $HOME. */
export function xdgDirsOf(party: PartyName): { data: string; config: string; cache: string } {
  const base = path.join(runDir(), "xdg", party);
  return { data: path.join(base, "data"), config: path.join(base, "config"), cache: path.join(base, "cache") };
}

/** The log file that receives tauri-driver's output (and WebKitWebDriver's and the app's stderr). */
export function driverLogOf(party: PartyName): string {
  return path.join(LOGS_DIR, `${party}-driver.log`);
}
