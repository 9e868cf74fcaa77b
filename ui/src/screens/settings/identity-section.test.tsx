import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { MOCK_RECOVERY_PHRASE, MockBackend, mockPartyId, sampleIdentity, sampleNodeState } from "@/backend";
import { renderApp } from "../../../test/render-app";

describe("Settings → Identity & backup", () => {
  it("comes first and shows the display name, the full party id with copy, and this device's peer id", async () => {
    const identity = sampleIdentity(Date.now());
    const { user } = renderApp({ screen: "settings" });
    const section = await screen.findByTestId("settings-identity");
    expect(screen.getAllByRole("region")[0]).toBe(section);
    expect(within(section).getByRole("heading", { name: "Identity & backup" })).toBeInTheDocument();

    expect(await screen.findByTestId("identity-display-name")).toHaveTextContent(identity.displayName);
    expect(screen.getByTestId("identity-party-id").textContent).toBe(identity.partyId);
    expect(screen.getByTestId("identity-device-peer-id")).toHaveAttribute("data-value", identity.devicePeerId);

    await user.click(within(section).getByRole("button", { name: "Copy party ID" }));
    expect(await navigator.clipboard.readText()).toBe(identity.partyId);
  });

  it("shows the recovery phrase only after a warning is confirmed, and hides it again", async () => {
    const backend = new MockBackend();
    const { user } = renderApp({ screen: "settings", backend });
    await user.click(await screen.findByTestId("identity-show-phrase"));

    const warning = await screen.findByRole("alertdialog");
    expect(warning).toHaveTextContent("everything needed to take over your identity");
    await user.click(within(warning).getByRole("button", { name: "Cancel" }));
    expect(backend.recoveryPhraseReads).toBe(0);
    expect(screen.queryByTestId("identity-phrase-words")).not.toBeInTheDocument();

    await user.click(screen.getByTestId("identity-show-phrase"));
    await user.click(await screen.findByTestId("identity-show-phrase-confirm"));

    const words = await screen.findByTestId("identity-phrase-words");
    const items = within(words).getAllByRole("listitem");
    expect(items).toHaveLength(24);
    expect(items[0]).toHaveTextContent(`1${MOCK_RECOVERY_PHRASE[0]}`);
    expect(items[23]).toHaveTextContent(`24${MOCK_RECOVERY_PHRASE[23]}`);
    expect(backend.recoveryPhraseReads).toBe(1);

    await user.click(screen.getByTestId("identity-hide-phrase"));
    expect(screen.queryByTestId("identity-phrase-words")).not.toBeInTheDocument();
    expect(document.body).not.toHaveTextContent(MOCK_RECOVERY_PHRASE.slice(0, 3).join(" "));
  });

  it("never keeps the recovery phrase in the query cache", async () => {
    const { user, queryClient } = renderApp({ screen: "settings" });
    await user.click(await screen.findByTestId("identity-show-phrase"));
    await user.click(await screen.findByTestId("identity-show-phrase-confirm"));
    await screen.findByTestId("identity-phrase-words");

    const cached = JSON.stringify([
      queryClient.getQueryCache().getAll().map((query) => query.state),
      queryClient.getMutationCache().getAll().map((mutation) => mutation.state),
    ]);
    for (const word of MOCK_RECOVERY_PHRASE) expect(cached).not.toContain(`"${word}"`);
  });

  it("forgets the phrase when leaving Settings", async () => {
    const backend = new MockBackend();
    const { user } = renderApp({ screen: "settings", backend });
    await user.click(await screen.findByTestId("identity-show-phrase"));
    await user.click(await screen.findByTestId("identity-show-phrase-confirm"));
    await screen.findByTestId("identity-phrase-words");

    await user.click(screen.getByTestId("nav-home"));
    await user.click(await screen.findByTestId("nav-settings"));
    expect(await screen.findByTestId("identity-show-phrase")).toBeInTheDocument();
    expect(screen.queryByTestId("identity-phrase-words")).not.toBeInTheDocument();
  });

  it("checks the backup passphrase's length and confirmation before asking the node", async () => {
    const backend = new MockBackend();
    const save = vi.spyOn(backend, "saveBackup");
    const { user } = renderApp({ screen: "settings", backend });

    await user.type(await screen.findByTestId("backup-passphrase"), "short");
    await user.type(screen.getByTestId("backup-passphrase-confirm"), "short");
    await user.click(screen.getByTestId("backup-save"));
    expect(await screen.findByTestId("backup-error")).toHaveTextContent("The passphrase needs at least 8 characters.");

    await user.clear(screen.getByTestId("backup-passphrase"));
    await user.type(screen.getByTestId("backup-passphrase"), "hazel sticks 1");
    await user.clear(screen.getByTestId("backup-passphrase-confirm"));
    await user.type(screen.getByTestId("backup-passphrase-confirm"), "hazel sticks 2");
    await user.click(screen.getByTestId("backup-save"));
    expect(await screen.findByTestId("backup-error")).toHaveTextContent("The two passphrases don't match.");
    expect(save).not.toHaveBeenCalled();
  });

  it("saves an encrypted backup and shows where it went", async () => {
    const backend = new MockBackend({ backupSavePath: "/home/ana/Backups/Ana-Lima.tallymesh-backup" });
    const save = vi.spyOn(backend, "saveBackup");
    const { user } = renderApp({ screen: "settings", backend });
    await user.type(await screen.findByTestId("backup-passphrase"), "hazel sticks");
    await user.type(screen.getByTestId("backup-passphrase-confirm"), "hazel sticks");
    await user.click(screen.getByTestId("backup-save"));

    expect(await screen.findByTestId("backup-saved-path")).toHaveTextContent(
      "/home/ana/Backups/Ana-Lima.tallymesh-backup",
    );
    expect(save).toHaveBeenCalledWith("hazel sticks", {
      title: "Save the encrypted backup",
      fileKind: "Tallymesh backup",
    });
    expect(screen.queryByTestId("backup-error")).not.toBeInTheDocument();
    // The passphrase doesn't linger in the form.
    expect(screen.getByTestId("backup-passphrase")).toHaveValue("");
  });

  it("says nothing was saved when the save dialog is cancelled", async () => {
    const backend = new MockBackend({ backupSavePath: null });
    const { user } = renderApp({ screen: "settings", backend });
    await user.type(await screen.findByTestId("backup-passphrase"), "hazel sticks");
    await user.type(screen.getByTestId("backup-passphrase-confirm"), "hazel sticks");
    await user.click(screen.getByTestId("backup-save"));
    expect(await screen.findByTestId("backup-cancelled")).toHaveTextContent("Nothing was saved");
    expect(screen.queryByTestId("backup-saved-path")).not.toBeInTheDocument();
  });

  it("follows the node when another window or the command line changes the identity", async () => {
    const backend = new MockBackend();
    renderApp({ screen: "settings", backend });
    await screen.findByTestId("identity-display-name");
    await waitFor(() => expect(backend.listenerCount).toBe(1));
    const current = sampleIdentity(Date.now());
    backend.emit({ kind: "identityChanged", identity: { ...current, displayName: "Ana L." } });
    await waitFor(() => expect(screen.getByTestId("identity-display-name")).toHaveTextContent("Ana L."));
  });

  describe("on a member device", () => {
    const partyId = mockPartyId("Bea");
    const member = { state: "member" as const, partyId, fingerprint: partyId.slice(-8), displayName: "Bea", devicePeerId: "" };

    function renderMember(options: { thisDeviceRevoked?: boolean; language?: "en" | "es" } = {}) {
      const peerId = sampleNodeState(Date.now()).peerId;
      const backend = new MockBackend({
        identity: { ...member, devicePeerId: peerId },
        deviceName: "Bea's home box",
        thisDeviceRevoked: options.thisDeviceRevoked,
      });
      return { ...renderApp({ screen: "settings", backend, language: options.language }), backend, peerId };
    }

    it("names the party and the device it acts as, with no loading placeholders left", async () => {
      const { peerId } = renderMember();
      // The section first shows its loading rows, then the member's view in their place.
      await screen.findByTestId("identity-member-note");
      const section = screen.getByTestId("settings-identity");
      expect(within(section).getByTestId("identity-display-name")).toHaveTextContent("Bea");
      expect(within(section).getByTestId("identity-party-id").textContent).toBe(partyId);
      expect(within(section).getByTestId("identity-device-peer-id")).toHaveAttribute("data-value", peerId);
      expect(await within(section).findByTestId("identity-member-acts-for")).toHaveTextContent(
        "This device acts for Bea as 'Bea's home box'",
      );
      await waitFor(() => expect(section.querySelector('[data-slot="skeleton"]')).toBeNull());
      expect(within(section).queryByTestId("identity-member-revoked")).not.toBeInTheDocument();
    });

    it("says backups and the recovery phrase are on the main device, and offers neither", async () => {
      const { backend } = renderMember();
      const section = (await screen.findByTestId("identity-member-note")).closest<HTMLElement>('[data-testid="settings-identity"]')!;
      expect(within(section).getByTestId("identity-member-note")).toHaveTextContent(
        "holds no party secret: the recovery phrase and encrypted backups are on the main device",
      );
      expect(within(section).queryByTestId("identity-show-phrase")).not.toBeInTheDocument();
      expect(within(section).queryByTestId("backup-save")).not.toBeInTheDocument();
      expect(within(section).queryByTestId("backup-passphrase")).not.toBeInTheDocument();
      expect(backend.recoveryPhraseReads).toBe(0);
    });

    it("says so when the main device revoked this device", async () => {
      renderMember({ thisDeviceRevoked: true });
      expect(await screen.findByTestId("identity-member-revoked")).toHaveTextContent("Bea's main device revoked this device");
    });

    it("learns it was revoked when the main device's newer card leaves it off", async () => {
      const { backend } = renderMember();
      await screen.findByTestId("identity-member-acts-for");
      expect(screen.queryByTestId("identity-member-revoked")).not.toBeInTheDocument();
      act(() => backend.receiveCardWithoutThisDevice());
      expect(await screen.findByTestId("identity-member-revoked")).toBeInTheDocument();
    });

    it("is in Spanish when the app is", async () => {
      renderMember({ language: "es" });
      expect(await screen.findByTestId("identity-member-acts-for")).toHaveTextContent(
        "Este dispositivo actúa para Bea como 'Bea's home box'",
      );
    });

    it("the main window opens, not onboarding, and My card shows the party's card without invites", async () => {
      const backend = new MockBackend({
        identity: { ...member, devicePeerId: sampleNodeState(Date.now()).peerId },
      });
      const { user } = renderApp({ screen: "contacts", backend });
      await user.click(await screen.findByTestId("my-card-open"));
      expect(screen.queryByTestId("onboarding")).not.toBeInTheDocument();
      const dialog = await screen.findByTestId("my-card-dialog");
      expect(await within(dialog).findByTestId("my-card-link")).toHaveTextContent("tallymesh:");
      expect(within(dialog).getByTestId("my-card-member-note")).toHaveTextContent("Bea's main device last signed it");
      expect(within(dialog).queryByTestId("my-card-new")).not.toBeInTheDocument();
      expect(within(dialog).queryByTestId("invites-list")).not.toBeInTheDocument();
      expect(within(dialog).queryByTestId("invites-empty")).not.toBeInTheDocument();
    });
  });
});
