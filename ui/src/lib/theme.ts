/**
 * Light and dark themes: the user's choice (stored), else the system's `prefers-color-scheme`, followed live.
 * The inline script in index.html applies the same rule before the first paint.
 */
import { useSyncExternalStore } from "react";

export type Theme = "light" | "dark";
const KEY = "keel.theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");
const listeners = new Set<() => void>();

function storedChoice(): Theme | undefined {
  try {
    const v = window.localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : undefined;
  } catch {
    return undefined;
  }
}

function current(): Theme {
  return storedChoice() ?? (media.matches ? "dark" : "light");
}

function apply(): void {
  document.documentElement.dataset.theme = current();
  for (const l of listeners) l();
}

media.addEventListener("change", apply);
window.addEventListener("storage", (e) => {
  if (e.key === KEY) apply();
});

export function setTheme(theme: Theme): void {
  try {
    window.localStorage.setItem(KEY, theme);
  } catch {}
  apply();
}

export function useTheme(): Theme {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    current,
  );
}

/** A CSS custom property's value on the root (charts draw with the theme's colors). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
