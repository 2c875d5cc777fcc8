// First: starts a deep link's code and data loading while the rest of the app is evaluated.
import { deepLinkPageLoaded } from "./boot";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app";
import { auth, isUnauthenticated } from "./lib/api";
import "./styles.css";

const queryClient = new QueryClient({
  // Any 401 means the server wants credentials: show the sign-in form.
  queryCache: new QueryCache({
    onError: (err) => {
      if (isUnauthenticated(err)) auth.unauthorized();
    },
  }),
  mutationCache: new MutationCache({
    onError: (err) => {
      if (isUnauthenticated(err)) auth.unauthorized();
    },
  }),
  defaultOptions: {
    queries: {
      // 4xx answers will not change by asking again; network trouble might.
      retry: (count, err) => count < 2 && !(err && typeof err === "object" && "status" in err && Number((err as { status: number }).status) < 500),
      refetchOnWindowFocus: false,
    },
  },
});

// A deep link to a page whose code loads on demand: render once that code is in, so the first render is the
// page itself, not "Loading…" and a second render (its chunk imports this bundle, so it cannot be evaluated
// before this module finishes; boot.ts has already fetched it).
void deepLinkPageLoaded.then(() =>
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  ),
);
