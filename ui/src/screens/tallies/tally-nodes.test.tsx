import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import {
  BackendError,
  MockBackend,
  devicePeerId,
  mockHexId,
  sampleContacts,
  sampleIdentity,
  sampleNodeState,
  type MockPeer,
} from "@/backend";
import { renderApp } from "../../../test/render-app";

const contacts = sampleContacts(Date.now());
const bruno = contacts.find((contact) => contact.displayName === "Bruno Costa")!;
const BRUNO = mockHexId("tally:bruno");
const HUERTA = mockHexId("tally:huerta");
/** This device: the sample party's laptop, where the app runs. */
const LAPTOP = sampleNodeState(Date.now()).peerId;
const PARTY = sampleIdentity(Date.now()).partyId;
/** The sample party's always-on headless home box. */
const HOME_BOX = devicePeerId(PARTY, 1);
/** The sample party's old phone, revoked. */
const OLD_PHONE = devicePeerId(PARTY, 2);
const HOME_BOX_PEER: MockPeer = { peerId: HOME_BOX, addresses: ["/ip4/192.168.1.7/tcp/4001"], rttMs: 3, partyId: null };

function choice(picker: string, peerId: string): HTMLElement {
  const row = screen.getAllByTestId(`${picker}-choice`).find((entry) => entry.getAttribute("data-peer-id") === peerId);
  if (!row) throw new Error(`no choice for ${peerId}`);
  return row;
}

async function openNewTally() {
  window.location.hash = "#/tallies/new";
  return screen.findByTestId("new-tally-nodes");
}

async function fillOffer(user: ReturnType<typeof renderApp>["user"]) {
  await user.selectOptions(await screen.findByTestId("new-tally-partner"), bruno.partyId);
  await user.type(screen.getByTestId("terms-we-grant"), "20");
  await user.type(screen.getByTestId("terms-they-grant"), "10");
}

