import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { HUERTA_AGREEMENT, MockBackend, devicePeerId, mockHexId, sampleContacts, sampleIdentity, sampleNodeState } from "@/backend";
import { renderApp } from "../../../test/render-app";

const contacts = sampleContacts(Date.now());
const bruno = contacts.find((contact) => contact.displayName === "Bruno Costa")!;
const BRUNO = mockHexId("tally:bruno");
const CHIARA = mockHexId("tally:chiara");
const HUERTA = mockHexId("tally:huerta");
const DMITRI = mockHexId("tally:dmitri");
/** This device, the sample party's laptop. */
const LAPTOP = sampleNodeState(Date.now()).peerId;
/** The sample party's always-on headless home box (the sample cadre's device 1). */
const HOME_BOX = devicePeerId(sampleIdentity(Date.now()).partyId, 1);

function rowOf(id: string): HTMLElement {
  const row = screen.getAllByTestId("tally-row").find((entry) => entry.getAttribute("data-tally-id") === id);
  if (!row) throw new Error(`no row for ${id}`);
  return row;
}

function openTally(id: string) {
  window.location.hash = `#/tallies/${id}`;
}

describe("Tallies list", () => {
  it("is in the sidebar and shows each tally with its stage and a balance bar against the limits", async () => {
    const { user } = renderApp();
    await user.click(await screen.findByTestId("nav-tallies"));
    await screen.findAllByTestId("tally-row");

    // The counter-offer waiting for us comes first.
    expect(screen.getAllByTestId("tally-row")[0]).toHaveAttribute("data-tally-id", HUERTA);
    expect(within(rowOf(HUERTA)).getByTestId("stage-badge")).toHaveTextContent("New terms for you");
    expect(within(rowOf(DMITRI)).getByTestId("stage-badge")).toHaveTextContent("Expired");

    const brunoRow = rowOf(BRUNO);
    expect(within(brunoRow).getByTestId("stage-badge")).toHaveTextContent("Open");
    expect(within(brunoRow).getByTestId("tally-row-words")).toHaveTextContent("Bruno Costa owes you 12.500 CHIP");
    expect(within(brunoRow).getByTestId("tally-row-balance")).toHaveTextContent("+12.500 CHIP");
    const bar = within(brunoRow).getByTestId("balance-bar");
    expect(bar).toHaveAttribute("data-balance", "12500");
    expect(bar).toHaveAttribute("data-we-grant", "50000");
    expect(bar).toHaveAttribute("data-they-grant", "20000");
    // Zero sits at 20/70 of the bar; the fill runs right from there, 12.5/70 of it.
    const fill = within(bar).getByTestId("balance-bar-fill");
    expect(fill.style.left).toMatch(/^28\.57/);
    expect(fill.style.width).toMatch(/^17\.85/);
    expect(bar).toHaveAccessibleName(expect.stringContaining("Bruno Costa owes you 12.500 CHIP"));

    const chiaraBar = within(rowOf(CHIARA)).getByTestId("balance-bar");
    expect(within(rowOf(CHIARA)).getByTestId("tally-row-words")).toHaveTextContent("You owe Chiara Rossi 20.000 CHIP");
    expect(within(chiaraBar).getByTestId("balance-bar-fill")).toHaveClass("bg-warning");
    // Offers have no balance yet: no bar.
    expect(within(rowOf(HUERTA)).queryByTestId("balance-bar")).not.toBeInTheDocument();
  });

  it("shows the partner's presence dot", async () => {
    renderApp({ screen: "tallies" });
    await screen.findAllByTestId("tally-row");
    await waitFor(() => expect(within(rowOf(BRUNO)).getByTestId("presence-dot")).toHaveAttribute("data-online", "true"));
  });

  it("with no tallies, teaches the next step", async () => {
    renderApp({ screen: "tallies", backendOptions: { tallies: [] } });
    expect(await screen.findByTestId("tallies-empty")).toHaveTextContent("No tallies yet");
  });
});

