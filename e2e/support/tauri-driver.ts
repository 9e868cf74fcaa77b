/**
 * Starting and stopping one tauri-driver per party, in the launcher process.
 *
 * tauri-driver starts WebKitWebDriver, which starts the app for each WebDriver session. Each
 * driver is started as the leader of a new process group, so stopping the group also stops a
 * WebKitWebDriver or an app that outlived its session: a run never leaves processes behind,
 * whether it passes, fails or is interrupted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
} from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { driverLogOf, type PartyName, type PartyPorts } from "./harness.js";

export interface DriverLaunch {
  party: PartyName;
  ports: PartyPorts;
  /** Extra environment for the driver, inherited by WebKitWebDriver and the app. */
  env: Record<string, string>;
}

interface RunningDriver {
  party: PartyName;
  child: ChildProcess;
  /** The process group: the driver's pid, since it leads the group. */
  group: number;
  exited: Promise<void>;
  hasExited: boolean;
}

const running: RunningDriver[] = [];
let exitGuardInstalled = false;

/** Finds `name` on PATH, or throws saying which package provides it. */
export function findOnPath(name: string, installHint: string): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder.
    }
  }
  throw new Error(`${name} is not on PATH. ${installHint}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.setTimeout(1_000);
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  signalProcess(-group, signal);
}

/** Sends `signal` to a pid (or, negative, a process group) that may have ended already. */
function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function groupIsAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

function installExitGuard(): void {
  if (exitGuardInstalled) return;
  exitGuardInstalled = true;
  // The wdio launcher turns SIGINT, SIGTERM and SIGHUP into process.exit; whatever is still
  // running at that point is killed here, synchronously.
  process.on("exit", () => {
    for (const driver of running) signalGroup(driver.group, "SIGKILL");
  });
}

async function answersStatus(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Waits until WebKitWebDriver accepts connections and then until tauri-driver answers
 * `GET /status`, which it forwards to WebKitWebDriver. (Asking tauri-driver before
 * WebKitWebDriver listens would fill its log with refused forwards.)
 */
async function waitUntilReady(driver: RunningDriver, ports: PartyPorts, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ready = [() => canConnect(ports.nativePort), () => answersStatus(ports.port)];
  for (const isReady of ready) {
    for (;;) {
      if (driver.hasExited) {
        throw new Error(
          `tauri-driver for ${driver.party} exited before it was ready. ` +
            `Last lines of ${driverLogOf(driver.party)}:\n${logTail(driverLogOf(driver.party))}`,
        );
      }
      if (await isReady()) break;
      if (Date.now() > deadline) {
        throw new Error(
          `tauri-driver for ${driver.party} was not ready on ports ${ports.port}/${ports.nativePort} ` +
            `within ${timeoutMs} ms. Last lines of ${driverLogOf(driver.party)}:\n${logTail(driverLogOf(driver.party))}`,
        );
      }
      await sleep(100);
    }
  }
}

/**
 * Starts a tauri-driver for each party and waits until each, and the WebKitWebDriver behind
 * it, answers. Fails if a port is already taken, because a leftover driver
 * would otherwise answer for ours and start the wrong app.
 */
export async function startDrivers(launches: DriverLaunch[], nativeDriver: string): Promise<void> {
  const tauriDriver = findOnPath(
    "tauri-driver",
    "Install it with `cargo install tauri-driver --locked --version 2.1.0`.",
  );
  for (const { party, ports } of launches) {
    for (const port of [ports.port, ports.nativePort]) {
      if (await canConnect(port)) {
        throw new Error(
          `Port ${port} (for ${party}) is already in use; is another end-to-end run, or a leftover ` +
            "tauri-driver or WebKitWebDriver, still running?",
        );
      }
    }
  }

  installExitGuard();
  for (const { party, ports, env } of launches) {
    const logFile = driverLogOf(party);
    mkdirSync(path.dirname(logFile), { recursive: true });
    const log = openSync(logFile, "w");
    const child = spawn(
      tauriDriver,
      ["--port", String(ports.port), "--native-port", String(ports.nativePort), "--native-driver", nativeDriver],
      { env: { ...process.env, ...env }, stdio: ["ignore", log, log], detached: true },
    );
    closeSync(log);
    if (child.pid === undefined) {
      throw new Error(`tauri-driver for ${party} could not be started; see ${logFile}.`);
    }
    const driver: RunningDriver = {
      party,
      child,
      group: child.pid,
      hasExited: false,
      exited: new Promise((resolve) => {
        child.once("exit", () => {
          driver.hasExited = true;
          resolve();
        });
      }),
    };
    running.push(driver);
  }

  await Promise.all(
    running.map(async (driver) => {
      const { ports } = launches.find((launch) => launch.party === driver.party)!;
      await waitUntilReady(driver, ports, 15_000);
    }),
  );
}

/**
 * Stops every driver started here, with whatever it started: SIGTERM to each process group
 * (tauri-driver then stops WebKitWebDriver), SIGKILL for anything left after a grace period.
 */
export async function stopDrivers(graceMs = 5_000): Promise<void> {
  const drivers = [...running];
  for (const driver of drivers) signalGroup(driver.group, "SIGTERM");
  await Promise.all(
    drivers.map(async (driver) => {
      const deadline = Date.now() + graceMs;
      while (groupIsAlive(driver.group) && Date.now() < deadline) await sleep(100);
      signalGroup(driver.group, "SIGKILL");
      await Promise.race([driver.exited, sleep(1_000)]);
      running.splice(running.indexOf(driver), 1);
    }),
  );
}

/** The pids of `binary` running inside the drivers' process groups (Linux /proc). */
function appProcesses(binary: string): number[] {
  const groups = new Set(running.map((driver) => driver.group));
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised command name: state, ppid, pgrp, ...
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (groups.has(pgrp) && readlinkSync(`/proc/${entry}/exe`) === binary) pids.push(Number(entry));
    } catch {
      // The process ended while we looked, or is not ours to inspect.
    }
  }
  return pids;
}

async function waitUntilGone(binary: string, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = appProcesses(binary);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = appProcesses(binary);
  }
  return left;
}

/**
 * Waits until no copy of the app is left from the sessions that just ended, and stops any that
 * lingers. The next spec file starts the apps again on the same data directories, and each app
 * locks its data directory for as long as it runs.
 */
export async function waitForAppsToExit(binary: string, timeoutMs = 15_000): Promise<void> {
  let executable = binary;
  try {
    executable = realpathSync(binary);
  } catch {
    // Rebuilt or removed during the run: match the path as given.
  }
  let left = await waitUntilGone(executable, timeoutMs);
  if (left.length === 0) return;
  console.warn(`The app (pids ${left.join(", ")}) still runs ${timeoutMs} ms after its session ended; stopping it.`);
  for (const pid of left) signalProcess(pid, "SIGTERM");
  left = await waitUntilGone(executable, 5_000);
  for (const pid of left) signalProcess(pid, "SIGKILL");
}
