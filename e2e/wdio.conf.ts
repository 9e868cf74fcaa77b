/**
 * End-to-end runs: two real app windows at once, alice and bob, driven through WebdriverIO
 * multiremote. Each party has its own tauri-driver (started here, in the launcher), its own
 * data directory and its own desktop profile; see e2e/README.md.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { Capabilities } from "@wdio/types";
import { SevereServiceError } from "webdriverio";

import {
  E2E_ROOT,
  LOGS_DIR,
  PARTY_NAMES,
  PARTY_PORTS,
  RUNS_DIR,
  appBinary,
  dataDirOf,
  enterSpec,
  requireAppBinary,
  runDir,
  xdgDirsOf,
  type PartyName,
} from "./support/harness.js";
import { findOnPath, startDrivers, stopDrivers, waitForAppsToExit } from "./support/tauri-driver.js";

declare global {
  namespace WebdriverIO {
    interface Capabilities {
      /** Read by tauri-driver: the app to start and its command line. */
      "tauri:options"?: { application: string; args?: string[] };
    }
  }
}

/** Older run directories beyond this many are deleted when a run starts. */
const RUNS_KEPT = 5;

function partyCapabilities(party: PartyName): Capabilities.RequestedMultiremoteCapabilities[string] {
  return {
    hostname: "127.0.0.1",
    port: PARTY_PORTS[party].port,
    capabilities: {
      // The data directory is added per spec file, in beforeSession.
      "tauri:options": { application: appBinary(), args: [] },
      // WebKitWebDriver speaks classic WebDriver; don't ask it for a BiDi socket.
      "wdio:enforceWebDriverClassic": true,
    },
  };
}

function removeOldRuns(): void {
  if (!existsSync(RUNS_DIR)) return;
  const runs = readdirSync(RUNS_DIR).sort();
  for (const old of runs.slice(0, Math.max(0, runs.length - RUNS_KEPT))) {
    rmSync(path.join(RUNS_DIR, old), { recursive: true, force: true });
  }
}

/** Leaves in `e2e/logs/` only what this run writes; the launcher's own log is already open. */
function emptyLogsDir(): void {
  mkdirSync(LOGS_DIR, { recursive: true });
  for (const entry of readdirSync(LOGS_DIR)) {
    if (entry !== "wdio.log") rmSync(path.join(LOGS_DIR, entry), { recursive: true, force: true });
  }
}

/** Checks what the run needs, prepares its directories and starts the drivers. */
async function prepareRun(): Promise<void> {
  if (!process.env.DISPLAY) {
    throw new Error("No X display (DISPLAY is unset). Run under Xvfb: `xvfb-run -a npm run e2e`.");
  }
  const app = requireAppBinary();
  const nativeDriver = findOnPath("WebKitWebDriver", "Install the `webkit2gtk-driver` package.");

  emptyLogsDir();
  removeOldRuns();
  const launches = PARTY_NAMES.map((party) => {
    const xdg = xdgDirsOf(party);
    for (const dir of Object.values(xdg)) mkdirSync(dir, { recursive: true });
    return {
      party,
      ports: PARTY_PORTS[party],
      env: { XDG_DATA_HOME: xdg.data, XDG_CONFIG_HOME: xdg.config, XDG_CACHE_HOME: xdg.cache },
    };
  });

  console.log(`App: ${app}`);
  console.log(`Run directory: ${runDir()}`);
  await startDrivers(launches, nativeDriver);
}

export const config: WebdriverIO.MultiremoteConfig = {
  runner: "local",
  rootDir: E2E_ROOT,
  specs: ["./specs/**/*.e2e.ts"],
  maxInstances: 1,
  capabilities: Object.fromEntries(PARTY_NAMES.map((party) => [party, partyCapabilities(party)])),

  // The displays come from the caller (xvfb-run); the drivers start before any worker does.
  autoXvfb: false,
  logLevel: "info",
  outputDir: LOGS_DIR,
  bail: 0,
  waitforTimeout: 20_000,
  // Starting a session starts the app, which opens its database and node first.
  connectionRetryTimeout: 120_000,
  connectionRetryCount: 1,

  framework: "mocha",
  reporters: ["spec"],
  mochaOpts: { ui: "bdd", timeout: 60_000 },

  async onPrepare() {
    try {
      await prepareRun();
    } catch (error) {
      // Any other error in onPrepare is only logged, and the specs would run against nothing.
      throw new SevereServiceError(error instanceof Error ? error.message : String(error));
    }
  },

  /** Each spec file starts both apps on fresh data directories of its own. */
  beforeSession(_config, capabilities, specs) {
    enterSpec(specs[0] ?? "unnamed");
    const parties = capabilities as Record<PartyName, { capabilities: WebdriverIO.Capabilities }>;
    for (const party of PARTY_NAMES) {
      const options = parties[party].capabilities["tauri:options"];
      // No multicast DNS on the machine's real interfaces from a test.
      if (options) options.args = ["--data-dir", dataDirOf(party), "--no-lan-discovery"];
    }
  },

  async onWorkerEnd() {
    await waitForAppsToExit(appBinary());
  },

  async onComplete() {
    await stopDrivers();
  },

  async afterTest(test, _context, { passed }) {
    if (passed) return;
    const { saveFailureEvidence } = await import("./support/windows.js");
    await saveFailureEvidence([test.parent, test.title].filter(Boolean).join(" "));
  },
};
