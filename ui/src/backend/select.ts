import { TauriBackend, isTauri } from "./tauri-backend";
import { BackendError, type Backend } from "./types";

/**
 * The Tauri backend inside the app; everywhere else a mock node. In a browser,
 * `?mock=` shows the other states of the screens:
 * - `error`, `loading`, `slow`: a node that fails, never answers, or answers slowly;
 * - `fresh`: a node with no identity yet (onboarding);
 * - `keymissing`: a node whose keychain lost the party secret;
 * - `empty`: a party with no contacts yet, connected to nobody;
 * - `camera`: a webcam that first sees an altered card, then a good one;
 * - `link`: the app opened with someone's card link, carrying a one-time invite;
 * - `unreachable`: the same, but none of that person's devices can be reached.
 *
 * The mock and its sample data load only outside the app, so the app's bundle does not carry them.
 */
export async function createBackend(): Promise<Backend> {
  if (isTauri()) return new TauriBackend();
  const [{ MockBackend }, { mockCardLink, mockToken, sampleStrangerCard, tamperLink }] = await Promise.all([
    import("./mock-backend"),
    import("./mock-data"),
  ]);
  const scenario = new URLSearchParams(window.location.search).get("mock");
  const now = Date.now();
  const strangerCard = sampleStrangerCard(now);
  const stranger = mockCardLink(strangerCard);
  const invited = mockCardLink({
    ...strangerCard,
    invite: { token: mockToken(`invite:${now}`), reusable: false, expiresAtMs: now + 24 * 3_600_000 },
  });
  switch (scenario) {
    case "error":
      return new MockBackend({
        failWith: new BackendError("unavailable", "The node did not answer within 5 seconds."),
        latencyMs: 300,
      });
    case "loading":
      return new MockBackend({ latencyMs: Number.POSITIVE_INFINITY });
    case "slow":
      return new MockBackend({ latencyMs: 2_000, autoEvents: true });
    case "fresh":
      return new MockBackend({ latencyMs: 250, identity: "none", camera: { finds: stranger } });
    case "keymissing":
      return new MockBackend({ latencyMs: 250, identity: "keyMissing" });
    case "empty":
      return new MockBackend({ latencyMs: 250, contacts: [], peers: [] });
    case "camera":
      return new MockBackend({
        latencyMs: 250,
        camera: { name: "Integrated Camera", refuses: [tamperLink(stranger)], finds: stranger },
        scanStepMs: 700,
      });
    case "link":
      return new MockBackend({ latencyMs: 250, openedLinks: [invited] });
    case "unreachable":
      return new MockBackend({ latencyMs: 250, openedLinks: [invited], unreachable: [strangerCard.partyId] });
    default:
      return new MockBackend({ latencyMs: 250, autoEvents: true });
  }
}