describe("New tally", () => {
  it("validates amounts as they are typed and proposes the offer", async () => {
    const backend = new MockBackend();
    const propose = vi.spyOn(backend, "proposeTally");
    const { user } = renderApp({ screen: "tallies", backend });
    await user.click(await screen.findByTestId("new-tally-open"));
    expect(window.location.hash).toBe("#/tallies/new");

    await user.selectOptions(await screen.findByTestId("new-tally-partner"), bruno.partyId);
    expect(screen.getByTestId("new-tally-side-stock")).toHaveTextContent("I will mostly sell");
    await user.click(screen.getByTestId("new-tally-side-foil"));
    expect(screen.getByTestId("new-tally-side-foil")).toHaveAttribute("aria-checked", "true");

    const weGrant = screen.getByTestId("terms-we-grant");
    await user.type(weGrant, "12.5001");
    expect(screen.getByTestId("terms-we-grant-note")).toHaveTextContent("Use at most 3 decimal places.");
    expect(weGrant).toHaveAttribute("aria-invalid", "true");
    await user.clear(weGrant);
    await user.type(weGrant, "12x");
    expect(screen.getByTestId("terms-we-grant-note")).toHaveTextContent("Write the amount with digits, like 12.5.");
    await user.clear(weGrant);
    await user.type(weGrant, "20");
    expect(weGrant).toHaveAttribute("aria-invalid", "false");

    await user.type(screen.getByTestId("terms-they-grant"), "50,5");
    const call = screen.getByTestId("terms-their-call");
    await user.clear(call);
    await user.type(call, "400");
    expect(screen.getByTestId("terms-their-call-note")).toHaveTextContent("A whole number of days, from 0 to 365.");
    await user.clear(call);
    await user.type(call, "14");
    await user.type(screen.getByTestId("new-tally-memo"), "Bike parts");
    await user.click(screen.getByTestId("new-tally-with-contract"));
    await user.click(screen.getByTestId("new-tally-submit"));
    expect(await screen.findByText("Give the contract a title.")).toBeInTheDocument();
    expect(propose).not.toHaveBeenCalled();
    await user.type(screen.getByTestId("new-tally-contract-title"), "Workshop terms");
    await user.type(screen.getByTestId("new-tally-contract-text"), "Parts are paid on delivery.");
    await user.click(screen.getByTestId("new-tally-submit"));

    await waitFor(() =>
      expect(propose).toHaveBeenCalledWith({
        partyId: bruno.partyId,
        side: "foil",
        weGrant: "20.000",
        theyGrant: "50.500",
        ourCall: 30,
        theirCall: 14,
        memo: "Bike parts",
        contract: { title: "Workshop terms", text: "Parts are paid on delivery." },
        expiresInHours: 72,
        // Every device of the cadre, by default.
        ourNodes: [LAPTOP, HOME_BOX],
      }),
    );
    expect(await screen.findByTestId("negotiation-state")).toHaveTextContent("Waiting for Bruno Costa's answer.");
    // The contract's text is kept with the offer.
    expect(screen.getByTestId("contract-text")).toHaveTextContent("Parts are paid on delivery.");
    expect(await screen.findByTestId("toast")).toHaveTextContent("Your offer was sent to Bruno Costa.");
  });

  it("asks for a partner and the limits before sending", async () => {
    const backend = new MockBackend();
    const propose = vi.spyOn(backend, "proposeTally");
    const { user } = renderApp({ screen: "tallies", backend });
    window.location.hash = "#/tallies/new";
    await user.click(await screen.findByTestId("new-tally-submit"));
    expect(screen.getByText("Choose the contact to offer the tally to.")).toBeInTheDocument();
    expect(screen.getByTestId("terms-we-grant-note")).toHaveTextContent("Enter an amount.");
    expect(propose).not.toHaveBeenCalled();
  });
});

