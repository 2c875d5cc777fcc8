/**
 * A page (or a heavy component) whose code loads on demand, without Suspense: React holds a revealed Suspense boundary back for
 * ~300 ms after its fallback shows (to avoid flicker), which would be most of a chart page's load time.
 */
import { type ComponentType, useEffect, useState } from "react";
import { ErrorBanner } from "../components/error-banner";

export function lazyPage<P extends object>(
  load: () => Promise<{ default: ComponentType<P> }>,
  fallback: () => React.ReactNode = () => <p className="page muted">Loading…</p>,
): ComponentType<P> & { preload(): void } {
  let loaded: ComponentType<P> | undefined;
  let failed: unknown;
  let pending: Promise<void> | undefined;
  const start = () => {
    pending ??= load().then(
      (m) => {
        loaded = m.default;
      },
      (err) => {
        failed = err;
      },
    );
    return pending;
  };
  // biome-ignore lint/correctness/noComponentHookFactories: a factory called once per page at module level, as React.lazy is
  function LazyPage(props: P) {
    const [, rerender] = useState(0);
    // Always wait on the load here: a cached chunk can finish between this render (which showed
    // "Loading…") and this effect, and nothing else would render the page then.
    useEffect(() => {
      let mounted = true;
      void start().then(() => {
        if (mounted) rerender((n) => n + 1);
      });
      return () => {
        mounted = false;
      };
    }, []);
    if (loaded) {
      const Page = loaded;
      return <Page {...props} />;
    }
    if (failed !== undefined) return <ErrorBanner error={failed} what="Cannot load this page (was the server upgraded? reload)" />;
    void start();
    return fallback();
  }
  /** Starts loading the code now (the address already names the page). */
  LazyPage.preload = () => void start();
  return LazyPage;
}
