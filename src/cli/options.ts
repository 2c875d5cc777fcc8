import { InvalidArgumentError, Option } from "commander";

/** Shared CLI options: every flag names its KEEL_* variable in --help (commander applies env as the fallback). */
export function intArg(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}.`);
    return n;
  };
}

export const dataOption = () => new Option("--data <dir>", "data directory (SQLite database and artifacts)").env("KEEL_DATA").default("./keel-data");

export const databaseUrlOption = () =>
  new Option("--database-url <url>", "database: postgres://user@host:5432/db, or sqlite:///path.db (default: SQLite in the data dir)").env(
    "KEEL_DATABASE_URL",
  );

export const durabilityOption = () =>
  new Option("--durability <mode>", "SQLite durability: 'normal' survives process crashes; 'full' also power loss")
    .choices(["normal", "full"])
    .env("KEEL_DURABILITY")
    .default("normal");

/** Artifacts: shared by the server and maintenance commands (gc deletes the artifacts of what it removes). */
export const artifactsOption = () =>
  new Option("--artifacts <uri>", "artifact store: a directory, file:///abs/dir, or s3://bucket/prefix (default: <data>/artifacts)").env("KEEL_ARTIFACTS");

export const s3EndpointOption = () =>
  new Option("--s3-endpoint <url>", "S3-compatible endpoint for s3:// artifacts (else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; credentials from the usual AWS_* variables)").env(
    "KEEL_S3_ENDPOINT",
  );
