/** The node's limit on a display name, in characters. */
export const MAX_DISPLAY_NAME = 64;

/** Why a display name would be refused, as an i18n key, or `null` when it is fine. */
export function displayNameProblem(name: string): "identity.name.empty" | "identity.name.tooLong" | null {
  const chars = [...name.trim()].length;
  if (chars === 0) return "identity.name.empty";
  if (chars > MAX_DISPLAY_NAME) return "identity.name.tooLong";
  return null;
}
