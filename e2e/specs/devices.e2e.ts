import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect } from "@wdio/globals";

import { LOGS_DIR, cliBinary, runDir } from "../support/harness.js";
import { onboard } from "../support/identity.js";
import { byTestId, saveWindowScreenshot, textOf, windowOf } from "../support/windows.js";

/** The headless machine's key file passphrase: it has no OS keychain of its own here. */
const KEY_PASSPHRASE = "the home box's key file passphrase";

/** Runs the real `tallymesh` command for the headless machine, in its own data directory. */
function homeBox(args: string[]): string {
  const dataDir = path.join(runDir(), "devices", "home-box");
  return execFileSync(cliBinary(), ["--data-dir", dataDir, ...args, "--key-file"], {
    env: { ...process.env, TALLYMESH_PASSPHRASE: KEY_PASSPHRASE },
    encoding: "utf8",
    timeout: 60_000,
  });
}

function deviceRow(win: WebdriverIO.Browser, peerId: string) {
  return win.$(`[data-testid="device-row"][data-peer-id="${peerId}"]`);
}

describe("Devices: enrolling a headless machine", () => {
  let homeBoxPeerId = "";

  before(async () => {
    await onboard(windowOf("alice"), "Alice");
  });

  it("alice's window makes an enrollment link, and the command line joins with it", async () => {
    const alice = windowOf("alice");
    await byTestId(alice, "nav-settings").click();
    await expect(byTestId(alice, "settings-devices")).toBeDisplayed();
    await expect(alice.$$('[data-testid="device-row"]')).toBeElementsArrayOfSize(1);
    await expect(byTestId(alice, "device-this")).toBeDisplayed();

    await byTestId(alice, "devices-enroll").click();
    await expect(byTestId(alice, "enroll-qr")).toBeDisplayed();
    const link = await textOf(alice, "enroll-link");
    expect(link).toMatch(/^tallymesh:cadre\?v=1&d=[A-Za-z0-9_-]+$/);
    await expect(byTestId(alice, "enroll-command")).toHaveText(`tallymesh cadre join '${link}'`);
    await expect(byTestId(alice, "enroll-expiry")).toBeDisplayed();
    await saveWindowScreenshot(alice, path.join(LOGS_DIR, "devices-enroll-alice.png"));

    const joined = homeBox(["cadre", "join", link, "--name", "Home box"]);
    expect(joined).toContain("Alice");
    const shown = JSON.parse(homeBox(["id", "show", "--json"])) as { state: string; devicePeerId: string };
    expect(shown.state).toBe("member");
    homeBoxPeerId = shown.devicePeerId;

    // The cadreChanged event brings the new device into the open dialog and the list.
    await expect(byTestId(alice, "enroll-joined")).toHaveText(expect.stringContaining("Home box"));
    await alice.keys("Escape");
    const row = deviceRow(alice, homeBoxPeerId);
    await expect(row).toBeDisplayed();
    await expect(row.$('[data-testid="device-name"]')).toHaveText("Home box");
    await expect(row).toHaveAttribute("data-revoked", "false");
  });

  it("revoking the device asks first, then shows it revoked", async () => {
    const alice = windowOf("alice");
    const row = deviceRow(alice, homeBoxPeerId);
    await row.$('[data-testid="device-revoke"]').click();
    await expect(byTestId(alice, "device-revoke-dialog")).toBeDisplayed();
    await byTestId(alice, "device-revoke-confirm").click();

    await expect(row).toHaveAttribute("data-revoked", "true");
    await expect(row.$('[data-testid="device-revoked"]')).toBeDisplayed();
    await expect(row.$('[data-testid="device-revoke"]')).not.toBeExisting();
    await saveWindowScreenshot(alice, path.join(LOGS_DIR, "devices-revoked-alice.png"));
  });
});
