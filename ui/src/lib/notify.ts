/**
 * System notifications, through one door. Today this is the Web Notification
 * API, which the desktop webview offers; the Rust side can later take over
 * (the Tauri notification plugin) by changing only this file.
 */

export interface SystemNotice {
  title: string;
  body: string;
  /** Notices with the same tag replace each other (one per tally). */
  tag?: string;
}

function api(): typeof Notification | null {
  return typeof window !== "undefined" && "Notification" in window ? window.Notification : null;
}

/** Whether the window is in front of the person, so a notice in the window is enough. */
export function windowInFront(): boolean {
  if (typeof document === "undefined") return false;
  return document.visibilityState === "visible" && document.hasFocus();
}

/**
 * Shows a system notification, asking for permission the first time.
 * Resolves to whether it was shown; `onClick` runs when the person clicks it.
 */
export async function notify(notice: SystemNotice, onClick?: () => void): Promise<boolean> {
  const Api = api();
  if (!Api) return false;
  let permission = Api.permission;
  if (permission === "default") {
    try {
      permission = await Api.requestPermission();
    } catch {
      return false;
    }
  }
  if (permission !== "granted") return false;
  try {
    const shown = new Api(notice.title, { body: notice.body, tag: notice.tag });
    shown.onclick = () => {
      window.focus();
      onClick?.();
      shown.close();
    };
    return true;
  } catch {
    return false;
  }
}
