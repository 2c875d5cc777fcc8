/**
 * The runs filter: a text field in MLflow's search language with an autocomplete list of the experiment's
 * metric, param and tag keys (ARIA combobox: arrows move, Enter or Tab accepts, Escape closes). Enter with
 * the list closed applies the filter.
 */
import { type KeyboardEvent, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import { type Completion, complete, type KeySets } from "./autocomplete";

export function FilterInput({ value, keys, placeholder, onApply }: { value: string; keys: KeySets; placeholder: string; onApply(filter: string): void }) {
  const [text, setText] = useState(value);
  const [caret, setCaret] = useState(value.length);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const input = useRef<HTMLInputElement>(null);
  const pendingCaret = useRef<number | undefined>(undefined);
  const id = useId();
  const listId = `${id}-list`;

  useEffect(() => setText(value), [value]);

  const completion: Completion | undefined = useMemo(() => (open ? complete(text, caret, keys) : undefined), [open, text, caret, keys]);
  const items = completion?.items ?? [];
  const expanded = items.length > 0;

  useLayoutEffect(() => {
    if (pendingCaret.current !== undefined && input.current) {
      input.current.setSelectionRange(pendingCaret.current, pendingCaret.current);
      pendingCaret.current = undefined;
    }
  });

  const accept = (i: number) => {
    if (!completion) return;
    const s = completion.items[i];
    const next = text.slice(0, completion.from) + s.insert + text.slice(completion.to);
    const at = completion.from + s.insert.length;
    setText(next);
    setCaret(at);
    pendingCaret.current = at;
    setActive(-1);
    // A prefix ("metrics.") leads straight to its keys; a whole key closes the list.
    setOpen(s.kind === "prefix");
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (expanded && e.key === "ArrowDown") {
      e.preventDefault();
      setActive((a) => (a + 1) % items.length);
    } else if (expanded && e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => (a <= 0 ? items.length - 1 : a - 1));
    } else if (expanded && (e.key === "Enter" || e.key === "Tab") && active >= 0) {
      e.preventDefault();
      accept(active);
    } else if (e.key === "Escape" && expanded) {
      e.preventDefault();
      setOpen(false);
      setActive(-1);
    } else if (e.key === "Enter") {
      setOpen(false);
    }
  };

  const syncCaret = () => setCaret(input.current?.selectionStart ?? text.length);

  return (
    <form
      className="filter-form"
      aria-label="Filter runs"
      onSubmit={(e) => {
        e.preventDefault();
        setOpen(false);
        onApply(text.trim());
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        Filter runs
      </label>
      <div className="combo">
        <input
          ref={input}
          id={id}
          className="filter-input"
          type="text"
          role="combobox"
          aria-expanded={expanded}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
          aria-describedby={`${id}-hint`}
          placeholder={placeholder}
          spellCheck={false}
          autoComplete="off"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart ?? e.target.value.length);
            setOpen(true);
            setActive(-1);
          }}
          onKeyDown={onKeyDown}
          onKeyUp={(e) => {
            if (e.key === "ArrowLeft" || e.key === "ArrowRight" || e.key === "Home" || e.key === "End") syncCaret();
          }}
          onClick={() => {
            syncCaret();
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setOpen(false)}
        />
        <span id={`${id}-hint`} className="visually-hidden">
          MLflow search syntax. Suggestions of metric, param and tag keys appear as you type; press Enter to apply.
        </span>
        <div id={listId} role="listbox" aria-label="Filter suggestions" className="combo-list" hidden={!expanded}>
          {items.map((s, i) => (
            // biome-ignore lint/a11y/useKeyWithClickEvents lint/a11y/useFocusableInteractive: in a combobox the keyboard stays in the field and drives the list (aria-activedescendant)
            <div
              key={`${s.kind}:${s.label}`}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : undefined}
              // Keep focus in the field.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => accept(i)}
            >
              <span className={`kind-badge kind-${s.kind}`} aria-hidden="true">
                {s.kind === "prefix" ? "…" : s.kind[0].toUpperCase()}
              </span>
              {s.label}
            </div>
          ))}
        </div>
      </div>
      <button type="submit">Apply</button>
      {value && (
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setText("");
            onApply("");
          }}
        >
          Clear
        </button>
      )}
    </form>
  );
}