describe("Nodes that keep a new tally", () => {
  it("lists the cadre's devices with name, kind and whether connected, every one ticked, revoked ones left out", async () => {
    const { backend } = renderApp({ screen: "tallies" });
    const picker = await openNewTally();
    expect(within(picker).getByTestId("new-tally-nodes-help")).toHaveTextContent(
      "Your nodes keep a copy of this tally and confirm each payment; most of them must be up for a payment to go through.",
    );
    const rows = within(picker).getAllByTestId("new-tally-nodes-choice");
    expect(rows.map((row) => row.getAttribute("data-peer-id"))).toEqual([LAPTOP, HOME_BOX]);
    expect(screen.queryByText("Old phone")).not.toBeInTheDocument();
    expect(rows.map((row) => row.getAttribute("data-peer-id"))).not.toContain(OLD_PHONE);

    const laptop = choice("new-tally-nodes", LAPTOP);
    expect(within(laptop).getByTestId("new-tally-nodes-name")).toHaveTextContent("Ana's laptop");
    expect(within(laptop).getByTestId("new-tally-nodes-kind")).toHaveTextContent("This device");
    expect(within(laptop).getByTestId("new-tally-nodes-presence")).toHaveTextContent("Up now");
    expect(within(laptop).getByTestId("new-tally-nodes-locked")).toHaveTextContent("Always one of them: it signs your payments");
    expect(within(laptop).getByTestId("new-tally-nodes-input")).toBeChecked();
    expect(within(laptop).getByTestId("new-tally-nodes-input")).toHaveAttribute("aria-disabled", "true");

    const box = choice("new-tally-nodes", HOME_BOX);
    expect(within(box).getByTestId("new-tally-nodes-name")).toHaveTextContent("Home box");
    expect(within(box).getByTestId("new-tally-nodes-kind")).toHaveTextContent("Headless node");
    expect(within(box).getByTestId("new-tally-nodes-input")).toBeChecked();
    expect(within(box).getByTestId("new-tally-nodes-input")).toHaveAccessibleName("Home box, Headless node");
    await waitFor(() => expect(within(box).getByTestId("new-tally-nodes-presence")).toHaveTextContent("Not connected"));
    expect(box).toHaveAttribute("data-online", "false");

    // Two nodes: both must be up, and the box is not.
    expect(within(picker).getByTestId("new-tally-nodes-quorum")).toHaveTextContent(
      "2 of these 2 nodes must be up for payments to go through.",
    );
    expect(within(picker).getByTestId("new-tally-nodes-short")).toHaveTextContent(
      "Only 1 of them is connected now: payments would wait until 2 are.",
    );

    // The box connects: the list follows, and nothing is short any more.
    act(() => backend.connectPeer(HOME_BOX_PEER));
    await waitFor(() => expect(within(box).getByTestId("new-tally-nodes-presence")).toHaveTextContent("Connected"));
    expect(within(picker).queryByTestId("new-tally-nodes-short")).not.toBeInTheDocument();
  });

  it("keeps this device ticked whatever is clicked or pressed, and sends the devices left ticked", async () => {
    const backend = new MockBackend();
    const propose = vi.spyOn(backend, "proposeTally");
    const { user } = renderApp({ screen: "tallies", backend });
    await openNewTally();
    await fillOffer(user);

    const laptopBox = within(choice("new-tally-nodes", LAPTOP)).getByTestId("new-tally-nodes-input");
    await user.click(laptopBox);
    expect(laptopBox).toBeChecked();
    await user.click(within(choice("new-tally-nodes", LAPTOP)).getByText("Ana's laptop"));
    expect(laptopBox).toBeChecked();

    // By keyboard alone: both boxes are reached with Tab; Space changes only the home box.
    laptopBox.focus();
    await user.keyboard(" ");
    expect(laptopBox).toBeChecked();
    await user.tab();
    const boxInput = within(choice("new-tally-nodes", HOME_BOX)).getByTestId("new-tally-nodes-input");
    expect(boxInput).toHaveFocus();
    await user.keyboard(" ");
    expect(boxInput).not.toBeChecked();
    expect(screen.getByTestId("new-tally-nodes-quorum")).toHaveTextContent(
      "Only this device keeps your side: payments go through while it is on.",
    );
    expect(screen.queryByTestId("new-tally-nodes-short")).not.toBeInTheDocument();

    await user.click(screen.getByTestId("new-tally-submit"));
    await waitFor(() => expect(propose).toHaveBeenCalledWith(expect.objectContaining({ ourNodes: [LAPTOP] })));
    // The offer's page shows the one node we named.
    const ours = await screen.findByTestId("tally-nodes-ours");
    expect(within(ours).getAllByTestId("tally-node").map((node) => node.getAttribute("data-peer-id"))).toEqual([LAPTOP]);
    expect(within(ours).getByTestId("tally-node-name")).toHaveTextContent("Ana's laptop");
  });

  it("ticks a device enrolled while the form is open, and names it in the offer", async () => {
    const backend = new MockBackend();
    const propose = vi.spyOn(backend, "proposeTally");
    const { user } = renderApp({ screen: "tallies", backend });
    await openNewTally();
    await fillOffer(user);
    const link = (await backend.cadreInvite(null)).link;
    let rented = "";
    act(() => {
      rented = backend.enrollDevice(link, "Rented node").peerId;
    });
    await waitFor(() => expect(screen.getAllByTestId("new-tally-nodes-choice")).toHaveLength(3));
    expect(within(choice("new-tally-nodes", rented)).getByTestId("new-tally-nodes-input")).toBeChecked();
    expect(within(choice("new-tally-nodes", rented)).getByTestId("new-tally-nodes-kind")).toHaveTextContent("Headless node");
    expect(screen.getByTestId("new-tally-nodes-quorum")).toHaveTextContent("2 of these 3 nodes must be up");

    await user.click(screen.getByTestId("new-tally-submit"));
    await waitFor(() =>
      expect(propose).toHaveBeenCalledWith(expect.objectContaining({ ourNodes: [LAPTOP, HOME_BOX, rented] })),
    );
  });

  it("offers the devices the node names, in its order, and the quorum the node gives, not a rule of its own", async () => {
    const backend = new MockBackend();
    const link = (await backend.cadreInvite(null)).link;
    const rented = backend.enrollDevice(link, "Rented node").peerId;
    vi.spyOn(backend, "tallyNodeChoice").mockResolvedValue({ nodes: [LAPTOP, rented, HOME_BOX], quorums: [1, 2, 3] });
    const propose = vi.spyOn(backend, "proposeTally");
    const { user } = renderApp({ screen: "tallies", backend });
    await openNewTally();
    await fillOffer(user);
    const rows = await screen.findAllByTestId("new-tally-nodes-choice");
    expect(rows.map((row) => row.getAttribute("data-peer-id"))).toEqual([LAPTOP, rented, HOME_BOX]);
    expect(screen.getByTestId("new-tally-nodes-quorum")).toHaveTextContent("3 of these 3 nodes must be up");

    await user.click(within(choice("new-tally-nodes", HOME_BOX)).getByTestId("new-tally-nodes-input"));
    expect(screen.getByTestId("new-tally-nodes-quorum")).toHaveTextContent("2 of these 2 nodes must be up");
    await user.click(screen.getByTestId("new-tally-submit"));
    await waitFor(() => expect(propose).toHaveBeenCalledWith(expect.objectContaining({ ourNodes: [LAPTOP, rented] })));
  });

  it("leaves a device revoked while the form is open out of the offer", async () => {
    const backend = new MockBackend();
    const propose = vi.spyOn(backend, "proposeTally");
    const { user } = renderApp({ screen: "tallies", backend });
    await openNewTally();
    await fillOffer(user);
    await act(() => backend.revokeDevice(HOME_BOX));
    await waitFor(() => expect(screen.getAllByTestId("new-tally-nodes-choice")).toHaveLength(1));
    await user.click(screen.getByTestId("new-tally-submit"));
    await waitFor(() => expect(propose).toHaveBeenCalledWith(expect.objectContaining({ ourNodes: [LAPTOP] })));
    expect(await screen.findByTestId("negotiation")).toBeInTheDocument();
  });

  it("says so when the devices cannot be listed, and lets the node name every one", async () => {
    const backend = new MockBackend();
    vi.spyOn(backend, "cadreDevices").mockRejectedValue(new BackendError("unavailable", "The node is not running."));
    const propose = vi.spyOn(backend, "proposeTally");
    const { user } = renderApp({ screen: "tallies", backend });
    window.location.hash = "#/tallies/new";
    expect(await screen.findByTestId("new-tally-nodes-unlisted")).toHaveTextContent(
      "Your devices could not be listed (The node is not running.). Every one of them will keep this tally.",
    );
    await fillOffer(user);
    await user.click(screen.getByTestId("new-tally-submit"));
    await waitFor(() => expect(propose).toHaveBeenCalledWith(expect.objectContaining({ ourNodes: null })));
  });

  it("speaks Spanish", async () => {
    renderApp({ screen: "tallies", language: "es" });
    const picker = await openNewTally();
    expect(within(picker).getByTestId("new-tally-nodes-help")).toHaveTextContent(
      "Tus nodos guardan una copia de esta cuenta y confirman cada pago",
    );
    expect(screen.getByText("Nodos que guardan esta cuenta")).toBeInTheDocument();
    expect(within(choice("new-tally-nodes", LAPTOP)).getByTestId("new-tally-nodes-kind")).toHaveTextContent("Este dispositivo");
    expect(within(choice("new-tally-nodes", HOME_BOX)).getByTestId("new-tally-nodes-kind")).toHaveTextContent("Nodo sin pantalla");
    await waitFor(() =>
      expect(within(picker).getByTestId("new-tally-nodes-short")).toHaveTextContent(
        "Ahora solo 1 de ellos está conectado: los pagos esperarían hasta que lo estén 2.",
      ),
    );
  });
});

