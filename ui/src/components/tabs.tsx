/**
 * Tabs as WAI-ARIA describes them: one tab stop for the list (the selected tab), arrow keys, Home and End
 * move between tabs and select them; each panel is labelled by its tab.
 */
import { type KeyboardEvent, type ReactNode, useId, useRef } from "react";

export interface Tab<T extends string> {
  id: T;
  label: ReactNode;
}

export function Tabs<T extends string>({ label, tabs, current, onChange, children }: { label: string; tabs: Tab<T>[]; current: T; onChange(id: T): void; children: ReactNode }) {
  const base = useId();
  const list = useRef<HTMLDivElement>(null);
  const move = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === current);
    const next = e.key === "ArrowRight" ? (i + 1) % tabs.length : e.key === "ArrowLeft" ? (i - 1 + tabs.length) % tabs.length : e.key === "Home" ? 0 : e.key === "End" ? tabs.length - 1 : -1;
    if (next < 0) return;
    e.preventDefault();
    onChange(tabs[next].id);
    list.current?.querySelectorAll<HTMLElement>('[role="tab"]')[next]?.focus();
  };
  return (
    <>
      <div className="tabs" role="tablist" aria-label={label} ref={list} onKeyDown={move}>
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`${base}-tab-${t.id}`}
            aria-selected={t.id === current}
            aria-controls={`${base}-panel`}
            tabIndex={t.id === current ? 0 : -1}
            onClick={() => onChange(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${base}-panel`} aria-labelledby={`${base}-tab-${current}`} className="tab-panel">
        {children}
      </div>
    </>
  );
}
