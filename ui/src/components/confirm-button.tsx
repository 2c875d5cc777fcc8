/**
 * A destructive action in two steps: the first press asks, the second does it; Escape or "Cancel" backs out.
 * Focus moves to the confirming button, so a keyboard user confirms with a second Enter.
 */
import { type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from "react";

export function ConfirmButton({ children, confirm, question, onConfirm, disabled }: { children: ReactNode; confirm: ReactNode; question?: ReactNode; onConfirm(): void; disabled?: boolean }) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" className="secondary" onClick={() => setAsking(true)} disabled={disabled}>
        {children}
      </button>
    );
  }
  const onEscape = (e: KeyboardEvent) => {
    if (e.key === "Escape") setAsking(false);
  };
  return (
    <span className="confirm">
      {question && <span>{question} </span>}
      <button
        ref={yes}
        type="button"
        className="danger"
        disabled={disabled}
        onKeyDown={onEscape}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirm}
      </button>{" "}
      <button type="button" className="secondary" onKeyDown={onEscape} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
