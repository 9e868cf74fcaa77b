import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MockBackend, mockPartyId, sampleContacts } from "@/backend";
import { renderApp } from "../../../test/render-app";

const contacts = sampleContacts(Date.now());
const bruno = contacts.find((contact) => contact.displayName === "Bruno Costa")!;
const chiara = contacts.find((contact) => contact.displayName === "Chiara Rossi")!;

function rowOf(subject: string): HTMLElement {
  const row = screen.queryAllByTestId("trust-row").find((entry) => entry.getAttribute("data-subject") === subject);
  if (!row) throw new Error(`no row for ${subject}`);
  return row;
}

describe("Trust", () => {
  it("is reachable from the sidebar and lists every contact with a score", async () => {
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-trust"));
    expect(await screen.findByTestId("trust-screen")).toBeInTheDocument();
    expect(window.location.hash).toBe("#/trust");
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Trust");
    await screen.findAllByTestId("trust-row");
    for (const contact of contacts) {
      expect(rowOf(contact.partyId)).toHaveTextContent(contact.displayName);
    }
  });

  it("shows the events behind a score, newest first, and the attestations about the party", async () => {
    const { user } = renderApp({ screen: "trust" });
    await user.click(await screen.findByText(chiara.displayName, { selector: "[data-testid=trust-row] *" }));
    expect(window.location.hash).toBe(`#/trust/${encodeURIComponent(chiara.partyId)}`);
    const detail = await screen.findByTestId("trust-detail");
    const events = await within(detail).findAllByTestId("trust-event");
    // Bruno vouched for Chiara after her messages were counted: the boost comes first.
    expect(events[0]).toHaveAttribute("data-kind", "attested");
    expect(events[0]).toHaveTextContent("attestation by Bruno Costa");
    expect(events.at(-1)).toHaveAttribute("data-kind", "valid");
    const attestations = within(detail).getByTestId("trust-attestations");
    expect(within(attestations).getByTestId("trust-attestation")).toHaveTextContent(
      "Bruno Costa vouches for their Trade: 85 of 100",
    );
  });

  it("vouches for a contact from their page: the attestation and its boost appear in their history", async () => {
    const backend = new MockBackend({ contacts, trustHistory: false });
    const { user } = renderApp({ backend, screen: "contacts" });
    window.location.hash = `#/contacts/${encodeURIComponent(bruno.partyId)}`;
    const panel = await screen.findByTestId("contact-trust");
    expect(await within(panel).findByTestId("trust-score")).toHaveTextContent("50");
    await user.click(within(panel).getByTestId("contact-attest"));
    const dialog = await screen.findByTestId("attest-dialog");
    await user.click(within(dialog).getByTestId("attest-kind-identity"));
    const score = within(dialog).getByTestId("attest-score");
    await user.clear(score);
    await user.type(score, "90");
    await user.click(within(dialog).getByTestId("attest-submit"));

    await waitFor(() => expect(screen.queryByTestId("attest-dialog")).not.toBeInTheDocument());
    // Our own word counts fully: 0.9 × 1 × 0.1 = +9.
    await waitFor(() => expect(within(panel).getByTestId("trust-score")).toHaveTextContent("59"));
    const attestation = within(panel).getByTestId("trust-attestation");
    expect(attestation).toHaveTextContent("You vouch for their Identity: 90 of 100");
    expect(within(panel).getAllByTestId("trust-event")[0]).toHaveAttribute("data-kind", "attested");
    expect(within(screen.getByTestId("contact-detail")).getByTestId("trust-badge")).toHaveAttribute("data-level", "good");
  });

  it("refuses a score out of range in the dialog without signing anything", async () => {
    const backend = new MockBackend({ contacts, trustHistory: false });
    const { user } = renderApp({ backend, screen: "contacts" });
    window.location.hash = `#/contacts/${encodeURIComponent(bruno.partyId)}`;
    const panel = await screen.findByTestId("contact-trust");
    await user.click(await within(panel).findByTestId("contact-attest"));
    const dialog = await screen.findByTestId("attest-dialog");
    const score = within(dialog).getByTestId("attest-score");
    await user.clear(score);
    await user.type(score, "140");
    await user.click(within(dialog).getByTestId("attest-submit"));
    expect(await within(dialog).findByTestId("attest-error")).toHaveTextContent("Give a number from 0 to 100.");
    expect(backend.trustBook.show(bruno.partyId).attestations).toEqual([]);
  });

  it("marks a party named by evidence as untrusted everywhere, with the evidence on its page", async () => {
    const backend = new MockBackend();
    const { user } = renderApp({ backend, screen: "trust" });
    await screen.findAllByTestId("trust-row");
    act(() => {
      backend.trustBook.receiveEvidence(bruno.partyId, "signed two different prevotes at height 4, round 0 of one tally");
    });
    const card = await screen.findByTestId("trust-evidence-card");
    expect(card).toHaveTextContent("1 piece of evidence");
    await user.click(within(card).getByText(bruno.displayName));
    const detail = await screen.findByTestId("trust-detail");
    expect(await within(detail).findByTestId("trust-convicted")).toBeInTheDocument();
    expect(within(detail).getByTestId("trust-evidence")).toHaveTextContent("signed two different prevotes");
    await waitFor(() => expect(within(detail).getByTestId("trust-badge")).toHaveAttribute("data-level", "none"));
    expect(within(detail).getByTestId("trust-badge")).toHaveTextContent("Untrusted");
  });

  it("puts a trust badge on every tally partner", async () => {
    renderApp({ screen: "tallies" });
    const rows = await screen.findAllByTestId("tally-row");
    await waitFor(() => {
      for (const row of rows) expect(within(row).getByTestId("trust-badge")).toBeInTheDocument();
    });
  });

  it("reads in Spanish", async () => {
    renderApp({ screen: "trust", language: "es" });
    expect(await screen.findByRole("heading", { level: 1 })).toHaveTextContent("Confianza");
    expect(screen.getByTestId("trust-empty-detail")).toHaveTextContent("Elige una parte");
  });

  it("refuses a subject that is neither a party id nor a peer id", async () => {
    const backend = new MockBackend();
    await expect(backend.trust("bob")).rejects.toThrow('"bob" is neither a party id nor a peer id.');
    await expect(backend.trust(mockPartyId("nobody"))).resolves.toMatchObject({ score: { score: 0.5 } });
  });
});
