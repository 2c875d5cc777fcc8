/** The SDK reads `process.env` where it exists (Node, for the CLI); browsers have none. */
declare const process: { env: Record<string, string | undefined> } | undefined;
