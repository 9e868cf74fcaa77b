import { useCallback, useEffect } from "react";
import { useTranslation } from "react-i18next";
import { currentLanguage, switchLanguage, type Language } from "@/i18n";

export function useLanguage(): { language: Language; setLanguage: (language: Language) => void } {
  const { i18n } = useTranslation();
  const language = currentLanguage(i18n);
  const setLanguage = useCallback((next: Language) => void switchLanguage(i18n, next), [i18n]);
  return { language, setLanguage };
}

/** Keeps `<html lang>` in step with the app's language, for screen readers and hyphenation. */
export function useDocumentLanguage(): void {
  const { language } = useLanguage();
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
}
