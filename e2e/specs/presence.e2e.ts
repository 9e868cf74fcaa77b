import { execFileSync } from "node:child_process";
import path from "node:path";

import { becomeContacts, contactRow, waitForOnline } from "../support/contacts.js";
import { LOGS_DIR, dataDirOf } from "../support/harness.js";
import { onboard, partyIdOf } from "../support/identity.js";
import { saveWindowScreenshot, textOf, windowOf } from "../support/windows.js";

describe("Contacts online", () => {
  let alicePartyId = "";
  let bobPartyId = "";

  before(async () => {
    await onboard(windowOf("alice"), "Alice");
    await onboard(windowOf("bob"), "Bob");
    alicePartyId = await partyIdOf(windowOf("alice"));
    bobPartyId = await partyIdOf(windowOf("bob"));
  });

  it("bob redeems alice's invite link and each sees the other online", async () => {
    const alice = windowOf("alice");
    const bob = windowOf("bob");
    await becomeContacts({ win: alice, partyId: alicePartyId, name: "alice" }, { win: bob, partyId: bobPartyId, name: "bob" });
    await saveWindowScreenshot(alice, path.join(LOGS_DIR, "presence-alice.png"));
  });

  it("stopping bob's app turns his dot offline in alice's window", async () => {
    const alice = windowOf("alice");
    // The app stops its node on SIGTERM, as when its window closes. (Closing the window through
    // WebDriver would end both parties' sessions.) This is the last test of the file: bob's
    // window is gone after it.
    execFileSync("pkill", ["-TERM", "-f", "--", `--data-dir ${dataDirOf("bob")}`]);
    await waitForOnline(alice, bobPartyId, false, "bob, after his app closed,");
    await contactRow(alice, bobPartyId).click();
    let shown = "";
    await alice.waitUntil(
      async () => {
        shown = await textOf(alice, "contact-detail-presence");
        return shown.includes("Last seen");
      },
      { timeoutMsg: "bob's contact page never said when he was last seen" },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; it said "${shown}"`);
    });
  });
});
