/**
 * CSV as MLflow's scoring server reads it (pandas.read_csv): a header row of column names, then one row per
 * record; RFC 4180 quoting ("a, b", doubled "" inside quotes); LF or CRLF line ends; blank lines skipped.
 */
import { badInput } from "./errors.js";

export interface CsvTable {
  columns: string[];
  rows: string[][];
}

export function parseCsv(text: string): CsvTable {
  const records: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let fieldStarted = false;
  let rowQuoted = false;
  const endField = () => {
    row.push(field);
    field = "";
    fieldStarted = false;
  };
  const endRow = () => {
    endField();
    // A blank line is skipped; a line holding only "" is a row with one empty value.
    if (!(row.length === 1 && row[0] === "" && !rowQuoted)) records.push(row);
    row = [];
    rowQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
      rowQuoted = true;
    } else if (c === ",") endField();
    else if (c === "\n") endRow();
    else if (c === "\r" && text[i + 1] === "\n") {
      endRow();
      i++;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw badInput("Malformed CSV: a quoted field is not closed.");
  if (field !== "" || row.length || rowQuoted) endRow();
  if (!records.length) throw badInput("The CSV body is empty: send a header row of column names, then one row per record.");
  const [columns, ...rows] = records;
  rows.forEach((r, i) => {
    if (r.length !== columns.length) throw badInput(`CSV row ${i + 1} has ${r.length} fields; the header has ${columns.length}.`);
  });
  return { columns, rows };
}
