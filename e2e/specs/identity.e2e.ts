import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect } from "@wdio/globals";

import { cliBinary, dataDirOf, runDir } from "../support/harness.js";
import { onboard, partyIdOf } from "../support/identity.js";
import { byTestId, windowOf } from "../support/windows.js";

const BACKUP_PASSPHRASE = "a long backup passphrase";

describe("Identity: restore from a backup file", () => {
  let alicePartyId = "";

  before(async () => {
    await onboard(windowOf("alice"), "Alice");
    alicePartyId = await partyIdOf(windowOf("alice"));
  });

  it("a wrong backup passphrase is refused in bob's window and changes nothing", async () => {
    const bob = windowOf("bob");
    const backup = path.join(runDir(), "identity", "alice.tallymesh-backup");
    // The running app's node makes the backup through its control endpoint.
    execFileSync(cliBinary(), ["--data-dir", dataDirOf("alice"), "id", "export", "--out", backup], {
      env: { ...process.env, TALLYMESH_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE },
    });

    await expect(byTestId(bob, "onboarding")).toBeDisplayed();
    await byTestId(bob, "onboarding-restore").click();
    await byTestId(bob, "restore-tab-backup").click();
    // A file input takes the path as typed keys; it cannot be cleared first.
    await byTestId(bob, "restore-backup-file").addValue(backup);
    await byTestId(bob, "restore-backup-passphrase").setValue("not the passphrase");
    await byTestId(bob, "restore-backup-submit").click();
    await expect(byTestId(bob, "onboarding-error")).toHaveText(expect.stringContaining("Wrong passphrase for this backup"));
    await expect(byTestId(bob, "onboarding")).toBeDisplayed();

    await byTestId(bob, "restore-backup-passphrase").setValue(BACKUP_PASSPHRASE);
    await byTestId(bob, "restore-backup-submit").click();
    await byTestId(bob, "onboarding-done").click();
    await expect(byTestId(bob, "home-screen")).toBeDisplayed();
    expect(await partyIdOf(bob)).toEqual(alicePartyId);
  });
});