describe("Negotiation", () => {
  it("shows the latest terms beside the ones before, marking what changed", async () => {
    renderApp({ screen: "tallies" });
    openTally(HUERTA);
    expect(await screen.findByTestId("negotiation-state")).toHaveTextContent(
      "Huerta Comunal La Esperanza answered with new terms.",
    );
    const changed = screen.getByTestId("terms-row-theyGrant");
    expect(changed).toHaveAttribute("data-changed", "true");
    expect(changed).toHaveTextContent("Changed");
    expect(screen.getByTestId("terms-before-theyGrant")).toHaveTextContent("100.000 CHIP");
    expect(screen.getByTestId("terms-after-theyGrant")).toHaveTextContent("80.000 CHIP");
    expect(screen.getByTestId("terms-row-theirCall")).toHaveAttribute("data-changed", "true");
    expect(screen.getByTestId("terms-after-theirCall")).toHaveTextContent("60 days");
    expect(screen.getByTestId("terms-row-weGrant")).toHaveAttribute("data-changed", "false");
    expect(screen.getAllByTestId("revision")).toHaveLength(2);
  });

  it("accepts the partner's terms: the tally opens", async () => {
    const { user } = renderApp({ screen: "tallies" });
    openTally(HUERTA);
    await user.click(await screen.findByTestId("tally-accept"));
    expect(await screen.findByTestId("tally-balance")).toHaveTextContent("0.000 CHIP");
    expect(screen.getByTestId("stage-badge")).toHaveTextContent("Open");
    expect(screen.getByTestId("tally-balance-words")).toHaveTextContent("Even");
  });

  it("counters with edited terms", async () => {
    const backend = new MockBackend();
    const counter = vi.spyOn(backend, "counterTally");
    const { user } = renderApp({ screen: "tallies", backend });
    openTally(HUERTA);
    await user.click(await screen.findByTestId("tally-counter"));
    const theyGrant = within(screen.getByTestId("counter-form")).getByTestId("terms-they-grant");
    expect(theyGrant).toHaveValue("80.000");
    await user.clear(theyGrant);
    await user.type(theyGrant, "90");
    await user.click(screen.getByTestId("counter-submit"));
    await waitFor(() =>
      expect(counter).toHaveBeenCalledWith(HUERTA, {
        weGrant: "50.000",
        theyGrant: "90.000",
        ourCall: 30,
        theirCall: 60,
        memo: "Weekly vegetable box",
        // The nodes our offer named, kept.
        ourNodes: [LAPTOP],
      }),
    );
    expect(await screen.findByTestId("negotiation-state")).toHaveAttribute("data-state", "waiting-partner");
    expect(screen.getByTestId("terms-after-theyGrant")).toHaveTextContent("90.000 CHIP");
    expect(screen.getByTestId("terms-before-theyGrant")).toHaveTextContent("80.000 CHIP");
  });

  it("refuses with a reason, and shows the refusal", async () => {
    const { user } = renderApp({ screen: "tallies" });
    openTally(HUERTA);
    await user.click(await screen.findByTestId("tally-refuse"));
    await user.type(await screen.findByTestId("refuse-reason"), "Too far to collect");
    await user.click(screen.getByTestId("refuse-confirm"));
    expect(await screen.findByTestId("refusal-reason")).toHaveTextContent("Reason: Too far to collect");
    expect(screen.getByTestId("negotiation-state")).toHaveTextContent("You refused this offer.");
    expect(screen.queryByTestId("tally-accept")).not.toBeInTheDocument();
  });

  it("says when our offer expired and offers to send it again, without accepting", async () => {
    renderApp({ screen: "tallies" });
    openTally(DMITRI);
    const state = await screen.findByTestId("negotiation-state");
    expect(state).toHaveAttribute("data-state", "expired");
    expect(state).toHaveTextContent("Your offer expired on");
    expect(screen.queryByTestId("tally-accept")).not.toBeInTheDocument();
    expect(screen.getByTestId("tally-counter")).toHaveTextContent("Offer again");
  });

  it("shows the partner's refusal as it arrives", async () => {
    const backend = new MockBackend();
    renderApp({ screen: "tallies", backend });
    openTally(DMITRI);
    await screen.findByTestId("negotiation-state");
    await waitFor(() => expect(backend.listenerCount).toBe(1));
    act(() => backend.talliesBook.partnerRefuses(DMITRI, "I work alone"));
    expect(await screen.findByTestId("refusal-reason")).toHaveTextContent("I work alone");
    expect(screen.getByTestId("negotiation-state")).toHaveTextContent("Dmitri Volkov refused this offer.");
  });
});

