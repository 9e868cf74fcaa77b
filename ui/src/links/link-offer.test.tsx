import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { MockBackend, mockCardLink, sampleStrangerCard, tamperLink } from "@/backend";
import { renderApp } from "../../test/render-app";

const lucia = sampleStrangerCard(Date.now());
const luciaLink = mockCardLink(lucia);
const invitedLink = mockCardLink(
  sampleStrangerCard(Date.now(), { token: "c3".repeat(16), reusable: false, expiresAtMs: Date.now() + 3_600_000 }),
);

describe("Opened links", () => {
  it("a linkOpened event offers to add the card's party; Add adds and shows them", async () => {
    const backend = new MockBackend();
    const { user } = renderApp({ backend });
    await screen.findByTestId("home-screen");
    await waitFor(() => expect(backend.listenerCount).toBe(1));

    act(() => backend.openLink(luciaLink));

    const offer = await screen.findByTestId("link-offer");
    expect(await within(offer).findByRole("heading", { name: "Add Lucía Fernández as a contact?" })).toBeInTheDocument();
    expect(within(offer).getByTestId("card-preview-party-id").textContent).toBe(lucia.partyId);

    await user.click(within(offer).getByTestId("card-preview-add"));

    await waitFor(() => expect(screen.queryByTestId("link-offer")).not.toBeInTheDocument());
    expect(await screen.findByTestId("contacts-screen")).toBeInTheDocument();
    expect(await screen.findByTestId("contact-detail-name")).toHaveTextContent("Lucía Fernández");
    expect((await backend.contacts()).map((contact) => contact.partyId)).toContain(lucia.partyId);
  });

  it("offers the links the app was started with, once", async () => {
    const backend = new MockBackend({ openedLinks: [luciaLink] });
    const { user } = renderApp({ backend });
    expect(await screen.findByRole("heading", { name: "Add Lucía Fernández as a contact?" })).toBeInTheDocument();
    await user.click(screen.getByTestId("link-offer-dismiss"));
    await waitFor(() => expect(screen.queryByTestId("link-offer")).not.toBeInTheDocument());
    expect(await backend.takeOpenedLinks()).toEqual([]);
    expect((await backend.contacts()).map((contact) => contact.partyId)).not.toContain(lucia.partyId);
  });

  it("an altered link gets the node's readable refusal, and nothing is added", async () => {
    const backend = new MockBackend();
    const { user } = renderApp({ backend });
    await screen.findByTestId("home-screen");
    await waitFor(() => expect(backend.listenerCount).toBe(1));
    act(() => backend.openLink(tamperLink(luciaLink)));

    expect(await screen.findByTestId("link-offer-error")).toHaveTextContent(
      "This link was changed after it was made, so it can't be trusted.",
    );
    expect(screen.getByRole("heading", { name: "This link can't be used" })).toBeInTheDocument();
    expect(screen.queryByTestId("card-preview-add")).not.toBeInTheDocument();
    await user.click(within(screen.getByTestId("link-offer")).getAllByRole("button", { name: "Close" })[0]!);
    await waitFor(() => expect(screen.queryByTestId("link-offer")).not.toBeInTheDocument());
  });

  it("a link opened before there is an identity waits until onboarding is done", async () => {
    const backend = new MockBackend({ identity: "none", openedLinks: [luciaLink] });
    const { user } = renderApp({ backend });
    await user.type(await screen.findByTestId("onboarding-name"), "Bea");
    expect(screen.queryByTestId("link-offer")).not.toBeInTheDocument();
    await user.click(screen.getByTestId("onboarding-create"));
    await user.click(await screen.findByTestId("onboarding-done"));
    expect(await screen.findByRole("heading", { name: "Add Lucía Fernández as a contact?" })).toBeInTheDocument();
  });
});

describe("Opened links with an invite", () => {
  it("Add and connect redeems the invite", async () => {
    const backend = new MockBackend({ openedLinks: [invitedLink] });
    const redeem = vi.spyOn(backend, "redeemContact");
    const { user } = renderApp({ backend });
    const offer = await screen.findByTestId("link-offer");
    const add = await within(offer).findByTestId("card-preview-add");
    expect(add).toHaveTextContent("Add and connect");

    await user.click(add);

    await waitFor(() => expect(screen.queryByTestId("link-offer")).not.toBeInTheDocument());
    expect(redeem).toHaveBeenCalledWith(invitedLink);
    expect(await screen.findByTestId("contact-detail-name")).toHaveTextContent("Lucía Fernández");
  });

  it("when the inviter can't be reached, says why and can add without connecting", async () => {
    const backend = new MockBackend({ openedLinks: [invitedLink], unreachable: [lucia.partyId] });
    const { user } = renderApp({ backend });
    const offer = await screen.findByTestId("link-offer");
    await user.click(await within(offer).findByTestId("card-preview-add"));

    expect(await within(offer).findByTestId("add-contact-error")).toHaveTextContent(
      "Could not reach Lucía Fernández's devices",
    );
    await user.click(within(offer).getByTestId("card-preview-add-offline"));

    await waitFor(() => expect(screen.queryByTestId("link-offer")).not.toBeInTheDocument());
    expect((await backend.contacts()).map((contact) => contact.partyId)).toContain(lucia.partyId);
  });
});
