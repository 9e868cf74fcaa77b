import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import {
  MOCK_BACKUP_NAME,
  MOCK_BACKUP_PASSPHRASE,
  MOCK_RECOVERY_PHRASE,
  MOCK_RESTORED_PARTY_ID,
  MockBackend,
  mockBackupFile,
} from "@/backend";
import { renderApp } from "../../../test/render-app";

function backupFile(bytes = mockBackupFile()): File {
  return new File([bytes.slice().buffer as ArrayBuffer], "Ana-Lima.tallymesh-backup", { type: "application/octet-stream" });
}

describe("Onboarding", () => {
  it("a node with no identity opens on the welcome, not the app", async () => {
    renderApp({ backendOptions: { identity: "none" } });
    expect(await screen.findByTestId("onboarding")).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Welcome to Tallymesh");
    expect(screen.queryByRole("navigation", { name: "Main" })).not.toBeInTheDocument();
  });

  it("creates an identity, offers the recovery phrase, and continues into the app", async () => {
    const backend = new MockBackend({ identity: "none" });
    const { user } = renderApp({ backend });
    await user.type(await screen.findByTestId("onboarding-name"), "  Bea Souza ");
    await user.click(screen.getByTestId("onboarding-create"));

    // The identity exists, but onboarding stays until the person continues.
    expect(await screen.findByRole("heading", { name: "You're all set, Bea Souza" })).toBeInTheDocument();
    expect(backend.currentIdentity).toMatchObject({ state: "ready", displayName: "Bea Souza" });
    const ready = backend.currentIdentity as { partyId: string };
    expect(screen.getByTestId("onboarding-party-id")).toHaveAttribute("data-value", ready.partyId);
    expect(screen.queryByTestId("home-screen")).not.toBeInTheDocument();

    // The phrase is fetched only when asked for.
    expect(backend.recoveryPhraseReads).toBe(0);
    await user.click(screen.getByTestId("onboarding-show-phrase"));
    const words = await screen.findByTestId("onboarding-phrase-words");
    expect(within(words).getAllByRole("listitem")).toHaveLength(24);
    expect(words).toHaveTextContent(MOCK_RECOVERY_PHRASE[0]!);

    await user.click(screen.getByTestId("onboarding-done"));
    expect(await screen.findByTestId("home-screen")).toBeInTheDocument();
    expect(screen.queryByTestId("onboarding")).not.toBeInTheDocument();
  });

  it("can leave the recovery phrase for later and still enter the app", async () => {
    const backend = new MockBackend({ identity: "none" });
    const { user } = renderApp({ backend });
    await user.type(await screen.findByTestId("onboarding-name"), "Bea");
    await user.click(screen.getByTestId("onboarding-create"));
    const done = await screen.findByTestId("onboarding-done");
    expect(done).toHaveTextContent("later");
    await user.click(done);
    expect(await screen.findByTestId("home-screen")).toBeInTheDocument();
    expect(backend.recoveryPhraseReads).toBe(0);
  });

  it("refuses an empty display name in the form without asking the node", async () => {
    const backend = new MockBackend({ identity: "none" });
    const { user } = renderApp({ backend });
    await user.type(await screen.findByTestId("onboarding-name"), "   ");
    await user.click(screen.getByTestId("onboarding-create"));
    expect(await screen.findByTestId("onboarding-error")).toHaveTextContent("Enter the name your contacts will see.");
    expect(backend.currentIdentity.state).toBe("none");
  });

  it("refuses a display name over 64 characters", async () => {
    const { user } = renderApp({ backendOptions: { identity: "none" } });
    await user.click(await screen.findByTestId("onboarding-name"));
    await user.paste("x".repeat(65));
    await user.click(screen.getByTestId("onboarding-create"));
    expect(await screen.findByTestId("onboarding-error")).toHaveTextContent("at most 64 characters");
  });

  it("restores from the recovery phrase under the name given", async () => {
    const backend = new MockBackend({ identity: "none" });
    const { user } = renderApp({ backend });
    await user.click(await screen.findByTestId("onboarding-restore"));
    await user.click(screen.getByTestId("restore-phrase"));
    await user.paste(MOCK_RECOVERY_PHRASE.join("  \n"));
    expect(screen.getByText("24 of 24 words")).toBeInTheDocument();
    await user.type(screen.getByTestId("restore-name"), "Ana");
    await user.click(screen.getByTestId("restore-phrase-submit"));

    expect(await screen.findByRole("heading", { name: "Welcome back, Ana" })).toBeInTheDocument();
    expect(backend.currentIdentity).toMatchObject({ state: "ready", partyId: MOCK_RESTORED_PARTY_ID, displayName: "Ana" });
    await user.click(screen.getByTestId("onboarding-done"));
    expect(await screen.findByTestId("home-screen")).toBeInTheDocument();
  });

  it("a wrong phrase shows the node's message and keeps the words and the name", async () => {
    const backend = new MockBackend({ identity: "none" });
    const { user } = renderApp({ backend });
    await user.click(await screen.findByTestId("onboarding-restore"));
    const wrong = [...MOCK_RECOVERY_PHRASE.slice(0, 23), "zebra"].join(" ");
    await user.click(screen.getByTestId("restore-phrase"));
    await user.paste(wrong);
    await user.type(screen.getByTestId("restore-name"), "Ana");
    await user.click(screen.getByTestId("restore-phrase-submit"));

    expect(await screen.findByTestId("onboarding-error")).toHaveTextContent(
      "The recovery phrase's checksum does not match: a word is wrong, or two are swapped.",
    );
    expect(screen.getByTestId("restore-phrase")).toHaveValue(wrong);
    expect(screen.getByTestId("restore-name")).toHaveValue("Ana");
    expect(screen.getByTestId("onboarding")).toBeInTheDocument();
    expect(backend.currentIdentity.state).toBe("none");
  });

  it("a backup with the wrong passphrase is refused with the node's message; the right one restores", async () => {
    const backend = new MockBackend({ identity: "none" });
    const { user } = renderApp({ backend });
    await user.click(await screen.findByTestId("onboarding-restore"));
    await user.click(screen.getByTestId("restore-tab-backup"));
    await user.upload(screen.getByTestId("restore-backup-file"), backupFile());
    await user.type(screen.getByTestId("restore-backup-passphrase"), "not the passphrase");
    await user.click(screen.getByTestId("restore-backup-submit"));

    expect(await screen.findByTestId("onboarding-error")).toHaveTextContent(
      "Wrong passphrase for this backup (or the file has been altered); nothing was changed.",
    );
    expect(screen.getByTestId("restore-backup-passphrase")).toHaveValue("not the passphrase");
    expect(backend.currentIdentity.state).toBe("none");

    await user.clear(screen.getByTestId("restore-backup-passphrase"));
    await user.type(screen.getByTestId("restore-backup-passphrase"), MOCK_BACKUP_PASSPHRASE);
    await user.click(screen.getByTestId("restore-backup-submit"));
    expect(await screen.findByRole("heading", { name: `Welcome back, ${MOCK_BACKUP_NAME}` })).toBeInTheDocument();
    expect(backend.currentIdentity).toMatchObject({ state: "ready", partyId: MOCK_RESTORED_PARTY_ID });
  });

  it("asks for the backup file before sending anything", async () => {
    const { user } = renderApp({ backendOptions: { identity: "none" } });
    await user.click(await screen.findByTestId("onboarding-restore"));
    await user.click(screen.getByTestId("restore-tab-backup"));
    await user.type(screen.getByTestId("restore-backup-passphrase"), "whatever1");
    await user.click(screen.getByTestId("restore-backup-submit"));
    expect(await screen.findByTestId("onboarding-error")).toHaveTextContent("Choose your backup file first.");
  });

  it("keeps what was typed in one restore form while the other is open", async () => {
    const { user } = renderApp({ backendOptions: { identity: "none" } });
    await user.click(await screen.findByTestId("onboarding-restore"));
    await user.type(screen.getByTestId("restore-phrase"), "orbit velvet");
    await user.click(screen.getByTestId("restore-tab-backup"));
    await user.click(screen.getByTestId("restore-tab-phrase"));
    expect(screen.getByTestId("restore-phrase")).toHaveValue("orbit velvet");
  });

  it("explains a missing key and offers only a restore of the same identity, with its name filled in", async () => {
    const backend = new MockBackend({ identity: "keyMissing" });
    const { user } = renderApp({ backend });
    expect(await screen.findByRole("heading", { name: "Your identity's key is missing" })).toBeInTheDocument();
    expect(screen.getByTestId("onboarding")).toHaveTextContent("the system keychain (Secret Service)");
    expect(screen.getByTestId("onboarding-key-missing")).toHaveTextContent("Your contacts and data are still here.");
    expect(screen.queryByTestId("onboarding-create")).not.toBeInTheDocument();
    expect(screen.getByTestId("restore-name")).toHaveValue("Ana Lima");

    await user.click(screen.getByTestId("restore-phrase"));
    await user.paste(MOCK_RECOVERY_PHRASE.join(" "));
    await user.click(screen.getByTestId("restore-phrase-submit"));
    await user.click(await screen.findByTestId("onboarding-done"));
    await waitFor(() => expect(screen.getByTestId("home-screen")).toBeInTheDocument());
  });
});
