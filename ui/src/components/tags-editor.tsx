/**
 * Tags of a registry object: listed with a delete button each, and a form that sets one (a key that exists
 * is overwritten; "Edit" fills the form with it). Errors are the server's own words.
 */
import type { Tag } from "@keel/sdk";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { ConfirmButton } from "./confirm-button";
import { ErrorBanner } from "./error-banner";
import { TableHead } from "./table-head";

export function TagsEditor({ label, tags, onSet, onDelete }: { label: string; tags: Tag[]; onSet(key: string, value: string): Promise<unknown>; onDelete(key: string): Promise<unknown> }) {
  const id = useId();
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const set = useMutation({
    mutationFn: () => onSet(key.trim(), value),
    onSuccess: () => {
      setKey("");
      setValue("");
    },
  });
  const remove = useMutation({ mutationFn: (k: string) => onDelete(k) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (key.trim()) set.mutate();
  };
  const sorted = [...tags].sort((a, b) => a.key.localeCompare(b.key));
  return (
    <div className="tags-editor">
      {sorted.length === 0 ? (
        <p className="muted">No tags.</p>
      ) : (
        <table className="table compact kv" aria-label={label}>
          <TableHead columns={["Key", "Value"]} actions />
          <tbody>
            {sorted.map((t) => (
              <tr key={t.key}>
                <td className="mono">{t.key}</td>
                <td className="mono wrap">{t.value}</td>
                <td className="actions">
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => {
                      setKey(t.key);
                      setValue(t.value);
                      document.getElementById(`${id}-value`)?.focus();
                    }}
                  >
                    Edit <span className="visually-hidden">tag {t.key}</span>
                  </button>{" "}
                  <ConfirmButton confirm={<>Delete tag {t.key}</>} onConfirm={() => remove.mutate(t.key)} disabled={remove.isPending}>
                    Delete <span className="visually-hidden">tag {t.key}</span>
                  </ConfirmButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="toolbar" onSubmit={submit} aria-label={`Set ${label.toLowerCase()}`}>
        <label className="inline">
          Key
          <input type="text" value={key} onChange={(e) => setKey(e.target.value)} />
        </label>
        <label className="inline">
          Value
          <input id={`${id}-value`} type="text" value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <button type="submit" disabled={!key.trim() || set.isPending}>
          Set tag
        </button>
      </form>
      {set.isError && <ErrorBanner error={set.error} what="Cannot set the tag" />}
      {remove.isError && <ErrorBanner error={remove.error} what="Cannot delete the tag" />}
    </div>
  );
}