describe("Tally page", () => {
  it("shows the balance and limits in the header", async () => {
    renderApp({ screen: "tallies" });
    openTally(BRUNO);
    expect(await screen.findByTestId("tally-balance")).toHaveTextContent("+12.500 CHIP");
    expect(screen.getByTestId("tally-balance-words")).toHaveTextContent("Bruno Costa owes you 12.500 CHIP");
    expect(screen.getByTestId("tally-header")).toHaveTextContent("You may owe up to 20.000 CHIP");
    expect(screen.getByTestId("tally-header")).toHaveTextContent("Bruno Costa may owe you up to 50.000 CHIP");
    expect(screen.getByTestId("tally-room")).toHaveTextContent("You can pay up to 32.500 CHIP now");
  });

  it("pages through the chit history, newest first", async () => {
    const { user } = renderApp({ screen: "tallies" });
    openTally(BRUNO);
    await waitFor(() => expect(screen.getAllByTestId("chit-row")).toHaveLength(20));
    const first = screen.getAllByTestId("chit-row").map((row) => row.getAttribute("data-chit-id"));
    await user.click(screen.getByTestId("chits-more"));
    await waitFor(() => expect(screen.getAllByTestId("chit-row")).toHaveLength(40));
    expect(screen.getAllByTestId("chit-row").slice(0, 20).map((row) => row.getAttribute("data-chit-id"))).toEqual(first);
    await user.click(screen.getByTestId("chits-more"));
    await waitFor(() => expect(screen.getAllByTestId("chit-row")).toHaveLength(42));
    expect(screen.queryByTestId("chits-more")).not.toBeInTheDocument();
    // The newest chit's balance is the tally's.
    expect(screen.getAllByTestId("chit-row")[0]).toHaveTextContent("Balance +12.500 CHIP");
  });

  it("refuses a payment over the limit with the node's sentence, then pays: pending, then final", async () => {
    const backend = new MockBackend({ tallyCertifyMs: 200 });
    const { user } = renderApp({ screen: "tallies", backend });
    openTally(CHIARA);
    await user.click(await screen.findByTestId("pay-open"));
    const dialog = await screen.findByTestId("pay-dialog");
    expect(dialog).toHaveTextContent("You can pay up to 10.000 CHIP now.");
    const amount = within(dialog).getByTestId("pay-amount");
    await user.type(amount, "10.0001");
    expect(within(dialog).getByTestId("pay-amount-note")).toHaveTextContent("Use at most 3 decimal places.");
    await user.clear(amount);
    await user.type(amount, "10.001");
    await user.click(within(dialog).getByTestId("pay-submit"));
    expect(await within(dialog).findByTestId("pay-error")).toHaveTextContent(
      "A payment of 10.001 CHIP is over the credit limit: at most 10.000 CHIP can be paid now.",
    );

    await user.clear(amount);
    await user.type(amount, "2.5");
    await user.type(within(dialog).getByTestId("pay-memo"), "Olive oil");
    await user.click(within(dialog).getByTestId("pay-submit"));
    await waitFor(() => expect(screen.queryByTestId("pay-dialog")).not.toBeInTheDocument());
    const newest = await waitFor(() => {
      const row = screen.getAllByTestId("chit-row")[0]!;
      expect(row).toHaveTextContent("Olive oil");
      return row;
    });
    expect(newest).toHaveAttribute("data-status", "pending");
    expect(within(newest).getByTestId("chit-status")).toHaveTextContent("Pending");
    await waitFor(() => expect(screen.getAllByTestId("chit-row")[0]).toHaveAttribute("data-status", "final"));
    expect(screen.getAllByTestId("chit-row")[0]).toHaveTextContent("−2.500 CHIP");
    expect(screen.getByTestId("tally-balance")).toHaveTextContent("−22.500 CHIP");
  });

  it("approves an incoming invoice", async () => {
    const backend = new MockBackend({ tallyCertifyMs: 50 });
    const approve = vi.spyOn(backend, "approveInvoice");
    const { user } = renderApp({ screen: "tallies", backend });
    openTally(CHIARA);
    const invoice = await screen.findByTestId("incoming-invoice");
    expect(invoice).toHaveTextContent("4.000 CHIP");
    expect(invoice).toHaveTextContent("Bread and cheese, week 14");
    await user.click(within(invoice).getByTestId("invoice-approve"));
    await waitFor(() => expect(approve).toHaveBeenCalledWith(CHIARA, mockHexId("chiara:invoice")));
    await waitFor(() => expect(screen.queryByTestId("incoming-invoices")).not.toBeInTheDocument());
    await waitFor(() => expect(screen.getByTestId("tally-balance")).toHaveTextContent("−24.000 CHIP"));
    expect(screen.getAllByTestId("chit-row")[0]).toHaveTextContent("You paid Chiara Rossi's invoice");
  });

  it("shows a refused chit with the network's reason", async () => {
    const backend = new MockBackend({ tallyCertifyMs: 60_000 });
    const { user } = renderApp({ screen: "tallies", backend });
    openTally(BRUNO);
    await user.click(await screen.findByTestId("invoice-open"));
    await user.type(await screen.findByTestId("invoice-amount"), "5");
    await user.click(screen.getByTestId("invoice-submit"));
    await waitFor(() => expect(screen.getAllByTestId("chit-row")[0]).toHaveAttribute("data-status", "pending"));
    act(() => backend.talliesBook.refusePending(BRUNO, "Bruno's nodes did not sign in time."));
    await waitFor(() => expect(screen.getAllByTestId("chit-row")[0]).toHaveAttribute("data-status", "refused"));
    expect(screen.getByTestId("chit-refused-reason")).toHaveTextContent("Bruno's nodes did not sign in time.");
    backend.dispose();
  });

  it("sets trading variables, explaining each", async () => {
    const backend = new MockBackend();
    const set = vi.spyOn(backend, "setTrading");
    const { user } = renderApp({ screen: "tallies", backend });
    openTally(BRUNO);
    await user.click(await screen.findByTestId("tab-trading"));
    const form = await screen.findByTestId("trading-form");
    expect(form).toHaveTextContent("The balance you would like lifts to bring this tally to.");
    const bound = within(form).getByTestId("trading-bound");
    await user.clear(bound);
    await user.type(bound, "0");
    const target = within(form).getByTestId("trading-target");
    expect(target).toHaveValue("0.000");
    await user.clear(target);
    await user.type(target, "5");
    expect(within(form).getByTestId("trading-bound-below")).toBeInTheDocument();
    await user.clear(bound);
    await user.type(bound, "30");
    const reward = within(form).getByTestId("trading-reward");
    await user.clear(reward);
    await user.type(reward, "0.5");
    await user.click(within(form).getByTestId("trading-save"));
    await waitFor(() =>
      expect(set).toHaveBeenCalledWith(BRUNO, { target: "5.000", bound: "30.000", reward: "0.5", clutch: "0", call: 30 }),
    );
  });

  it("closes only after confirmation, saying it takes effect at zero balance", async () => {
    const { user } = renderApp({ screen: "tallies" });
    openTally(BRUNO);
    await user.click(await screen.findByTestId("tally-close"));
    const dialog = await screen.findByTestId("close-dialog");
    expect(dialog).toHaveTextContent("It closes for good once its balance reaches zero — Bruno Costa owes you 12.500 CHIP now.");
    await user.click(within(dialog).getByTestId("close-confirm"));
    expect(await screen.findByTestId("tally-closing")).toBeInTheDocument();
    expect(screen.getByTestId("stage-badge")).toHaveTextContent("Closing");
    expect(screen.getByTestId("pay-open")).toBeDisabled();
  });

  it("exports the chits as CSV through the save dialog", async () => {
    const backend = new MockBackend();
    const exportCsv = vi.spyOn(backend, "exportTallyCsv");
    const { user } = renderApp({ screen: "tallies", backend });
    openTally(BRUNO);
    await user.click(await screen.findByTestId("tally-export"));
    expect(await screen.findByTestId("toast")).toHaveTextContent("Saved to /home/ana/Documents/tally-bruno.csv.");
    expect(exportCsv).toHaveBeenCalledWith(BRUNO, {
      title: "Save the chits of the tally with Bruno Costa",
      fileKind: "CSV spreadsheet",
    });
  });
});

