import { errorMessage } from "../lib/api";

/** A failed request, in the server's words. */
export function ErrorBanner({ error, what }: { error: unknown; what?: string }) {
  return (
    <div role="alert" className="error-banner">
      {what && <strong>{what}: </strong>}
      {errorMessage(error)}
    </div>
  );
}
