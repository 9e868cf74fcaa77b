/**
 * A long id cut to its start and end, e.g. "12D3KooWRfYU…7tXn2W". Every libp2p
 * Ed25519 peer id starts with "12D3KooW", so the head keeps a few characters past it.
 */
export function shortenId(id: string, head = 12, tail = 6): string {
  if (id.length <= head + tail + 1) return id;
  return `${id.slice(0, head)}…${id.slice(-tail)}`;
}
