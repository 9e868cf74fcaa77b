import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { MockBackend, mockCardLink, mockQrImage, sampleContacts, sampleStrangerCard, tamperLink } from "@/backend";
import { renderApp } from "../../../test/render-app";

const HOUR_MS = 3_600_000;
const lucia = sampleStrangerCard(Date.now());
const luciaLink = mockCardLink(lucia);
const INVITE_TOKEN = "5e".repeat(16);
const invitedLink = mockCardLink(
  sampleStrangerCard(Date.now(), { token: INVITE_TOKEN, reusable: false, expiresAtMs: Date.now() + 24 * HOUR_MS }),
);

async function previewCard(link: string, options: Parameters<typeof renderApp>[0] = {}) {
  const rendered = await openAddDialog(options);
  await rendered.user.click(screen.getByTestId("add-paste-input"));
  await rendered.user.paste(link);
  await rendered.user.click(screen.getByTestId("add-paste-submit"));
  await screen.findByTestId("card-preview");
  return rendered;
}

async function openAddDialog(options: Parameters<typeof renderApp>[0] = {}) {
  const rendered = renderApp({ screen: "contacts", ...options });
  await screen.findAllByTestId("contact-row");
  await rendered.user.click(screen.getByTestId("add-contact-open"));
  const dialog = await screen.findByTestId("add-contact-dialog");
  return { ...rendered, dialog };
}

