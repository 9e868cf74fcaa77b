import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MockBackend, mockCardLink, mockQrImage, sampleContacts, sampleStrangerCard, tamperLink } from "@/backend";
import { renderApp } from "../../../test/render-app";

const HOUR_MS = 3_600_000;
const lucia = sampleStrangerCard(Date.now());
const luciaLink = mockCardLink(lucia);

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
      scanStepMs: 15,
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
