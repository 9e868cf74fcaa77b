import { act, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MockBackend, sampleNodeState } from "@/backend";
import { renderApp } from "../../../test/render-app";
import { setSystemDark } from "../../../test/match-media";

describe("Settings", () => {
  it("shows the app version, schema version and every storage path in full", async () => {
    const state = sampleNodeState(Date.now());
    const backend = new MockBackend({ status: { schemaVersion: 7, version: "0.3.1" } });
    renderApp({ screen: "settings", backend });

    expect(await screen.findByTestId("settings-screen")).toBeInTheDocument();
    expect(await screen.findByTestId("settings-version")).toHaveTextContent(/^0\.3\.1$/);
    expect(screen.getByTestId("settings-schema-version")).toHaveTextContent(/^7$/);
    expect(screen.getByTestId("settings-data-dir").textContent).toBe(state.dataDir);
    expect(screen.getByTestId("settings-database-path").textContent).toBe(state.databasePath);
    expect(screen.getByTestId("settings-log-dir").textContent).toBe(state.logDir);
    expect(screen.getByRole("button", { name: "Copy log folder path" })).toBeInTheDocument();
  });

  it("shows the error panel when the node can't be reached, and keeps appearance usable", async () => {
    const backend = new MockBackend();
    backend.fail("storage", "database is locked");
    renderApp({ screen: "settings", backend });

    expect(await screen.findByTestId("status-error")).toHaveTextContent("couldn't read or write its data folder");
    expect(screen.getByTestId("theme-dark")).toBeEnabled();
  });

  it("switches to dark and back, and remembers the choice", async () => {
    const { user } = renderApp({ screen: "settings" });
    const root = document.documentElement;
    expect(screen.getByTestId("theme-system")).toHaveAttribute("data-state", "on");
    expect(root).not.toHaveClass("dark");

    await user.click(screen.getByTestId("theme-dark"));
    expect(root).toHaveClass("dark");
    expect(screen.getByTestId("theme-dark")).toHaveAttribute("data-state", "on");
    expect(screen.getByTestId("theme-dark")).toHaveAttribute("aria-checked", "true");
    expect(screen.getByTestId("theme-system")).toHaveAttribute("data-state", "off");
    expect(window.localStorage.getItem("tallymesh.theme")).toBe("dark");

    await user.click(screen.getByTestId("theme-light"));
    expect(root).not.toHaveClass("dark");
    expect(window.localStorage.getItem("tallymesh.theme")).toBe("light");

    // Clicking the active choice keeps it: a segmented control always has one.
    await user.click(screen.getByTestId("theme-light"));
    expect(screen.getByTestId("theme-light")).toHaveAttribute("data-state", "on");
  });

  it("starts from the remembered theme", () => {
    window.localStorage.setItem("tallymesh.theme", "dark");
    renderApp({ screen: "settings" });
    expect(document.documentElement).toHaveClass("dark");
    expect(screen.getByTestId("theme-dark")).toHaveAttribute("data-state", "on");
  });

  it("on System, follows the OS live; on Light, ignores it", async () => {
    const { user } = renderApp({ screen: "settings" });
    const root = document.documentElement;
    expect(root).not.toHaveClass("dark");

    act(() => setSystemDark(true));
    expect(root).toHaveClass("dark");
    act(() => setSystemDark(false));
    expect(root).not.toHaveClass("dark");

    await user.click(screen.getByTestId("theme-light"));
    act(() => setSystemDark(true));
    expect(root).not.toHaveClass("dark");

    await user.click(screen.getByTestId("theme-system"));
    expect(root).toHaveClass("dark");
  });

  it("switching to Español changes the visible strings, the document language and the saved choice", async () => {
    const { user } = renderApp({ screen: "settings" });
    await screen.findByTestId("settings-version");
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Settings");
    expect(screen.getByTestId("language-en")).toHaveAttribute("data-state", "on");

    await user.click(screen.getByTestId("language-es"));

    await waitFor(() => expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Ajustes"));
    expect(screen.getByTestId("nav-home")).toHaveTextContent("Inicio");
    expect(screen.getByTestId("theme-dark")).toHaveTextContent("Oscuro");
    expect(screen.getByTestId("language-es")).toHaveAttribute("data-state", "on");
    expect(document.documentElement.lang).toBe("es");
    expect(window.localStorage.getItem("tallymesh.language")).toBe("es");
  });
});
