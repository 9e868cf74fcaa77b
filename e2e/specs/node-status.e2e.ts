import path from "node:path";
import { expect } from "@wdio/globals";

import { LOGS_DIR, PARTY_NAMES, dataDirOf } from "../support/harness.js";
import { onboard } from "../support/identity.js";
import { byTestId, saveWindowScreenshot, waitForText, windowOf } from "../support/windows.js";

describe("Home", () => {
  before(async () => {
    await onboard(windowOf("alice"), "Alice");
    await onboard(windowOf("bob"), "Bob");
  });

  it("each window shows its own node status with its own data directory", async () => {
    const peerIds: string[] = [];
    for (const party of PARTY_NAMES) {
      const win = windowOf(party);
      await expect(byTestId(win, "home-screen")).toBeDisplayed();
      const state = byTestId(win, "node-status-state");
      await expect(state).toHaveAttribute("data-state", "ok");
      await expect(state).toHaveText(expect.stringContaining("Running"));
      await waitForText(win, "node-data-dir", dataDirOf(party));

      const peerId = byTestId(win, "node-peer-id");
      await expect(peerId).toHaveAttribute("data-value", expect.stringMatching(/\S/));
      peerIds.push(String(await peerId.getAttribute("data-value")));
    }
    expect(peerIds[0]).not.toEqual(peerIds[1]);

    await saveWindowScreenshot(windowOf("alice"), path.join(LOGS_DIR, "home-alice.png"));
  });
});