describe("Nodes in a counter-offer", () => {
  it("starts from the nodes the offer names for us, and sends the ones ticked: the revision says our nodes changed", async () => {
    const backend = new MockBackend();
    const counter = vi.spyOn(backend, "counterTally");
    const { user } = renderApp({ screen: "tallies", backend });
    window.location.hash = `#/tallies/${HUERTA}`;

    // The offer on the table names the laptop alone for us.
    const section = await screen.findByTestId("negotiation-nodes");
    await waitFor(() => expect(within(section).getByTestId("tally-nodes-ours")).toHaveTextContent("Ana's laptop"));
    expect(within(within(section).getByTestId("tally-nodes-ours")).getAllByTestId("tally-node")).toHaveLength(1);

    await user.click(screen.getByTestId("tally-counter"));
    const form = screen.getByTestId("counter-form");
    const box = within(form).getAllByTestId("counter-nodes-choice").find((row) => row.getAttribute("data-peer-id") === HOME_BOX)!;
    expect(within(box).getByTestId("counter-nodes-input")).not.toBeChecked();
    expect(within(form).getByTestId("counter-nodes-quorum")).toHaveTextContent("Only this device keeps your side");
    await user.click(within(box).getByTestId("counter-nodes-input"));
    expect(within(box).getByTestId("counter-nodes-input")).toBeChecked();
    await user.click(screen.getByTestId("counter-submit"));

    await waitFor(() => expect(counter).toHaveBeenCalledWith(HUERTA, expect.objectContaining({ ourNodes: [LAPTOP, HOME_BOX] })));
    await waitFor(() => expect(screen.getAllByTestId("revision")).toHaveLength(3));
    expect(screen.getAllByTestId("revision")[2]).toHaveTextContent("Changed: your nodes.");
    const ours = within(screen.getByTestId("negotiation-nodes")).getByTestId("tally-nodes-ours");
    expect(within(ours).getAllByTestId("tally-node").map((node) => node.getAttribute("data-peer-id"))).toEqual([LAPTOP, HOME_BOX]);
    expect(within(ours).getAllByTestId("tally-node-kind").map((kind) => kind.textContent)).toEqual(["This device", "Headless node"]);
  });

  it("names every device when the offer names none of ours", async () => {
    const backend = new MockBackend();
    const counter = vi.spyOn(backend, "counterTally");
    const { user } = renderApp({ screen: "tallies", backend });
    // Bruno offers from an old card of ours: its only device is a phone we revoked since.
    const id = backend.talliesBook.partnerOffers(bruno.partyId, { weGrant: 10_000, theyGrant: 0, ourCall: 30, theirCall: 30 });
    backend.talliesBook.nameOurNodes(id, [OLD_PHONE]);
    window.location.hash = `#/tallies/${id}`;
    const ours = within(await screen.findByTestId("negotiation-nodes")).getByTestId("tally-nodes-ours");
    expect(await within(ours).findByTestId("tally-node-stranger")).toHaveTextContent("Not one of your devices now");

    await user.click(screen.getByTestId("tally-counter"));
    const rows = within(screen.getByTestId("counter-form")).getAllByTestId("counter-nodes-choice");
    expect(rows.map((row) => row.getAttribute("data-checked"))).toEqual(["true", "true"]);
    await user.click(screen.getByTestId("counter-submit"));
    await waitFor(() => expect(counter).toHaveBeenCalledWith(id, expect.objectContaining({ ourNodes: [LAPTOP, HOME_BOX] })));
  });
});

