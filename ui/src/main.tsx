import "@fontsource-variable/inter/wght.css";
import "@fontsource-variable/jetbrains-mono/wght.css";
import "./index.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App, AppProviders, createQueryClient } from "./app";
import { createBackend } from "./backend";
import { createI18n } from "./i18n";
import { applyInitialTheme } from "./preferences/theme";

applyInitialTheme();

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

const backend = await createBackend();

createRoot(root).render(
  <StrictMode>
    <AppProviders backend={backend} queryClient={createQueryClient()} i18n={createI18n()}>
      <App />
    </AppProviders>
  </StrictMode>,
);