describe("Add contact", () => {
  it("pasting a link previews the verified card; Add adds, closes, selects the contact and confirms", async () => {
    const { user, backend } = await openAddDialog();
    await user.click(screen.getByTestId("add-paste-input"));
    await user.paste(`  ${luciaLink}\n`);
    await user.click(screen.getByTestId("add-paste-submit"));

    const preview = await screen.findByTestId("card-preview");
    expect(screen.getByTestId("card-preview-name")).toHaveTextContent("Lucía Fernández");
    expect(screen.getByTestId("card-preview-party-id").textContent).toBe(lucia.partyId);
    expect(preview).toHaveTextContent("2 devices");
    expect(screen.queryByTestId("card-preview-known")).not.toBeInTheDocument();
    // Nothing is added before the person says so.
    expect((await backend.contacts()).map((contact) => contact.partyId)).not.toContain(lucia.partyId);

    await user.click(screen.getByTestId("card-preview-add"));

    await waitFor(() => expect(screen.queryByTestId("add-contact-dialog")).not.toBeInTheDocument());
    expect(await screen.findByTestId("contact-detail-name")).toHaveTextContent("Lucía Fernández");
    expect(screen.getByTestId("contact-detail-party-id").textContent).toBe(lucia.partyId);
    expect(await screen.findByTestId("toast")).toHaveTextContent("Lucía Fernández was added to your contacts.");
    await waitFor(() =>
      expect(screen.getAllByTestId("contact-row").map((row) => row.getAttribute("data-party-id"))).toContain(
        lucia.partyId,
      ),
    );
  });

  it("a link changed after it was made is refused in the node's words, and the pasted text stays", async () => {
    const { user } = await openAddDialog();
    const tampered = tamperLink(luciaLink);
    await user.click(screen.getByTestId("add-paste-input"));
    await user.paste(tampered);
    await user.click(screen.getByTestId("add-paste-submit"));

    expect(await screen.findByTestId("add-contact-error")).toHaveTextContent(
      "This link was changed after it was made, so it can't be trusted.",
    );
    expect(screen.getByTestId("add-paste-input")).toHaveValue(tampered);
    expect(screen.queryByTestId("card-preview")).not.toBeInTheDocument();
  });

  it("something that is not a card link is refused plainly", async () => {
    const { user } = await openAddDialog();
    await user.type(screen.getByTestId("add-paste-input"), "https://example.org/ana");
    await user.click(screen.getByTestId("add-paste-submit"));
    expect(await screen.findByTestId("add-contact-error")).toHaveTextContent("This is not a Tallymesh contact link.");
  });

  it("a known party's card says it is already a contact, and Add updates it", async () => {
    const known = sampleContacts(Date.now())[0]!;
    const newer = mockCardLink({ ...known, invite: null, issuedAtMs: Date.now() });
    const { user } = await openAddDialog();
    await user.click(screen.getByTestId("add-paste-input"));
    await user.paste(newer);
    await user.click(screen.getByTestId("add-paste-submit"));
    expect(await screen.findByTestId("card-preview-known")).toHaveTextContent("Already a contact");
    expect(screen.getByTestId("card-preview-add")).toHaveTextContent("Update contact");
    await user.click(screen.getByTestId("card-preview-add"));
    expect(await screen.findByTestId("toast")).toHaveTextContent(`${known.displayName}'s card was updated.`);
  });

  it("shows the invite a card carries", async () => {
    const withInvite = mockCardLink(
      sampleStrangerCard(Date.now(), { token: "ab".repeat(16), reusable: false, expiresAtMs: Date.now() + 24 * HOUR_MS }),
    );
    const { user } = await openAddDialog();
    await user.click(screen.getByTestId("add-paste-input"));
    await user.paste(withInvite);
    await user.click(screen.getByTestId("add-paste-submit"));
    expect(await screen.findByTestId("card-preview-invite")).toHaveTextContent("One-time invite, valid until");
  });

  it("reads a card from a picture of its QR code", async () => {
    const { user } = await openAddDialog();
    await user.click(screen.getByTestId("add-tab-image"));
    const picture = new File([mockQrImage(luciaLink).slice().buffer as ArrayBuffer], "lucia.png", { type: "image/png" });
    await user.upload(screen.getByTestId("add-image-input"), picture);

    expect(await screen.findByTestId("card-preview-name")).toHaveTextContent("Lucía Fernández");
    await user.click(screen.getByTestId("card-preview-add"));
    expect(await screen.findByTestId("contact-detail-name")).toHaveTextContent("Lucía Fernández");
  });

  it("a picture with no code in it is refused in the node's words", async () => {
    const { user } = await openAddDialog();
    await user.click(screen.getByTestId("add-tab-image"));
    const picture = new File([mockQrImage("just a photo").slice().buffer as ArrayBuffer], "cat.png", { type: "image/png" });
    await user.upload(screen.getByTestId("add-image-input"), picture);
    expect(await screen.findByTestId("add-contact-error")).toHaveTextContent("No QR code could be read in this image.");
  });

  it("without a camera, says so and offers the other two ways", async () => {
    const backend = new MockBackend({ camera: null, scanStepMs: 5 });
    const { user } = await openAddDialog({ backend });
    await user.click(screen.getByTestId("add-tab-camera"));
    await user.click(screen.getByTestId("add-camera-start"));

    await waitFor(() => expect(screen.getByTestId("camera-message")).toHaveAttribute("data-kind", "failed"));
    expect(screen.getByTestId("camera-message")).toHaveTextContent(
      "No camera was found. Connect a webcam, or add the contact from a link or an image file.",
    );
    expect(screen.queryByTestId("camera-preview")).not.toBeInTheDocument();

    await user.click(screen.getByTestId("camera-use-paste"));
    expect(screen.getByTestId("add-paste-input")).toBeInTheDocument();
  });

  it("with a camera, shows what it sees, says which codes it refuses, and previews the card it finds", async () => {
    const backend = new MockBackend({
      camera: { name: "Test Cam", refuses: [tamperLink(luciaLink)], finds: luciaLink },
      // Long enough that the refusal stays on screen for a few renders even when the machine is busy.
      scanStepMs: 40,
    });
    const { user } = await openAddDialog({ backend });
    await user.click(screen.getByTestId("add-tab-camera"));
    await user.click(screen.getByTestId("add-camera-start"));

    const frame = await screen.findByTestId("camera-preview");
    expect(frame.getAttribute("src")).toMatch(/^data:image\//);
    await waitFor(() =>
      expect(screen.getByTestId("camera-message")).toHaveTextContent(
        "This link was changed after it was made, so it can't be trusted.",
      ),
    );
    expect(screen.getByTestId("camera-message")).toHaveAttribute("data-kind", "refused");

    expect(await screen.findByTestId("card-preview-name")).toHaveTextContent("Lucía Fernández");
    expect(backend.scanning).toBe(false);
    await user.click(screen.getByTestId("card-preview-add"));
    expect(await screen.findByTestId("contact-detail-name")).toHaveTextContent("Lucía Fernández");
  });

  it("closing the dialog stops the camera", async () => {
    const backend = new MockBackend({ camera: { name: "Test Cam" }, scanStepMs: 1_000 });
    const { user } = await openAddDialog({ backend });
    await user.click(screen.getByTestId("add-tab-camera"));
    await user.click(screen.getByTestId("add-camera-start"));
    await waitFor(() => expect(backend.scanning).toBe(true));

    await user.click(within(screen.getByTestId("add-contact-dialog")).getByRole("button", { name: "Close" }));
    await waitFor(() => expect(backend.scanning).toBe(false));
  });
});

describe("Add contact from a card with an invite", () => {
  it("redeems the invite: Add and connect reaches them, adds them, closes and shows them online", async () => {
    const backend = new MockBackend();
    const redeem = vi.spyOn(backend, "redeemContact");
    const add = vi.spyOn(backend, "addContact");
    const { user } = await previewCard(invitedLink, { backend });

    expect(screen.getByTestId("card-preview-add")).toHaveTextContent("Add and connect");
    expect(screen.getByTestId("card-preview-connect-help")).toHaveTextContent(
      "Tallymesh will reach Lucía Fernández's devices and swap cards",
    );
    expect(screen.queryByTestId("card-preview-add-offline")).not.toBeInTheDocument();
    await user.click(screen.getByTestId("card-preview-add"));

    await waitFor(() => expect(screen.queryByTestId("add-contact-dialog")).not.toBeInTheDocument());
    expect(redeem).toHaveBeenCalledWith(invitedLink);
    expect(add).not.toHaveBeenCalled();
    expect(await screen.findByTestId("contact-detail-name")).toHaveTextContent("Lucía Fernández");
    expect(await screen.findByTestId("toast")).toHaveTextContent(
      "Lucía Fernández was added, and each of you now has the other's card.",
    );
    // The exchange left their device connected.
    await waitFor(() => expect(screen.getByTestId("contact-detail-presence")).toHaveTextContent("Online · 18 ms"));
  });

  it("while their devices are being reached, says so and keeps the buttons from being pressed twice", async () => {
    const backend = new MockBackend({ latencyMs: 40 });
    const { user } = await previewCard(invitedLink, { backend });
    await user.click(screen.getByTestId("card-preview-add"));
    expect(screen.getByTestId("card-preview-add")).toHaveTextContent("Reaching Lucía Fernández's devices…");
    expect(screen.getByTestId("card-preview-add")).toBeDisabled();
    await waitFor(() => expect(screen.queryByTestId("add-contact-dialog")).not.toBeInTheDocument());
  });

  it("when they can't be reached, shows the node's words and offers to add without connecting, which works", async () => {
    const backend = new MockBackend({ unreachable: [lucia.partyId] });
    const add = vi.spyOn(backend, "addContact");
    const { user } = await previewCard(invitedLink, { backend });
    await user.click(screen.getByTestId("card-preview-add"));

    expect(await screen.findByTestId("add-contact-error")).toHaveTextContent(
      "Could not reach Lucía Fernández's devices (no connection could be made). Check that Lucía Fernández's Tallymesh is running and online, then try again.",
    );
    expect((await backend.contacts()).map((contact) => contact.partyId)).not.toContain(lucia.partyId);
    const offline = screen.getByTestId("card-preview-add-offline");
    expect(offline).toHaveTextContent("Add without connecting");
    // Trying again is still the first choice.
    expect(screen.getByTestId("card-preview-add")).toHaveTextContent("Add and connect");

    await user.click(offline);

    await waitFor(() => expect(screen.queryByTestId("add-contact-dialog")).not.toBeInTheDocument());
    expect(add).toHaveBeenCalledWith(invitedLink);
    expect(await screen.findByTestId("contact-detail-name")).toHaveTextContent("Lucía Fernández");
    expect(await screen.findByTestId("toast")).toHaveTextContent("Lucía Fernández was added to your contacts.");
    await waitFor(() => expect(screen.getByTestId("contact-detail-presence")).toHaveTextContent("Never seen online"));
  });

  it("a one-time invite already used is refused in their words, with no way around it offered", async () => {
    const backend = new MockBackend({ usedInvites: [INVITE_TOKEN] });
    const { user } = await previewCard(invitedLink, { backend });
    await user.click(screen.getByTestId("card-preview-add"));

    expect(await screen.findByTestId("add-contact-error")).toHaveTextContent(
      "Lucía Fernández refused: This invite was already used.",
    );
    expect(screen.queryByTestId("card-preview-add-offline")).not.toBeInTheDocument();
    expect(screen.getByTestId("add-contact-dialog")).toBeInTheDocument();
    expect((await backend.contacts()).map((contact) => contact.partyId)).not.toContain(lucia.partyId);
  });

  it("a card without an invite is added plainly, without reaching anyone", async () => {
    const backend = new MockBackend();
    const redeem = vi.spyOn(backend, "redeemContact");
    const { user } = await previewCard(luciaLink, { backend });
    expect(screen.getByTestId("card-preview-add")).toHaveTextContent("Add Lucía Fernández");
    expect(screen.queryByTestId("card-preview-connect-help")).not.toBeInTheDocument();

    await user.click(screen.getByTestId("card-preview-add"));

    expect(await screen.findByTestId("contact-detail-name")).toHaveTextContent("Lucía Fernández");
    expect(redeem).not.toHaveBeenCalled();
    expect((await backend.contacts()).map((contact) => contact.partyId)).toContain(lucia.partyId);
  });

  it("a known party's card with an invite only updates the card kept", async () => {
    const known = sampleContacts(Date.now())[0]!;
    const newer = mockCardLink({
      ...known,
      issuedAtMs: Date.now(),
      invite: { token: "7a".repeat(16), reusable: true, expiresAtMs: Date.now() + HOUR_MS },
    });
    const backend = new MockBackend();
    const redeem = vi.spyOn(backend, "redeemContact");
    const { user } = await previewCard(newer, { backend });
    expect(screen.getByTestId("card-preview-add")).toHaveTextContent("Update contact");
    await user.click(screen.getByTestId("card-preview-add"));
    expect(await screen.findByTestId("toast")).toHaveTextContent(`${known.displayName}'s card was updated.`);
    expect(redeem).not.toHaveBeenCalled();
  });
});
