import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import {
  MockBackend,
  devicePeerId,
  mockPartyId,
  parseMockCadreLink,
  sampleIdentity,
  sampleNodeState,
  type CadreDevice,
} from "@/backend";
import { renderApp } from "../../../test/render-app";

function rows(): HTMLElement[] {
  return within(screen.getByTestId("devices-list")).getAllByTestId("device-row");
}

function rowOf(peerId: string): HTMLElement {
  const row = rows().find((entry) => entry.getAttribute("data-peer-id") === peerId);
  if (!row) throw new Error(`no row for ${peerId}`);
  return row;
}

describe("Settings → Devices", () => {
  it("lists the party's devices: this one marked, names, short peer ids with copy, when enrolled, revoked ones", async () => {
    const identity = sampleIdentity(Date.now());
    const ownPeerId = sampleNodeState(Date.now()).peerId;
    const { user } = renderApp({ screen: "settings" });
    const section = await screen.findByTestId("settings-devices");
    expect(within(section).getByRole("heading", { name: "Devices" })).toBeInTheDocument();
    await waitFor(() => expect(rows()).toHaveLength(3));

    const own = rowOf(ownPeerId);
    expect(within(own).getByTestId("device-name")).toHaveTextContent("Ana's laptop");
    expect(within(own).getByTestId("device-this")).toHaveTextContent("This device");
    expect(within(own).queryByTestId("device-revoke")).not.toBeInTheDocument();
    const shortId = within(own).getByTestId("device-peer-id");
    expect(shortId).toHaveAttribute("title", ownPeerId);
    expect(shortId.textContent!.length).toBeLessThan(ownPeerId.length);
    expect(own).toHaveTextContent(/Enrolled/);

    const homeBox = rowOf(devicePeerId(identity.partyId, 1));
    expect(within(homeBox).getByTestId("device-name")).toHaveTextContent("Home box");
    expect(within(homeBox).queryByTestId("device-revoked")).not.toBeInTheDocument();
    await user.click(within(homeBox).getByRole("button", { name: "Copy the peer ID of Home box" }));
    expect(await navigator.clipboard.readText()).toBe(devicePeerId(identity.partyId, 1));

    const phone = rowOf(devicePeerId(identity.partyId, 2));
    expect(phone).toHaveAttribute("data-revoked", "true");
    expect(within(phone).getByTestId("device-revoked")).toHaveTextContent("Revoked");
    expect(within(phone).queryByTestId("device-revoke")).not.toBeInTheDocument();
  });

  it("says what kind each device is when it said so: this app, a headless node; nothing for one enrolled before kinds", async () => {
    const identity = sampleIdentity(Date.now());
    renderApp({ screen: "settings" });
    await screen.findByTestId("settings-devices");
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(within(rowOf(sampleNodeState(Date.now()).peerId)).getByTestId("device-kind")).toHaveTextContent("Desktop app");
    expect(within(rowOf(devicePeerId(identity.partyId, 1))).getByTestId("device-kind")).toHaveTextContent("Headless node");
    expect(within(rowOf(devicePeerId(identity.partyId, 2))).queryByTestId("device-kind")).not.toBeInTheDocument();
  });

  it("the enroll dialog shows a QR code, the link with its expiry and the command for a headless machine", async () => {
    const backend = new MockBackend();
    const { user } = renderApp({ screen: "settings", backend });
    await user.click(await screen.findByTestId("devices-enroll"));

    const dialog = await screen.findByTestId("enroll-dialog");
    expect(await within(dialog).findByRole("img", { name: "QR code of the enrollment link" })).toBeInTheDocument();
    const link = within(dialog).getByTestId("enroll-link").textContent!;
    expect(link).toMatch(/^tallymesh:cadre\?v=1&d=/);
    const invite = parseMockCadreLink(link)!;
    expect(invite.expiresAtMs - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(within(dialog).getByTestId("enroll-expiry")).toHaveTextContent(/^Expires /);
    expect(within(dialog).getByTestId("enroll-command")).toHaveTextContent(`tallymesh cadre join '${link}'`);

    await user.click(within(dialog).getByTestId("enroll-copy"));
    expect(await navigator.clipboard.readText()).toBe(link);
    await user.click(within(dialog).getByTestId("enroll-copy-command"));
    expect(await navigator.clipboard.readText()).toBe(`tallymesh cadre join '${link}'`);

    // A device joins with it: the cadreChanged event brings it into the dialog and the list.
    expect(within(dialog).getByTestId("enroll-waiting")).toBeInTheDocument();
    let device!: CadreDevice;
    act(() => {
      device = backend.enrollDevice(link, "Cloud node");
    });
    expect(await within(dialog).findByTestId("enroll-joined")).toHaveTextContent("Cloud node joined");
    await user.keyboard("{Escape}");
    await waitFor(() => expect(rows()).toHaveLength(4));
    expect(within(rowOf(device.peerId)).getByTestId("device-name")).toHaveTextContent("Cloud node");
  });

  it("a new link with another expiry replaces the first, which still works once", async () => {
    const backend = new MockBackend();
    const { user } = renderApp({ screen: "settings", backend });
    await user.click(await screen.findByTestId("devices-enroll"));
    const dialog = await screen.findByTestId("enroll-dialog");
    const first = (await within(dialog).findByTestId("enroll-link")).textContent!;

    await user.click(within(dialog).getByTestId("enroll-expiry-24h"));
    await user.click(within(dialog).getByTestId("enroll-new"));
    await waitFor(() => expect(within(dialog).getByTestId("enroll-link").textContent).not.toBe(first));
    const second = parseMockCadreLink(within(dialog).getByTestId("enroll-link").textContent!)!;
    expect(second.expiresAtMs - Date.now()).toBeGreaterThan(23 * 3_600_000);

    act(() => {
      backend.enrollDevice(first, "Pi");
    });
    expect(() => backend.enrollDevice(first, "Pi again")).toThrow("already used");
  });

  it("revoking asks to confirm; Cancel keeps the device, Revoke marks it revoked", async () => {
    const identity = sampleIdentity(Date.now());
    const homeBoxId = devicePeerId(identity.partyId, 1);
    const { user } = renderApp({ screen: "settings" });
    await screen.findByTestId("settings-devices");
    await waitFor(() => expect(rows()).toHaveLength(3));

    await user.click(within(rowOf(homeBoxId)).getByRole("button", { name: "Revoke Home box" }));
    let confirm = await screen.findByRole("alertdialog");
    expect(confirm).toHaveTextContent("Revoke Home box?");
    expect(confirm).toHaveTextContent("comes off your card");
    await user.click(within(confirm).getByRole("button", { name: "Cancel" }));
    expect(rowOf(homeBoxId)).toHaveAttribute("data-revoked", "false");

    await user.click(within(rowOf(homeBoxId)).getByTestId("device-revoke"));
    confirm = await screen.findByRole("alertdialog");
    await user.click(within(confirm).getByTestId("device-revoke-confirm"));
    await waitFor(() => expect(rowOf(homeBoxId)).toHaveAttribute("data-revoked", "true"));
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(within(rowOf(homeBoxId)).getByTestId("device-revoked")).toBeInTheDocument();
    expect(within(rowOf(homeBoxId)).queryByTestId("device-revoke")).not.toBeInTheDocument();
  });

  it("on a member device, lists the party's devices read-only and says where to manage them", async () => {
    const partyId = mockPartyId("Bea");
    const peerId = sampleNodeState(Date.now()).peerId;
    renderApp({
      screen: "settings",
      backendOptions: {
        identity: { state: "member", partyId, fingerprint: partyId.slice(-8), displayName: "Bea", devicePeerId: peerId },
        deviceName: "Bea's home box",
      },
    });
    const section = await screen.findByTestId("settings-devices");
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(within(rowOf(peerId)).getByTestId("device-this")).toBeInTheDocument();
    expect(within(rowOf(peerId)).getByTestId("device-name")).toHaveTextContent("Bea's home box");
    expect(within(section).getByTestId("devices-member-note")).toHaveTextContent(
      "This device is one of Bea's devices. Devices are enrolled and revoked on Bea's main device",
    );
    expect(within(section).queryByTestId("devices-enroll")).not.toBeInTheDocument();
    expect(within(section).queryByTestId("device-revoke")).not.toBeInTheDocument();
  });

  it("a member device asking for a link is refused with the node's sentence", async () => {
    const partyId = mockPartyId("Bea");
    const backend = new MockBackend({
      identity: { state: "member", partyId, fingerprint: partyId.slice(-8), displayName: "Bea", devicePeerId: "12D3KooWx" },
    });
    await expect(backend.cadreInvite(null)).rejects.toThrow("do this on Bea's main device.");
    await expect(backend.revokeDevice("12D3KooWy")).rejects.toThrow("main device");
  });

  it("is in Spanish when the app is", async () => {
    renderApp({ screen: "settings", language: "es" });
    const section = await screen.findByTestId("settings-devices");
    expect(within(section).getByRole("heading", { name: "Dispositivos" })).toBeInTheDocument();
    expect(await within(section).findByTestId("devices-enroll")).toHaveTextContent("Inscribir un dispositivo");
  });
});
