import { act, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  MockBackend,
  SAMPLE_RELAY_PEER,
  devicePeerId,
  mockPartyId,
  mockPeerId,
  sampleContacts,
  sampleIdentity,
  sampleNodeState,
} from "@/backend";
import { PEERS_REFETCH_MS } from "@/node/peers";
import { renderApp } from "../../../test/render-app";

const contacts = sampleContacts(Date.now());
const bruno = contacts.find((contact) => contact.displayName === "Bruno Costa")!;
const dmitri = contacts.find((contact) => contact.displayName === "Dmitri Volkov")!;
const huerta = contacts.find((contact) => contact.displayName.startsWith("Huerta"))!;

function peerRows(): HTMLElement[] {
  return screen.queryAllByTestId("network-peer-row");
}

function rowOf(peerId: string): HTMLElement {
  const row = peerRows().find((entry) => entry.getAttribute("data-peer-id") === peerId);
  if (!row) throw new Error(`no row for ${peerId}`);
  return row;
}

describe("Network", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is reachable from the sidebar", async () => {
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-network"));
    expect(await screen.findByTestId("network-screen")).toBeInTheDocument();
    expect(window.location.hash).toBe("#/network");
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Network");
  });

  it("shows this device's peer id, short with the full one on hover and a copy button, and where it listens", async () => {
    const state = sampleNodeState(Date.now());
    const { user } = renderApp({ screen: "network" });
    const device = await screen.findByTestId("network-this-device");
    const peerId = await within(device).findByTestId("network-device-peer-id");
    expect(peerId).toHaveAttribute("title", state.peerId);
    expect(peerId).toHaveAttribute("data-value", state.peerId);
    expect(peerId.textContent!.length).toBeLessThan(state.peerId.length);
    for (const address of state.listenAddrs) {
      expect(within(device).getByTestId("network-listen-addrs")).toHaveTextContent(address);
    }
    await user.click(within(device).getByRole("button", { name: "Copy peer ID" }));
    expect(await navigator.clipboard.readText()).toBe(state.peerId);
  });

  it("says whether the internet can reach this device, and follows reachabilityChanged events", async () => {
    const backend = new MockBackend({ status: { reachability: { kind: "unknown" } } });
    renderApp({ screen: "network", backend });
    const device = await screen.findByTestId("network-this-device");
    const status = await within(device).findByTestId("network-reachability");
    expect(status).toHaveAttribute("data-kind", "unknown");
    expect(status).toHaveTextContent("Not known yet");
    expect(status).toHaveTextContent("the answer comes once a few have tried");

    act(() => backend.setReachability({ kind: "private" }));
    await waitFor(() => expect(within(device).getByTestId("network-reachability")).toHaveAttribute("data-kind", "private"));
    expect(within(device).getByTestId("network-reachability-status")).toHaveTextContent(
      "Behind NAT — reachable through relays and hole punching",
    );

    act(() => backend.setReachability({ kind: "public", address: "/ip4/203.0.113.7/tcp/4001" }));
    await waitFor(() =>
      expect(within(device).getByTestId("network-reachability-status")).toHaveTextContent(
        "Reachable from the internet at /ip4/203.0.113.7/tcp/4001",
      ),
    );
    expect(within(device).getByTestId("network-reachability")).toHaveTextContent("can dial this device directly");
  });

  it("says it in Spanish too", async () => {
    renderApp({ screen: "network", language: "es" });
    const status = await screen.findByTestId("network-reachability-status");
    expect(status).toHaveTextContent("Detrás de NAT");
  });

  it("lists the connected peers, contacts' devices first by name, with short ids, round trips and addresses", async () => {
    renderApp({ screen: "network" });
    await waitFor(() => expect(peerRows()).toHaveLength(3));
    expect(peerRows().map((row) => row.getAttribute("data-peer-id"))).toEqual([
      devicePeerId(bruno.partyId),
      devicePeerId(huerta.partyId),
      SAMPLE_RELAY_PEER.peerId,
    ]);

    const brunoRow = rowOf(devicePeerId(bruno.partyId));
    expect(within(brunoRow).getByTestId("network-peer-name")).toHaveTextContent("Bruno Costa");
    expect(within(brunoRow).getByTestId("network-peer-rtt")).toHaveTextContent("12 ms");
    expect(within(brunoRow).getByTestId("network-peer-addresses")).toHaveTextContent(bruno.addresses[0]!);
    const shortId = within(brunoRow).getByTestId("network-peer-id");
    expect(shortId).toHaveAttribute("title", devicePeerId(bruno.partyId));
    expect(brunoRow).not.toHaveTextContent(devicePeerId(bruno.partyId));

    const relayRow = rowOf(SAMPLE_RELAY_PEER.peerId);
    expect(within(relayRow).getByTestId("network-peer-name")).toHaveTextContent("Not a contact");
    expect(within(relayRow).getByTestId("network-peer-rtt")).toHaveTextContent("84 ms");
    expect(screen.getByTestId("network-peer-count")).toHaveTextContent("3 peers");
  });

  it("copies a peer's full id, and a contact's name opens them in Contacts", async () => {
    const { user } = renderApp({ screen: "network" });
    await waitFor(() => expect(peerRows()).toHaveLength(3));
    const brunoRow = rowOf(devicePeerId(bruno.partyId));
    await user.click(within(brunoRow).getByRole("button", { name: "Copy the peer ID of Bruno Costa's device" }));
    expect(await navigator.clipboard.readText()).toBe(devicePeerId(bruno.partyId));

    await user.click(within(brunoRow).getByRole("link", { name: "Open Bruno Costa in Contacts" }));
    expect(await screen.findByTestId("contact-detail-name")).toHaveTextContent("Bruno Costa");
  });

  it("says when a round trip has not been measured yet", async () => {
    const backend = new MockBackend({ peers: [{ ...SAMPLE_RELAY_PEER, rttMs: null }] });
    renderApp({ screen: "network", backend });
    await waitFor(() => expect(peerRows()).toHaveLength(1));
    expect(within(rowOf(SAMPLE_RELAY_PEER.peerId)).getByTestId("network-peer-rtt")).toHaveTextContent(
      "Not measured yet",
    );
  });

  it("shows how often a peer broke our protocols' rules", async () => {
    const backend = new MockBackend({ peers: [{ ...SAMPLE_RELAY_PEER, strikes: 3 }] });
    renderApp({ screen: "network", backend });
    await waitFor(() => expect(peerRows()).toHaveLength(1));
    expect(within(rowOf(SAMPLE_RELAY_PEER.peerId)).getByTestId("network-peer-strikes")).toHaveTextContent(
      "Broke our protocol rules 3 times",
    );
  });

  it("says nothing of rules for a peer that never broke one", async () => {
    const backend = new MockBackend({ peers: [SAMPLE_RELAY_PEER] });
    renderApp({ screen: "network", backend });
    await waitFor(() => expect(peerRows()).toHaveLength(1));
    expect(screen.queryByTestId("network-peer-strikes")).toBeNull();
  });

  it("with nobody connected, teaches what happens next and leads to Contacts", async () => {
    const backend = new MockBackend({ peers: [] });
    const { user } = renderApp({ screen: "network", backend });
    const empty = await screen.findByTestId("network-peers-empty");
    expect(empty).toHaveTextContent("Not connected to anyone yet");
    expect(empty).toHaveTextContent("Contacts you add are reached automatically");
    expect(peerRows()).toHaveLength(0);
    await user.click(within(empty).getByRole("button", { name: "Go to Contacts" }));
    expect(await screen.findByTestId("contacts-screen")).toBeInTheDocument();
  });

  it("shows a peer as soon as it connects, and drops it as soon as it leaves", async () => {
    const backend = new MockBackend();
    renderApp({ screen: "network", backend });
    await waitFor(() => expect(peerRows()).toHaveLength(3));
    await waitFor(() => expect(backend.listenerCount).toBe(1));
    const passer = { peerId: mockPeerId("passer"), addresses: ["/ip4/203.0.113.9/tcp/4001"], rttMs: 95, partyId: null };

    act(() => backend.connectPeer(passer));
    // Well inside the 10 s refresh, so only the event can explain it.
    await waitFor(() => expect(peerRows()).toHaveLength(4), { timeout: 1_000 });
    expect(within(rowOf(passer.peerId)).getByTestId("network-peer-name")).toHaveTextContent("Not a contact");

    act(() => backend.disconnectPeer(passer.peerId));
    await waitFor(() => expect(peerRows()).toHaveLength(3), { timeout: 1_000 });
  });

  it("names a contact's device when a presenceChanged event says the contact came online", async () => {
    const backend = new MockBackend();
    renderApp({ screen: "network", backend });
    await waitFor(() => expect(peerRows()).toHaveLength(3));
    await waitFor(() => expect(backend.listenerCount).toBe(1));
    const peers = vi.spyOn(backend, "networkPeers");

    act(() => backend.setContactOnline(dmitri.partyId, true, 27));

    await waitFor(() => expect(peerRows()).toHaveLength(4), { timeout: 1_000 });
    const row = rowOf(devicePeerId(dmitri.partyId));
    expect(within(row).getByTestId("network-peer-name")).toHaveTextContent("Dmitri Volkov");
    expect(within(row).getByTestId("network-peer-rtt")).toHaveTextContent("27 ms");
    expect(peers).toHaveBeenCalled();
  });

  it("asks again every 10 seconds, for what changes without an event (a stranger's round trip)", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const backend = new MockBackend();
    renderApp({ screen: "network", backend });
    await waitFor(() => expect(peerRows()).toHaveLength(3));
    const relayRtt = () => within(rowOf(SAMPLE_RELAY_PEER.peerId)).getByTestId("network-peer-rtt");
    expect(relayRtt()).toHaveTextContent("84 ms");

    backend.setPeerRtt(SAMPLE_RELAY_PEER.peerId, 203);
    await act(() => vi.advanceTimersByTimeAsync(PEERS_REFETCH_MS / 2));
    expect(relayRtt()).toHaveTextContent("84 ms");

    await act(() => vi.advanceTimersByTimeAsync(PEERS_REFETCH_MS / 2 + 100));
    await waitFor(() => expect(relayRtt()).toHaveTextContent("203 ms"));
    expect(PEERS_REFETCH_MS).toBe(10_000);
  });

  it("when the node can't be reached, says so in both places and offers to try again", async () => {
    const backend = new MockBackend();
    backend.fail("unavailable", "Connection refused");
    renderApp({ screen: "network", backend });
    const device = await screen.findByTestId("network-this-device");
    expect(await within(device).findByTestId("status-error")).toHaveTextContent("Can't reach your node");
    expect(await within(screen.getByTestId("network-peers")).findByTestId("status-error")).toHaveTextContent(
      "Connection refused",
    );
    expect(screen.queryByTestId("network-peers-empty")).not.toBeInTheDocument();
  });

  it("speaks Spanish", async () => {
    renderApp({ screen: "network", language: "es" });
    await waitFor(() => expect(peerRows()).toHaveLength(3));
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Red");
    expect(within(rowOf(SAMPLE_RELAY_PEER.peerId)).getByTestId("network-peer-name")).toHaveTextContent(
      "No es un contacto",
    );
    expect(screen.getByTestId("network-peer-count")).toHaveTextContent("3 pares");
  });

  describe("Your devices", () => {
    function deviceRows(): HTMLElement[] {
      return within(screen.getByTestId("network-party-devices")).queryAllByTestId("network-party-device");
    }

    it("lists the party's devices, this one marked, the others connected or not; revoked ones are left out", async () => {
      const now = Date.now();
      const partyId = sampleIdentity(now).partyId;
      const homeBox = devicePeerId(partyId, 1);
      const backend = new MockBackend({
        peers: [{ peerId: homeBox, addresses: ["/ip4/192.168.1.20/tcp/4001"], rttMs: 4, partyId: null }],
      });
      renderApp({ screen: "network", backend });
      const card = await screen.findByTestId("network-party-devices");
      expect(within(card).getByRole("heading", { name: "Your devices" })).toBeInTheDocument();
      await waitFor(() => expect(deviceRows()).toHaveLength(2));

      const [own, box] = deviceRows() as [HTMLElement, HTMLElement];
      expect(own).toHaveAttribute("data-peer-id", sampleNodeState(now).peerId);
      expect(own).toHaveAttribute("data-this-device", "true");
      expect(within(own).getByTestId("network-party-device-name")).toHaveTextContent("Ana's laptop");
      expect(within(own).getByTestId("network-party-device-presence")).toHaveTextContent("This device");

      expect(box).toHaveAttribute("data-peer-id", homeBox);
      expect(within(box).getByTestId("network-party-device-name")).toHaveTextContent("Home box");
      await waitFor(() => expect(box).toHaveAttribute("data-online", "true"));
      expect(within(box).getByTestId("network-party-device-presence")).toHaveTextContent("Connected");
      expect(card).not.toHaveTextContent("Old phone");
    });

    it("says a device not connected to this one is not connected", async () => {
      renderApp({ screen: "network", backendOptions: { peers: [] } });
      await screen.findByTestId("network-party-devices");
      await waitFor(() => expect(deviceRows()).toHaveLength(2));
      const box = deviceRows()[1]!;
      await waitFor(() => expect(box).toHaveAttribute("data-online", "false"));
      expect(within(box).getByTestId("network-party-device-presence")).toHaveTextContent("Not connected");
    });

    it("on a member device, lists the party's devices as its card has them", async () => {
      const partyId = mockPartyId("Bea");
      const peerId = sampleNodeState(Date.now()).peerId;
      renderApp({
        screen: "network",
        backendOptions: {
          identity: { state: "member", partyId, fingerprint: partyId.slice(-8), displayName: "Bea", devicePeerId: peerId },
          deviceName: "Bea's home box",
        },
      });
      await screen.findByTestId("network-party-devices");
      await waitFor(() => expect(deviceRows()).toHaveLength(2));
      expect(within(deviceRows()[0]!).getByTestId("network-party-device-name")).toHaveTextContent("Bea's home box");
      expect(within(deviceRows()[1]!).getByTestId("network-party-device-name")).toHaveTextContent("Bea's laptop");
    });

    it("is absent while the node acts for nobody", async () => {
      renderApp({ screen: "network", backendOptions: { identity: "none" } });
      await screen.findByTestId("onboarding");
      expect(screen.queryByTestId("network-party-devices")).not.toBeInTheDocument();
    });

    it("is in Spanish when the app is", async () => {
      renderApp({ screen: "network", language: "es" });
      const card = await screen.findByTestId("network-party-devices");
      expect(within(card).getByRole("heading", { name: "Tus dispositivos" })).toBeInTheDocument();
    });
  });
});