describe("Tally events", () => {
  it("refreshes the tally and tells the person when a partner pays", async () => {
    const backend = new MockBackend();
    renderApp({ screen: "tallies", backend });
    openTally(BRUNO);
    await screen.findByTestId("tally-balance");
    await waitFor(() => expect(backend.listenerCount).toBe(1));
    act(() => backend.talliesBook.partnerPays(BRUNO, 1_500, "Saddle"));
    await waitFor(() => expect(screen.getByTestId("tally-balance")).toHaveTextContent("+14.000 CHIP"));
    expect(await screen.findByTestId("toast")).toHaveTextContent("Payment received — Bruno Costa paid you.");
  });

  it("sends a system notification when the window is in the background", async () => {
    const shown: { title: string; body: string | undefined }[] = [];
    class FakeNotification {
      static permission = "granted";
      static requestPermission = vi.fn();
      onclick: (() => void) | null = null;
      constructor(title: string, options?: NotificationOptions) {
        shown.push({ title, body: options?.body });
      }
      close() {}
    }
    vi.stubGlobal("Notification", FakeNotification);
    vi.spyOn(document, "hasFocus").mockReturnValue(false);
    const backend = new MockBackend();
    renderApp({ screen: "tallies", backend });
    await screen.findAllByTestId("tally-row");
    await waitFor(() => expect(backend.listenerCount).toBe(1));
    act(() => void backend.talliesBook.partnerInvoices(BRUNO, 3_000, "Lights"));
    await waitFor(() => expect(shown).toEqual([{ title: "Invoice received", body: "Bruno Costa asks you to pay." }]));
    vi.unstubAllGlobals();
  });
});

