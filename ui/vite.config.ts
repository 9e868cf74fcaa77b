import { fileURLToPath, URL } from "node:url";
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The Tauri shell loads `dist/` from disk and the dev server from port 1420
// (see tauri.conf.json). The app runs under a strict CSP with no remote
// content, so everything — fonts included — is bundled.
export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    watch: { ignored: ["**/src-tauri/**", "**/target/**"] },
  },
  preview: { port: 4173, strictPort: true },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: ["es2022", "safari16", "chrome111", "firefox128"],
    sourcemap: false,
    // Keep assets as files: the CSP allows `data:` images only for the QR codes and camera
    // previews the node renders.
    assetsInlineLimit: 0,
    // The bundle is read from disk inside the app, never over a network: the web's 500 kB hint
    // does not apply. A bundle past 1 MB would still deserve a look.
    chunkSizeWarningLimit: 1024,
  },
});
