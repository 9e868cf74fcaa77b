import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MockBackend, devicePeerId, mockHexId, mockPartyId, sampleContacts, SAMPLE_RELAY_PEER } from "@/backend";
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
    expect(within(panel).getByTestId("trust-level-meaning")).toHaveTextContent("Above where everyone starts: earned, or vouched for.");
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
    expect(within(detail).getByTestId("trust-level-meaning")).toHaveTextContent("Your node does not stay connected to them.");
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

describe("Trust badges beyond contacts and tallies", () => {
  const huerta = contacts.find((contact) => contact.displayName.startsWith("Huerta"))!;

  it("puts the level the node gives on each partner in what needs you at Home", async () => {
    const backend = new MockBackend();
    renderApp({ backend, screen: "home" });
    await waitFor(() => expect(screen.getAllByTestId("needs-you-item")).toHaveLength(2));
    act(() => {
      backend.trustBook.receiveEvidence(chiara.partyId, "signed two different precommits at height 9, round 1 of one tally");
    });
    const chiaraItem = screen.getAllByTestId("needs-you-item").find((item) => item.textContent?.includes(chiara.displayName))!;
    await waitFor(() => expect(within(chiaraItem).getByTestId("trust-badge")).toHaveAttribute("data-level", "none"));
    const huertaItem = screen.getAllByTestId("needs-you-item").find((item) => item.textContent?.includes(huerta.displayName))!;
    expect(within(huertaItem).getByTestId("trust-badge")).toHaveTextContent(
      String(Math.round(backend.trustBook.show(huerta.partyId).score.score * 100)),
    );
  });

  it("puts the partner's score on an offer being negotiated, and lowers it when evidence arrives", async () => {
    const backend = new MockBackend();
    renderApp({ backend, screen: "tallies" });
    window.location.hash = `#/tallies/${mockHexId("tally:huerta")}`;
    const state = await screen.findByTestId("negotiation-state");
    const percent = Math.round(backend.trustBook.show(huerta.partyId).score.score * 100);
    expect(await within(state).findByTestId("trust-badge")).toHaveAccessibleName(
      new RegExp(`^Trust in ${huerta.displayName}: .*, ${percent} of 100`),
    );
    act(() => {
      backend.trustBook.receiveEvidence(huerta.partyId, "signed two different precommits at height 4, round 0 of one tally");
    });
    await waitFor(() => expect(within(state).getByTestId("trust-badge")).toHaveAttribute("data-level", "none"));
  });

  it("puts a badge on connected peers that are a contact's devices, opening that party's history, and none on strangers", async () => {
    const backend = new MockBackend();
    const { user } = renderApp({ backend, screen: "network" });
    await waitFor(() => expect(screen.getAllByTestId("network-peer-row")).toHaveLength(3));
    const row = (peerId: string) =>
      screen.getAllByTestId("network-peer-row").find((entry) => entry.getAttribute("data-peer-id") === peerId)!;
    const badge = await within(row(devicePeerId(bruno.partyId))).findByTestId("trust-badge");
    expect(badge).toHaveTextContent(String(Math.round(backend.trustBook.show(bruno.partyId).score.score * 100)));
    expect(within(row(SAMPLE_RELAY_PEER.peerId)).queryByTestId("trust-badge")).not.toBeInTheDocument();
    await user.click(badge);
    expect(window.location.hash).toBe(`#/trust/${encodeURIComponent(bruno.partyId)}`);
  });

  it("shows the earned and vouched parts of a score, and an attestation that does not count here", async () => {
    const backend = new MockBackend({ contacts, trustHistory: false });
    const stranger = mockPartyId("stranger");
    act(() => {
      backend.trustBook.receiveAttestation(stranger, bruno.partyId, 0.9, "trade");
    });
    renderApp({ backend, screen: "trust" });
    window.location.hash = `#/trust/${encodeURIComponent(bruno.partyId)}`;
    const detail = await screen.findByTestId("trust-detail");
    const shown = await backend.trust(bruno.partyId);
    expect(shown.attestations[0]!.recommender).toBeNull();
    expect(within(detail).getByTestId("trust-attestation-weight")).toHaveTextContent("Doesn't count here");
    expect(within(detail).getByTestId("trust-parts")).toHaveTextContent(
      `${Math.round(shown.score.earned * 100)} earned here, +0 from who vouches for them`,
    );
  });
});