describe("Home with tallies", () => {
  it("shows the net position with its chart, and what needs you", async () => {
    renderApp({ screen: "home" });
    const position = await screen.findByTestId("position");
    // Bruno owes 12.500, we owe Chiara 20.000.
    expect(position).toHaveAttribute("data-net", "-7500");
    expect(screen.getByTestId("position-net")).toHaveTextContent("−7.500 CHIP");
    expect(position).toHaveTextContent("You owe others, on balance");
    expect(Number(screen.getByTestId("position-chart").getAttribute("data-points"))).toBeGreaterThan(10);
    await waitFor(() => expect(screen.getAllByTestId("needs-you-item")).toHaveLength(2));
    const items = screen.getAllByTestId("needs-you-item");
    expect(items[0]).toHaveTextContent("Huerta Comunal La Esperanza answered your offer with new terms");
    expect(items[1]).toHaveTextContent("Chiara Rossi asks you to pay 4.000 CHIP");
    expect(items[1]).toHaveAttribute("href", `#/tallies/${CHIARA}`);
  });
});

describe("Tally nodes", () => {
  it("says whose nodes a payment waits for, and clears when they are back", async () => {
    const backend = new MockBackend({ tallyCertifyMs: 50 });
    const { user } = renderApp({ screen: "tallies", backend });
    openTally(BRUNO);
    await screen.findByTestId("tally-balance");
    act(() => backend.talliesBook.nodesGoDown(BRUNO, { who: "partner", up: 1, needed: 2 }));
    // Nothing waits yet: no word about nodes.
    expect(screen.queryByTestId("tally-nodes-wait")).not.toBeInTheDocument();

    await user.click(screen.getByTestId("pay-open"));
    const dialog = await screen.findByTestId("pay-dialog");
    await user.type(within(dialog).getByTestId("pay-amount"), "1");
    await user.click(within(dialog).getByTestId("pay-submit"));
    const wait = await screen.findByTestId("tally-nodes-wait");
    expect(wait).toHaveTextContent("Waiting for Bruno Costa's nodes (1 of 2)");
    expect(wait).toHaveAttribute("data-who", "partner");
    expect(wait).toHaveAttribute("role", "status");
    expect(screen.getAllByTestId("chit-row")[0]).toHaveAttribute("data-status", "pending");

    act(() => backend.talliesBook.nodesReturn(BRUNO));
    await waitFor(() => expect(screen.queryByTestId("tally-nodes-wait")).not.toBeInTheDocument());
    await waitFor(() => expect(screen.getAllByTestId("chit-row")[0]).toHaveAttribute("data-status", "final"));
    expect(screen.getByTestId("tally-balance")).toHaveTextContent("+11.500 CHIP");
  });

  it("says so when it waits for our own nodes, in Spanish too", async () => {
    const backend = new MockBackend({ tallyCertifyMs: 50 });
    const { user } = renderApp({ screen: "tallies", backend, language: "es" });
    openTally(BRUNO);
    await screen.findByTestId("tally-balance");
    act(() => backend.talliesBook.nodesGoDown(BRUNO, { who: "us", up: 1, needed: 2 }));
    await user.click(screen.getByTestId("pay-open"));
    const dialog = await screen.findByTestId("pay-dialog");
    await user.type(within(dialog).getByTestId("pay-amount"), "1");
    await user.click(within(dialog).getByTestId("pay-submit"));
    expect(await screen.findByTestId("tally-nodes-wait")).toHaveTextContent("Esperando a tus nodos (1 de 2)");
  });

  it("says plainly when a tally is not on this device", async () => {
    renderApp({ screen: "tallies" });
    openTally(mockHexId("tally:nobody"));
    expect(await screen.findByTestId("tally-missing")).toHaveTextContent("This tally is not on this device.");
  });

  it("shows a contract's text beside its fingerprint", async () => {
    const { user } = renderApp({ screen: "tallies" });
    openTally(HUERTA);
    const contract = await screen.findByTestId("contract");
    expect(contract).toHaveTextContent("Contract fingerprint 9f2c4e0b7a61d3f8");
    await user.click(within(contract).getByText(/Huerta member agreement/));
    expect(within(contract).getByTestId("contract-text")).toHaveTextContent(HUERTA_AGREEMENT);
  });
});

describe("Tallies in Spanish", () => {
  it("speaks Spanish, with the locale's numbers", async () => {
    renderApp({ screen: "tallies", language: "es" });
    await screen.findAllByTestId("tally-row");
    expect(screen.getByRole("heading", { name: "Cuentas" })).toBeInTheDocument();
    expect(within(rowOf(BRUNO)).getByTestId("tally-row-words")).toHaveTextContent("Bruno Costa te debe 12,500 CHIP");
    expect(within(rowOf(HUERTA)).getByTestId("stage-badge")).toHaveTextContent("Nuevas condiciones");
    openTally(HUERTA);
    expect(await screen.findByTestId("terms-after-theirCall")).toHaveTextContent("60 días");
    expect(screen.getByTestId("tally-accept")).toHaveTextContent("Aceptar");
  });
});
