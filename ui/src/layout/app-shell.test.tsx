import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderApp } from "../../test/render-app";

describe("App layout", () => {
  it("lists only the screens that work: Home, Tallies, Chat, Contacts, Trust, Network and Settings, in that order, with the product name", () => {
    renderApp();
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(within(nav).getAllByRole("link").map((link) => link.getAttribute("data-testid"))).toEqual([
      "nav-home",
      "nav-tallies",
      "nav-chat",
      "nav-contacts",
      "nav-trust",
      "nav-network",
      "nav-settings",
    ]);
    expect(screen.getByTestId("nav-home")).toHaveTextContent("Home");
    expect(screen.getByTestId("nav-tallies")).toHaveTextContent("Tallies");
    expect(screen.getByTestId("nav-chat")).toHaveTextContent("Chat");
    expect(screen.getByTestId("nav-contacts")).toHaveTextContent("Contacts");
    expect(screen.getByTestId("nav-trust")).toHaveTextContent("Trust");
    expect(screen.getByTestId("nav-network")).toHaveTextContent("Network");
    expect(screen.getByTestId("nav-settings")).toHaveTextContent("Settings");
    expect(screen.getByText("Tallymesh")).toBeInTheDocument();
  });

  it("opens on Home and marks it as the current page", () => {
    renderApp();
    expect(screen.getByTestId("home-screen")).toBeInTheDocument();
    expect(screen.getByTestId("nav-home")).toHaveAttribute("aria-current", "page");
  });

  it("navigates when a nav entry is clicked", async () => {
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-settings"));
    expect(await screen.findByTestId("settings-screen")).toBeInTheDocument();
    expect(window.location.hash).toBe("#/settings");
    expect(screen.getByTestId("nav-settings")).toHaveAttribute("aria-current", "page");
  });

  it("Ctrl+2 opens Tallies, Ctrl+3 Chat, Ctrl+4 Contacts, Ctrl+5 Trust, Ctrl+6 Network, Ctrl+7 Settings and Ctrl+1 goes back Home; Cmd works too", async () => {
    renderApp();
    fireEvent.keyDown(window, { key: "2", code: "Digit2", ctrlKey: true });
    expect(await screen.findByTestId("tallies-screen")).toBeInTheDocument();
    expect(window.location.hash).toBe("#/tallies");

    fireEvent.keyDown(window, { key: "3", code: "Digit3", ctrlKey: true });
    expect(await screen.findByTestId("chat-screen")).toBeInTheDocument();
    expect(window.location.hash).toBe("#/chat");

    fireEvent.keyDown(window, { key: "4", code: "Digit4", ctrlKey: true });
    expect(await screen.findByTestId("contacts-screen")).toBeInTheDocument();
    expect(window.location.hash).toBe("#/contacts");

    fireEvent.keyDown(window, { key: "5", code: "Digit5", ctrlKey: true });
    expect(await screen.findByTestId("trust-screen")).toBeInTheDocument();
    expect(window.location.hash).toBe("#/trust");

    fireEvent.keyDown(window, { key: "6", code: "Digit6", ctrlKey: true });
    expect(await screen.findByTestId("network-screen")).toBeInTheDocument();
    expect(window.location.hash).toBe("#/network");

    fireEvent.keyDown(window, { key: "7", code: "Digit7", ctrlKey: true });
    expect(await screen.findByTestId("settings-screen")).toBeInTheDocument();

    fireEvent.keyDown(window, { key: "1", code: "Digit1", ctrlKey: true });
    expect(await screen.findByTestId("home-screen")).toBeInTheDocument();

    fireEvent.keyDown(window, { key: "6", code: "Digit6", metaKey: true });
    expect(await screen.findByTestId("network-screen")).toBeInTheDocument();
    fireEvent.keyDown(window, { key: "7", code: "Digit7", metaKey: true });
    expect(await screen.findByTestId("settings-screen")).toBeInTheDocument();
    // A hang guard: it renders every screen in turn, slow on a busy machine.
  }, 30_000);

  it("announces each entry's shortcut, Tallies' being Ctrl/Cmd+2, Chat's Ctrl/Cmd+3, Trust's Ctrl/Cmd+5 and Settings' Ctrl/Cmd+7", () => {
    renderApp();
    expect(screen.getByTestId("nav-tallies")).toHaveAttribute("aria-keyshortcuts", "Control+2 Meta+2");
    expect(screen.getByTestId("nav-chat")).toHaveAttribute("aria-keyshortcuts", "Control+3 Meta+3");
    expect(screen.getByTestId("nav-contacts")).toHaveAttribute("aria-keyshortcuts", "Control+4 Meta+4");
    expect(screen.getByTestId("nav-trust")).toHaveAttribute("aria-keyshortcuts", "Control+5 Meta+5");
    expect(screen.getByTestId("nav-network")).toHaveAttribute("aria-keyshortcuts", "Control+6 Meta+6");
    expect(screen.getByTestId("nav-settings")).toHaveAttribute("aria-keyshortcuts", "Control+7 Meta+7");
  });

  it("ignores a digit without Ctrl/Cmd, and Ctrl with a number past the last screen", async () => {
    renderApp();
    fireEvent.keyDown(window, { key: "2", code: "Digit2" });
    fireEvent.keyDown(window, { key: "8", code: "Digit8", ctrlKey: true });
    expect(screen.getByTestId("home-screen")).toBeInTheDocument();
  });

  it("collapses the sidebar to icons, keeps entries named, and remembers it", async () => {
    const { user } = renderApp();
    await user.click(screen.getByRole("button", { name: "Collapse sidebar" }));

    expect(screen.getByRole("button", { name: "Expand sidebar" })).toHaveAttribute("aria-expanded", "false");
    expect(screen.getByTestId("nav-settings")).toHaveAccessibleName("Settings");
    expect(screen.getByTestId("nav-settings")).not.toHaveTextContent("Settings");
    expect(window.localStorage.getItem("tallymesh.sidebarCollapsed")).toBe("true");

    fireEvent.keyDown(window, { key: "b", code: "KeyB", ctrlKey: true });
    expect(screen.getByRole("button", { name: "Collapse sidebar" })).toBeInTheDocument();
  });

  it("opens the screen named in the address", () => {
    renderApp({ screen: "settings" });
    expect(screen.getByTestId("settings-screen")).toBeInTheDocument();
  });
});
