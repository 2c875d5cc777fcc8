/**
 * Fisher's Iris (data/iris.csv, public domain; provenance in data/README.md): read from the package, parsed,
 * and digested the way MLflow identifies a dataset input.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"] as const;
export const IRIS_CLASSES = ["setosa", "versicolor", "virginica"] as const;

export interface Dataset {
  /** Rows of feature values, in IRIS_FEATURES order. */
  x: number[][];
  /** Class index per row (into IRIS_CLASSES). */
  y: number[];
}

/** data/iris.csv in the package: found from src/quickstart/ (tsx, tests) and from dist/ (the bundled CLI). */
export function irisCsvPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = join(dir, "data", "iris.csv");
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error("data/iris.csv is missing from the Keel package.");
}

export function readIrisCsv(): { path: string; text: string } {
  const path = irisCsvPath();
  return { path, text: readFileSync(path, "utf8") };
}

/** Parses the CSV (header row, four numeric columns, then the species); throws naming the line on anything else. */
export function parseIris(text: string): Dataset {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = lines.shift()?.split(",");
  if (header?.join(",") !== [...IRIS_FEATURES, "species"].join(",")) throw new Error(`iris.csv: unexpected header '${header?.join(",")}'.`);
  const x: number[][] = [];
  const y: number[] = [];
  lines.forEach((line, i) => {
    const cells = line.split(",");
    const values = cells.slice(0, 4).map(Number);
    const label = IRIS_CLASSES.indexOf(cells[4] as (typeof IRIS_CLASSES)[number]);
    if (cells.length !== 5 || values.some((v) => !Number.isFinite(v)) || label < 0) throw new Error(`iris.csv line ${i + 2}: '${line}' is not a row of the data set.`);
    x.push(values);
    y.push(label);
  });
  return { x, y };
}

/** MLflow's dataset digest: the first 8 hex characters of an MD5 over the data (here, the file's bytes). */
export function datasetDigest(text: string): string {
  return createHash("md5").update(text).digest("hex").slice(0, 8);
}
