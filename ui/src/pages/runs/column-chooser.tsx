/** Which columns the runs table shows: attributes, metrics, params and tags, searchable, in sections. */
import { useState } from "react";
import { Popover } from "../../components/popover";
import { ATTRIBUTE_IDS, column, columnId } from "./columns";
import type { KeySets } from "./autocomplete";

interface Props {
  keys: KeySets;
  shown: string[];
  isDefault: boolean;
  onChange(cols: string[] | undefined): void;
}

export function ColumnChooser({ keys, shown, isDefault, onChange }: Props) {
  return (
    <Popover label="Choose columns" buttonText={`Columns (${shown.length})`}>
      {() => <ChooserPanel keys={keys} shown={shown} isDefault={isDefault} onChange={onChange} />}
    </Popover>
  );
}

function ChooserPanel({ keys, shown, isDefault, onChange }: Props) {
  const [q, setQ] = useState("");
  const shownSet = new Set(shown);
  const match = (s: string) => s.toLowerCase().includes(q.trim().toLowerCase());
  const sections: { title: string; ids: string[] }[] = [
    { title: "Attributes", ids: ATTRIBUTE_IDS },
    { title: "Metrics", ids: keys.metrics.map((k) => columnId("metric", k)) },
    { title: "Parameters", ids: keys.params.map((k) => columnId("param", k)) },
    { title: "Tags", ids: keys.tags.map((k) => columnId("tag", k)) },
  ];
  const toggle = (id: string, on: boolean) => onChange(on ? [...shown, id] : shown.filter((c) => c !== id));
  const setMany = (ids: string[], on: boolean) => {
    const set = new Set(ids);
    onChange(on ? [...shown, ...ids.filter((i) => !shownSet.has(i))] : shown.filter((c) => !set.has(c)));
  };
  return (
    <div className="chooser">
      <div className="chooser-top">
        <label>
          <span className="visually-hidden">Search columns</span>
          <input type="search" placeholder="Search columns" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <button type="button" className="secondary" disabled={isDefault} onClick={() => onChange(undefined)}>
          Reset to default
        </button>
      </div>
      <div className="chooser-sections">
        {sections.map((s) => {
          const ids = s.ids.filter((id) => match(column(id)?.label ?? id));
          if (!ids.length) return null;
          return (
            <fieldset key={s.title}>
              <legend>
                {s.title} <span className="muted">({ids.filter((i) => shownSet.has(i)).length}/{ids.length})</span>
              </legend>
              <div className="chooser-actions">
                <button type="button" className="link" onClick={() => setMany(ids, true)}>
                  Show all
                </button>
                <button type="button" className="link" onClick={() => setMany(ids, false)}>
                  Hide all
                </button>
              </div>
              {ids.slice(0, 500).map((id) => (
                <label key={id} className="check">
                  <input type="checkbox" checked={shownSet.has(id)} onChange={(e) => toggle(id, e.target.checked)} />
                  {column(id)?.label ?? id}
                </label>
              ))}
              {ids.length > 500 && <p className="muted">{ids.length - 500} more: search to narrow the list.</p>}
            </fieldset>
          );
        })}
      </div>
    </div>
  );
}
