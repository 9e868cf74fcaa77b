/**
 * The only door to the Rust side. Screens import from here, never from
 * `@tauri-apps/*` or the generated bindings directly.
 */
export { BackendProvider, useBackend } from "./context";
export {
  MockBackend,
  sampleIdentity,
  sampleNodeState,
  type MockBackendOptions,
  type MockCamera,
  type MockNodeState,
} from "./mock-backend";
export {
  MOCK_BACKUP_NAME,
  MOCK_BACKUP_PASSPHRASE,
  MOCK_RECOVERY_PHRASE,
  MOCK_RESTORED_PARTY_ID,
  SAMPLE_RELAY_PEER,
  mockCadreLink,
  parseMockCadreLink,
  sampleCadre,
  contactPeer,
  devicePeerId,
  mockBackupFile,
  mockCardLink,
  mockPartyId,
  mockQrImage,
  mockPeerId,
  sampleContacts,
  sampleLastSeen,
  samplePeers,
  sampleStrangerCard,
  tamperLink,
  type MockCard,
  type MockPeer,
} from "./mock-data";
export { createBackend } from "./select";
export {
  BackendError,
  type ApiErrorCode,
  type Backend,
  type CadreDevice,
  type CardInvite,
  type CardPreview,
  type Contact,
  type ContactPresence,
  type EnrollmentLink,
  type IdentityState,
  type InviteRequest,
  type KeyMissingIdentity,
  type MemberIdentity,
  type MyCard,
  type NodeEvent,
  type NodeStatus,
  type OwnInvite,
  type PeerInfo,
  type Reachability,
  type ReadyIdentity,
  type ScanFailure,
  type ScanUpdate,
  type StopScan,
  type Unsubscribe,
} from "./types";
