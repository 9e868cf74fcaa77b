import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { MockBackend, mockCardLink, sampleContacts, sampleStrangerCard } from "@/backend";
import { renderApp } from "../../../test/render-app";

const contacts = sampleContacts(Date.now());
const bruno = contacts.find((contact) => contact.displayName === "Bruno Costa")!;
const chiara = contacts.find((contact) => contact.displayName === "Chiara Rossi")!;
const dmitri = contacts.find((contact) => contact.displayName === "Dmitri Volkov")!;
const huerta = contacts.find((contact) => contact.displayName.startsWith("Huerta"))!;

function rowOf(partyId: string): HTMLElement {
  const row = screen.getAllByTestId("contact-row").find((entry) => entry.getAttribute("data-party-id") === partyId);
  if (!row) throw new Error(`no row for ${partyId}`);
  return row;
}

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

describe("Contact presence", () => {
  it("puts a presence dot and words on every row: online with the round trip, last seen, never seen", async () => {
    renderApp({ screen: "contacts" });
    await screen.findAllByTestId("contact-row");
    await waitFor(() => expect(rowOf(bruno.partyId)).toHaveAttribute("data-online", "true"));

    const expected = [
      [bruno, "true", "Online · 12 ms"],
      [huerta, "true", "Online · 31 ms"],
      [chiara, "false", "Last seen 5 minutes ago"],
      [dmitri, "false", "Never seen online"],
    ] as const;
    for (const [contact, online, words] of expected) {
      const row = rowOf(contact.partyId);
      expect(row).toHaveAttribute("data-online", online);
      expect(within(row).getByTestId("presence-dot")).toHaveAttribute("data-online", online);
      // Colour is never alone: the row says it in words, and its accessible name carries them.
      expect(within(row).getByTestId("contact-row-presence")).toHaveTextContent(words);
      expect(row).toHaveAccessibleName(expect.stringContaining(words));
    }
  });

  it("shows the presence in the contact's detail, with the exact time last seen on hover", async () => {
    const { user } = renderApp({ screen: "contacts" });
    await screen.findAllByTestId("contact-row");
    await user.click(rowOf(chiara.partyId));

    const detail = await screen.findByTestId("contact-detail");
    const presence = await within(detail).findByTestId("contact-detail-presence");
    expect(presence).toHaveTextContent("Last seen 5 minutes ago");
    expect(presence).toHaveAttribute("title", expect.stringMatching(/\d/));
    expect(within(detail).getByTestId("presence-dot")).toHaveAttribute("data-online", "false");
  });

  it("follows presenceChanged events live, without asking the node again", async () => {
    const backend = new MockBackend();
    const { user } = renderApp({ screen: "contacts", backend });
    await screen.findAllByTestId("contact-row");
    await user.click(rowOf(dmitri.partyId));
    expect(await screen.findByTestId("contact-detail-presence")).toHaveTextContent("Never seen online");
    await waitFor(() => expect(backend.listenerCount).toBe(1));
    const asked = vi.spyOn(backend, "contactsPresence");

    act(() => backend.setContactOnline(dmitri.partyId, true, 44));
    await waitFor(() => expect(rowOf(dmitri.partyId)).toHaveAttribute("data-online", "true"));
    expect(within(rowOf(dmitri.partyId)).getByTestId("contact-row-presence")).toHaveTextContent("Online · 44 ms");
    expect(screen.getByTestId("contact-detail-presence")).toHaveTextContent("Online · 44 ms");
    expect(within(screen.getByTestId("contact-detail")).getByTestId("presence-dot")).toHaveAttribute("data-online", "true");

    act(() => backend.setContactOnline(dmitri.partyId, false));
    await waitFor(() => expect(rowOf(dmitri.partyId)).toHaveAttribute("data-online", "false"));
    expect(screen.getByTestId("contact-detail-presence")).toHaveTextContent("Last seen just now");
    expect(asked).not.toHaveBeenCalled();
  });

  it("asks for presence again when the contacts change, so a new contact gets a dot too", async () => {
    const backend = new MockBackend();
    renderApp({ screen: "contacts", backend });
    await waitFor(() => expect(rowOf(bruno.partyId)).toHaveAttribute("data-online", "true"));
    await waitFor(() => expect(backend.listenerCount).toBe(1));
    const asked = vi.spyOn(backend, "contactsPresence");

    const lucia = sampleStrangerCard(Date.now());
    await act(() => backend.addContact(mockCardLink(lucia)));

    await waitFor(() => expect(rowOf(lucia.partyId)).toHaveAttribute("data-online", "false"));
    expect(within(rowOf(lucia.partyId)).getByTestId("contact-row-presence")).toHaveTextContent("Never seen online");
    expect(asked).toHaveBeenCalled();
  });

  it("says it in Spanish, with the locale's relative time", async () => {
    renderApp({ screen: "contacts", language: "es" });
    await screen.findAllByTestId("contact-row");
    await waitFor(() => expect(rowOf(bruno.partyId)).toHaveAttribute("data-online", "true"));
    expect(within(rowOf(bruno.partyId)).getByTestId("contact-row-presence")).toHaveTextContent("En línea · 12 ms");
    expect(within(rowOf(chiara.partyId)).getByTestId("contact-row-presence")).toHaveTextContent(
      "Visto por última vez hace 5 minutos",
    );
    expect(within(rowOf(dmitri.partyId)).getByTestId("contact-row-presence")).toHaveTextContent(
      "Nunca se ha visto en línea",
    );
  });

  it("shows no dot rather than a guess while the node has not said", async () => {
    const backend = new MockBackend();
    vi.spyOn(backend, "contactsPresence").mockReturnValue(new Promise(() => {}));
    renderApp({ screen: "contacts", backend });
    const rows = await screen.findAllByTestId("contact-row");
    for (const row of rows) {
      expect(row).not.toHaveAttribute("data-online");
      expect(within(row).queryByTestId("presence-dot")).not.toBeInTheDocument();
    }
  });
});
