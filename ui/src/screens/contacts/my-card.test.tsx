import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MockBackend, sampleIdentity } from "@/backend";
import { renderApp } from "../../../test/render-app";

async function openMyCard(backend = new MockBackend()) {
  const rendered = renderApp({ screen: "contacts", backend });
  await screen.findAllByTestId("contact-row");
  await rendered.user.click(screen.getByTestId("my-card-open"));
  await screen.findByTestId("my-card-dialog");
  return rendered;
}

describe("My card", () => {
  it("shows the card's QR code as an image, its link, and copies the link", async () => {
    const { user } = await openMyCard();
    const qr = await screen.findByTestId("my-card-qr");
    expect(qr.getAttribute("src")).toMatch(/^data:image\/svg\+xml;utf8,%3C/);
    expect(decodeURIComponent(qr.getAttribute("src")!.split(",")[1]!)).toContain("<svg");

    const link = screen.getByTestId("my-card-link").textContent!;
    expect(link).toMatch(/^tallymesh:card\?/);
    expect(screen.getByTestId("my-card-invite")).toHaveTextContent("This card carries no invite.");

    await user.click(screen.getByTestId("my-card-copy"));
    expect(await navigator.clipboard.readText()).toBe(link);
    expect(screen.getByTestId("my-card-copy")).toHaveTextContent("Copied");
  });

  it("the link is my own, signed card: the node reads it back as mine", async () => {
    const backend = new MockBackend();
    await openMyCard(backend);
    const link = (await screen.findByTestId("my-card-link")).textContent!;
    await expect(backend.readCardLink(link)).rejects.toMatchObject({ message: "This is your own card." });
    expect(sampleIdentity(Date.now()).partyId).toBe((backend.currentIdentity as { partyId: string }).partyId);
  });

  it("signs a card once, and again only when asked for a new one", async () => {
    const backend = new MockBackend();
    const { user } = await openMyCard(backend);
    await screen.findByTestId("my-card-qr");
    expect(backend.cardsSignedCount).toBe(1);

    await user.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByTestId("my-card-dialog")).not.toBeInTheDocument());
    await user.click(screen.getByTestId("my-card-open"));
    await screen.findByTestId("my-card-qr");
    expect(backend.cardsSignedCount).toBe(1);

    const before = screen.getByTestId("my-card-link").textContent;
    await user.click(screen.getByTestId("my-card-new"));
    await waitFor(() => expect(backend.cardsSignedCount).toBe(2));
    await waitFor(() => expect(screen.getByTestId("my-card-link").textContent).not.toBe(before));
  });

  it("makes a card with a one-time invite, lists the invite as open, and withdraws it", async () => {
    const backend = new MockBackend();
    const { user } = await openMyCard(backend);
    expect(await screen.findByTestId("invites-empty")).toBeInTheDocument();
    // The expiry means nothing without an invite.
    expect(screen.getByTestId("expiry-1h")).toBeDisabled();

    await user.click(screen.getByTestId("invite-oneTime"));
    await user.click(screen.getByTestId("expiry-1h"));
    await user.click(screen.getByTestId("my-card-new"));

    await waitFor(() => expect(screen.getByTestId("my-card-invite")).toHaveTextContent("Carries a one-time invite"));
    const row = await screen.findByTestId("invite-row");
    expect(row).toHaveTextContent("One-time");
    expect(row).toHaveTextContent("on the card above");
    expect(row).toHaveTextContent("used 0 times");
    const [invite] = await backend.invites();
    expect(invite).toMatchObject({ reusable: false, revoked: false });
    expect(invite!.expiresAtMs - invite!.createdAtMs).toBe(3_600_000);

    await user.click(within(row).getByTestId("invite-revoke"));
    expect(await screen.findByTestId("invites-empty")).toBeInTheDocument();
    expect((await backend.invites())[0]?.revoked).toBe(true);
  });
});
