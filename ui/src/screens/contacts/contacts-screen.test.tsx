import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MockBackend, sampleContacts } from "@/backend";
import { renderApp } from "../../../test/render-app";

const contacts = sampleContacts(Date.now());
const bruno = contacts.find((contact) => contact.displayName === "Bruno Costa")!;
const huerta = contacts.find((contact) => contact.displayName.startsWith("Huerta"))!;

describe("Contacts", () => {
  it("is reachable from the sidebar and lists every contact by name, with initials and a short fingerprint", async () => {
    const { user } = renderApp();
    await user.click(await screen.findByTestId("nav-contacts"));
    expect(await screen.findByTestId("contacts-screen")).toBeInTheDocument();
    expect(window.location.hash).toBe("#/contacts");

    const rows = await screen.findAllByTestId("contact-row");
    expect(rows.map((row) => row.getAttribute("data-party-id"))).toEqual(contacts.map((contact) => contact.partyId));
    const row = rows.find((entry) => entry.getAttribute("data-party-id") === bruno.partyId)!;
    expect(row).toHaveTextContent("BC");
    expect(row).toHaveTextContent("Bruno Costa");
    expect(row).toHaveTextContent(`…${bruno.fingerprint}`);
    // The full id on hover; the row text stays short.
    expect(within(row).getByTitle(bruno.partyId)).toBeInTheDocument();
    expect(row).not.toHaveTextContent(bruno.partyId);
  });

  it("copies a contact's full party id from the list", async () => {
    const { user } = renderApp({ screen: "contacts" });
    await screen.findAllByTestId("contact-row");
    await user.click(screen.getByRole("button", { name: "Copy the party ID of Bruno Costa" }));
    expect(await navigator.clipboard.readText()).toBe(bruno.partyId);
  });

  it("searches by name, ignoring case, and by party id", async () => {
    const { user } = renderApp({ screen: "contacts" });
    await screen.findAllByTestId("contact-row");
    const search = screen.getByTestId("contacts-search");

    await user.type(search, "HUERTA");
    await waitFor(() => expect(screen.getAllByTestId("contact-row")).toHaveLength(1));
    expect(screen.getByTestId("contact-row")).toHaveAttribute("data-party-id", huerta.partyId);

    await user.clear(search);
    await user.type(search, bruno.partyId.slice(-12));
    await waitFor(() => expect(screen.getAllByTestId("contact-row")).toHaveLength(1));
    expect(screen.getByTestId("contact-row")).toHaveAttribute("data-party-id", bruno.partyId);

    await user.clear(search);
    await user.type(search, "nobody like this");
    expect(await screen.findByTestId("contacts-no-match")).toHaveTextContent("No contact matches “nobody like this”.");
  });

  it("with no contacts, teaches the next step and offers both ways", async () => {
    const { user } = renderApp({ screen: "contacts", backendOptions: { contacts: [] } });
    const empty = await screen.findByTestId("contacts-empty");
    expect(empty).toHaveTextContent("No contacts yet");
    expect(empty).toHaveTextContent("Share your card or add someone's");
    expect(screen.queryByText(/Choose a contact/)).not.toBeInTheDocument();
    await user.click(within(empty).getByRole("button", { name: "Add someone's card" }));
    expect(await screen.findByTestId("add-contact-dialog")).toBeInTheDocument();
  });

  it("shows a contact's verified party id in full, devices, addresses and dates", async () => {
    const { user } = renderApp({ screen: "contacts" });
    const rows = await screen.findAllByTestId("contact-row");
    await user.click(rows.find((row) => row.getAttribute("data-party-id") === huerta.partyId)!);

    const detail = await screen.findByTestId("contact-detail");
    expect(screen.getByTestId("contact-detail-name")).toHaveTextContent(huerta.displayName);
    expect(screen.getByTestId("contact-detail-party-id").textContent).toBe(huerta.partyId);
    expect(screen.getByTestId("contact-detail-devices")).toHaveTextContent("3 devices");
    for (const address of huerta.addresses) expect(detail).toHaveTextContent(address);
    expect(window.location.hash).toBe(`#/contacts/${encodeURIComponent(huerta.partyId)}`);
    expect(rows.find((row) => row.getAttribute("data-party-id") === huerta.partyId)).toHaveAttribute("aria-current", "true");
  });

  it("opens the contact named in the address", async () => {
    renderApp({ screen: "contacts" });
    window.location.hash = `#/contacts/${encodeURIComponent(bruno.partyId)}`;
    expect(await screen.findByTestId("contact-detail")).toHaveTextContent("Bruno Costa");
  });

  it("says so when the contact in the address is not one", async () => {
    window.location.hash = `#/contacts/${encodeURIComponent("did:key:z6MkGone")}`;
    renderApp();
    expect(await screen.findByTestId("contact-missing")).toHaveTextContent(
      "There is no contact with the party id did:key:z6MkGone.",
    );
  });

  it("removes a contact only after confirmation", async () => {
    const backend = new MockBackend();
    const { user } = renderApp({ screen: "contacts", backend });
    const rows = await screen.findAllByTestId("contact-row");
    await user.click(rows.find((row) => row.getAttribute("data-party-id") === bruno.partyId)!);
    await user.click(await screen.findByTestId("contact-remove"));

    const dialog = await screen.findByRole("alertdialog");
    expect(dialog).toHaveTextContent("Remove Bruno Costa?");
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.getByTestId("contact-detail")).toBeInTheDocument();
    expect(await backend.contacts()).toHaveLength(contacts.length);

    await user.click(screen.getByTestId("contact-remove"));
    await user.click(await screen.findByTestId("contact-remove-confirm"));

    await waitFor(() => expect(screen.queryByTestId("contact-detail")).not.toBeInTheDocument());
    await waitFor(() =>
      expect(screen.getAllByTestId("contact-row").map((row) => row.getAttribute("data-party-id"))).not.toContain(
        bruno.partyId,
      ),
    );
    expect(await screen.findByTestId("toast")).toHaveTextContent("Bruno Costa was removed from your contacts.");
    expect(window.location.hash).toBe("#/contacts");
  });

  it("refreshes the list when the node says the contacts changed", async () => {
    const backend = new MockBackend();
    renderApp({ screen: "contacts", backend });
    await screen.findAllByTestId("contact-row");
    await waitFor(() => expect(backend.listenerCount).toBe(1));
    // Someone removed by another window (or the command line) goes away here too.
    await backend.removeContact(bruno.partyId);
    await waitFor(() => expect(screen.getAllByTestId("contact-row")).toHaveLength(contacts.length - 1));
  });
});
