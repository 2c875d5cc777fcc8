/**
 * CSV (RFC 4180) for previews: quoted fields with doubled quotes, delimiters and line breaks inside quotes,
 * CRLF or LF. Stops after `maxRows` rows, saying so, so a big file's preview stays cheap.
 */
export interface ParsedCsv {
  rows: string[][];
  /** More rows followed the last one returned. */
  truncated: boolean;
}

export function parseCsv(text: string, opts: { delimiter?: string; maxRows?: number } = {}): ParsedCsv {
  const delim = opts.delimiter ?? ",";
  const maxRows = opts.maxRows ?? Number.POSITIVE_INFINITY;
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  // A byte-order mark is not part of the first header.
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const endRow = () => {
    row.push(field);
    field = "";
    rows.push(row);
    row = [];
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
      continue;
    }
    if (ch === '"' && field === "") quoted = true;
    else if (ch === delim) {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRow();
      if (rows.length === maxRows) return { rows, truncated: i + 1 < text.length };
    } else field += ch;
  }
  if (field !== "" || row.length > 0) endRow();
  return { rows, truncated: false };
}

/** Tab-separated files preview as tables too. */
export function delimiterFor(name: string): string {
  return /\.tsv$/i.test(name) ? "\t" : ",";
}