describe("The tally's Network tab", () => {
  it("shows which nodes each side named: ours by name and kind, and which are connected", async () => {
    const { user } = renderApp({ screen: "tallies" });
    window.location.hash = `#/tallies/${BRUNO}`;
    await user.click(await screen.findByTestId("tab-network"));
    const ours = await screen.findByTestId("tally-nodes-ours");
    const laptop = within(ours).getByTestId("tally-node");
    expect(laptop).toHaveAttribute("data-peer-id", LAPTOP);
    expect(within(laptop).getByTestId("tally-node-name")).toHaveTextContent("Ana's laptop");
    expect(within(laptop).getByTestId("tally-node-kind")).toHaveTextContent("This device");
    const theirs = screen.getByTestId("tally-nodes-theirs");
    expect(theirs).toHaveTextContent("Bruno Costa's nodes");
    const nodes = within(theirs).getAllByTestId("tally-node");
    expect(nodes.map((node) => node.getAttribute("data-peer-id"))).toEqual([devicePeerId(bruno.partyId, 0), devicePeerId(bruno.partyId, 1)]);
    // Bruno's first device is connected in the sample; his second is not.
    await waitFor(() => expect(nodes[0]).toHaveAttribute("data-up", "true"));
    expect(nodes[0]).toHaveTextContent("Connected");
    expect(nodes[1]).toHaveAttribute("data-up", "false");
    expect(nodes[1]).toHaveTextContent("Not connected");
  });
});
