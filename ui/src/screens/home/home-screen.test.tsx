import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MockBackend, sampleIdentity, sampleNodeState } from "@/backend";
import { renderApp } from "../../../test/render-app";

describe("Home", () => {
  it("renders the live node status from the backend", async () => {
    const state = sampleNodeState(Date.now());
    renderApp({ screen: "home" });

    const card = await screen.findByTestId("node-status-card");
    await waitFor(() => expect(within(card).getByTestId("node-status-state")).toHaveTextContent("Running"));
    expect(screen.getByTestId("node-data-dir")).toHaveTextContent(new RegExp(`^${state.dataDir}$`));
    const peerId = screen.getByTestId("node-peer-id");
    expect(peerId).toHaveAttribute("title", state.peerId);
    expect(peerId).toHaveAttribute("data-value", state.peerId);
    expect(peerId.textContent?.length).toBeLessThan(state.peerId.length);
    expect(screen.getByTestId("node-connected-peers")).toHaveTextContent("3");
    for (const address of state.listenAddrs) {
      expect(screen.getByTestId("node-listen-addrs")).toHaveTextContent(address);
    }
    expect(screen.getByTestId("node-uptime")).toHaveTextContent(/^3h 12m \d\ds$/);
    expect(screen.getByRole("heading", { name: "Your node is ready" })).toBeInTheDocument();
  });

  it("shows skeletons while the status loads, then the status", async () => {
    renderApp({ screen: "home", backendOptions: { latencyMs: 60 } });

    expect(screen.getByTestId("node-status-loading")).toBeInTheDocument();
    expect(screen.getByTestId("node-status-card")).toHaveAttribute("aria-busy", "true");
    expect(screen.getByTestId("node-status-state")).toHaveTextContent("Checking");
    expect(screen.queryByTestId("node-data-dir")).not.toBeInTheDocument();
    // Nothing is called ready before the node has answered.
    expect(screen.queryByRole("heading", { name: "Your node is ready" })).not.toBeInTheDocument();

    expect(await screen.findByTestId("node-data-dir")).toBeInTheDocument();
    expect(screen.queryByTestId("node-status-loading")).not.toBeInTheDocument();
    expect(screen.getByTestId("node-status-state")).toHaveTextContent("Running");
    expect(screen.getByRole("heading", { name: "Your node is ready" })).toBeInTheDocument();
  });

  it("shows an error panel that says what to do, and recovers when Try again succeeds", async () => {
    const backend = new MockBackend();
    backend.fail("unavailable", "Connection refused");
    const { user } = renderApp({ screen: "home", backend });

    const panel = await screen.findByTestId("status-error");
    expect(panel).toHaveTextContent("Can't reach your node");
    expect(panel).toHaveTextContent("The node isn't answering");
    expect(panel).toHaveTextContent("restart Tallymesh");
    expect(panel).toHaveTextContent("Connection refused");
    expect(screen.getByTestId("node-status-state")).toHaveTextContent("Not reachable");
    expect(screen.queryByTestId("node-ready-panel")).not.toBeInTheDocument();

    backend.recover();
    const callsBefore = backend.nodeStatusCalls;
    await user.click(screen.getByTestId("retry-button"));

    expect(await screen.findByTestId("node-data-dir")).toBeInTheDocument();
    expect(backend.nodeStatusCalls).toBeGreaterThan(callsBefore);
    expect(screen.queryByTestId("status-error")).not.toBeInTheDocument();
    expect(screen.getByTestId("node-status-state")).toHaveTextContent("Running");
  });

  it("refetches the status as soon as a node event arrives", async () => {
    const backend = new MockBackend();
    renderApp({ screen: "home", backend });
    await waitFor(() => expect(screen.getByTestId("node-connected-peers")).toHaveTextContent("3"));
    await waitFor(() => expect(backend.listenerCount).toBe(1));

    const callsBefore = backend.nodeStatusCalls;
    backend.setStatus({ connectedPeers: 4 });
    backend.emit({ kind: "peerConnected", peerId: "12D3KooWNewPeer" });

    // Well inside the 2 s refresh interval, so only the event can explain it.
    await waitFor(() => expect(screen.getByTestId("node-connected-peers")).toHaveTextContent("4"), { timeout: 1_000 });
    expect(backend.nodeStatusCalls).toBeGreaterThan(callsBefore);
  });

  it("keeps the uptime ticking between status refreshes", async () => {
    renderApp({ screen: "home" });
    const uptime = await screen.findByTestId("node-uptime");
    const first = uptime.textContent;
    await waitFor(() => expect(screen.getByTestId("node-uptime").textContent).not.toBe(first), { timeout: 2_500 });
    expect(uptime).toHaveAttribute("title", expect.stringContaining("Running since"));
  });

  it("copies the full peer id", async () => {
    const { user } = renderApp({ screen: "home" });
    const state = sampleNodeState(Date.now());
    await screen.findByTestId("node-peer-id");

    await user.click(screen.getByRole("button", { name: "Copy peer ID" }));

    expect(await navigator.clipboard.readText()).toBe(state.peerId);
    expect(await screen.findAllByText("Copied")).not.toHaveLength(0);
  });

  it("stops listening to node events when the app unmounts", async () => {
    const backend = new MockBackend();
    const { unmount } = renderApp({ backend });
    await waitFor(() => expect(backend.listenerCount).toBe(1));
    unmount();
    expect(backend.listenerCount).toBe(0);
  });

  it("greets the party by the name it chose", async () => {
    renderApp({ screen: "home" });
    const { displayName } = sampleIdentity(Date.now());
    await waitFor(() =>
      expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent(
        new RegExp(`^Good (morning|afternoon|evening), ${displayName}$`),
      ),
    );
  });
});
