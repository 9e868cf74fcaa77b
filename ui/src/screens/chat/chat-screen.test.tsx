import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { MockBackend, mockHexId, sampleContacts } from "@/backend";
import { renderApp } from "../../../test/render-app";

const contacts = sampleContacts(Date.now());
const bruno = contacts.find((contact) => contact.displayName === "Bruno Costa")!;
const chiara = contacts.find((contact) => contact.displayName === "Chiara Rossi")!;
const BRUNO_TALLY = mockHexId("tally:bruno");

function conversationRow(title: string): HTMLElement {
  const row = screen
    .getAllByTestId("chat-conversation")
    .find((entry) => within(entry).getByTestId("chat-conversation-title").textContent === title);
  if (!row) throw new Error(`no conversation with ${title}`);
  return row;
}

/** The app on the Chat screen, with a conversation with Bruno that he opened. */
async function withBrunoWriting(text: string) {
  const backend = new MockBackend();
  const rendered = renderApp({ backend, screen: "chat" });
  await screen.findByTestId("chat-screen");
  act(() => {
    backend.chatBook.receive(bruno.partyId, text);
  });
  await waitFor(() => expect(conversationRow("Bruno Costa")).toBeInTheDocument());
  return { ...rendered, backend };
}

describe("Chat", () => {
  it("is in the sidebar, and teaches the next step when there is no conversation", async () => {
    const { user } = renderApp();
    await user.click(await screen.findByTestId("nav-chat"));
    expect(await screen.findByTestId("chat-empty")).toHaveTextContent("No conversations yet");
    expect(screen.getAllByTestId("chat-start").map((b) => b.textContent)).toContain("Bruno Costa");
  });

  it("lists a conversation with its unread count and presence, and reading it clears the count", async () => {
    const { user } = await withBrunoWriting("Are we still on for Friday?");
    const row = conversationRow("Bruno Costa");
    expect(within(row).getByTestId("chat-unread")).toHaveTextContent("1");
    expect(within(row).getByTestId("chat-presence")).toHaveAttribute("data-online", "true");
    expect(row).toHaveTextContent("Are we still on for Friday?");

    await user.click(row);
    const thread = await screen.findByTestId("chat-thread");
    expect(within(thread).getByTestId("chat-thread-title")).toHaveTextContent("Bruno Costa");
    expect(await within(thread).findByText("Are we still on for Friday?")).toBeInTheDocument();
    expect(within(thread).getAllByTestId("chat-day")).toHaveLength(1);
    await waitFor(() => expect(within(conversationRow("Bruno Costa")).queryByTestId("chat-unread")).toBeNull());
  });

  it("sends a message and shows its receipts as they come: delivered, then read", async () => {
    const { user, backend } = await withBrunoWriting("Hi!");
    await user.click(conversationRow("Bruno Costa"));
    await user.type(await screen.findByTestId("chat-composer"), "See you at nine");
    await user.click(screen.getByTestId("chat-send"));

    const thread = screen.getByTestId("chat-thread");
    const mine = await within(thread).findByText("See you at nine");
    const bubble = mine.closest("[data-testid=chat-message]") as HTMLElement;
    expect(bubble).toHaveAttribute("data-outgoing", "true");
    expect(within(bubble).getByTestId("chat-status")).toHaveAttribute("data-status", "pending");
    expect(screen.getByTestId("chat-composer")).toHaveValue("");

    const id = bubble.getAttribute("data-message-id")!;
    const conversation = backend.chatBook.list()[0]!.id;
    act(() => backend.chatBook.acknowledge(conversation, id, "delivered"));
    await waitFor(() => expect(within(bubble).getByTestId("chat-status")).toHaveAttribute("data-status", "delivered"));
    act(() => backend.chatBook.acknowledge(conversation, id, "read"));
    await waitFor(() => expect(within(bubble).getByTestId("chat-status")).toHaveAttribute("data-status", "read"));
  });

  it("shows when the other party is typing, and stops when their message arrives", async () => {
    const { user, backend } = await withBrunoWriting("One moment");
    await user.click(conversationRow("Bruno Costa"));
    await screen.findByTestId("chat-thread");
    const conversation = backend.chatBook.list()[0]!.id;
    act(() => backend.chatBook.type(conversation, bruno.partyId, true));
    await waitFor(() => expect(screen.getByTestId("chat-typing")).toHaveTextContent("Bruno Costa is typing…"));
    act(() => {
      backend.chatBook.receive(bruno.partyId, "Done");
    });
    await waitFor(() => expect(screen.getByTestId("chat-typing")).toHaveTextContent(""));
  });

  it("pays a payment request from the thread: the tally gets the chit and the request shows paid", async () => {
    const { user, backend } = await withBrunoWriting("Lunch was 4.5");
    const request = await act(async () =>
      backend.chatBook.receive(bruno.partyId, {
        kind: "paymentRequest",
        tallyId: BRUNO_TALLY,
        units: 4_500,
        amount: "4.500 CHIP",
        memo: "Lunch",
        paidChit: null,
      }),
    );
    await user.click(conversationRow("Bruno Costa"));
    const card = await screen.findByTestId("chat-payment-request");
    expect(card).toHaveTextContent("Asks you to pay 4.500 CHIP");
    const before = (await backend.chits(BRUNO_TALLY, null, 50)).chits.length;
    await user.click(within(card).getByTestId("chat-pay"));

    await waitFor(() => expect(screen.getByTestId("chat-payment-request")).toHaveAttribute("data-paid", "true"));
    expect(await screen.findByTestId("chat-payment")).toHaveTextContent("You paid 4.500 CHIP");
    const chits = (await backend.chits(BRUNO_TALLY, null, 50)).chits;
    expect(chits.length).toBe(before + 1);
    expect(chits[0]!.units).toBe(-4_500);
    expect(request.id).toBeTruthy();
  });

  it("asks for a payment on a tally both hold", async () => {
    const { user } = await withBrunoWriting("Hello");
    await user.click(conversationRow("Bruno Costa"));
    await user.click(await screen.findByTestId("chat-request-open"));
    const dialog = await screen.findByTestId("chat-request-dialog");
    await user.type(within(dialog).getByTestId("chat-request-amount"), "2.5");
    await user.type(within(dialog).getByTestId("chat-request-memo"), "Coffee");
    await user.click(within(dialog).getByTestId("chat-request-send"));
    const card = await screen.findByTestId("chat-payment-request");
    expect(card).toHaveTextContent("You asked for 2.500 CHIP");
    expect(card).toHaveTextContent("Waiting for payment");
  });

  it("makes a group from contacts and opens it", async () => {
    const { user } = renderApp({ screen: "chat" });
    await user.click(await screen.findByTestId("chat-new-group"));
    const dialog = await screen.findByTestId("chat-group-dialog");
    await user.type(within(dialog).getByTestId("chat-group-name"), "Market stall");
    for (const member of [bruno, chiara]) {
      const box = within(dialog)
        .getAllByTestId("chat-group-member")
        .find((entry) => entry.getAttribute("data-party-id") === member.partyId)!;
      await user.click(box);
    }
    await user.click(within(dialog).getByTestId("chat-group-create"));
    const thread = await screen.findByTestId("chat-thread");
    expect(within(thread).getByTestId("chat-thread-title")).toHaveTextContent("Market stall");
    expect(thread).toHaveTextContent("3 members");
  });

  it("opens the verified party ids from the E2E badge", async () => {
    const { user } = await withBrunoWriting("Hello");
    await user.click(conversationRow("Bruno Costa"));
    await user.click(await screen.findByTestId("chat-e2e-badge"));
    const dialog = await screen.findByTestId("chat-e2e-dialog");
    expect(within(dialog).getByTestId("chat-e2e-party-id")).toHaveTextContent(bruno.partyId);
  });

  it("refuses an empty message with the node's words and keeps what was typed", async () => {
    const backend = new MockBackend();
    renderApp({ backend, screen: "chat" });
    await screen.findByTestId("chat-screen");
    await expect(backend.chatSend(bruno.partyId, "   ")).rejects.toThrow("an empty message");
    await expect(backend.chatSend(bruno.partyId, "x".repeat(4_097))).rejects.toThrow("4096 bytes");
  });

  it("tells of a new message with a toast while another screen is open, once, and marks it told", async () => {
    vi.spyOn(document, "hasFocus").mockReturnValue(true);
    const backend = new MockBackend();
    renderApp({ backend, screen: "home" });
    await screen.findByTestId("home-screen");
    act(() => {
      backend.chatBook.receive(bruno.partyId, "The stall opens at eight");
    });
    expect(await screen.findByTestId("toast")).toHaveTextContent("Bruno Costa wrote — The stall opens at eight");
    await waitFor(async () => expect(await backend.chatPendingNotifications()).toEqual([]));
    vi.restoreAllMocks();
  });

  it("speaks Spanish", async () => {
    renderApp({ screen: "chat", language: "es" });
    expect(await screen.findByTestId("chat-empty")).toHaveTextContent("Aún no hay conversaciones");
  });
});
