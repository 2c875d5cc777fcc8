/**
 * Runs first, before React and the app's modules are evaluated (about 50 ms on a slow machine): a deep
 * link's page code and its first data start loading now rather than after the first render.
 */
import { auth } from "./lib/api";
import { startEarly } from "./lib/early";
import { isLazyPage, pageModules } from "./lib/page-modules";
import { route } from "./lib/routes";

const r = route(window.location.pathname);
/** A deep link's page code is in (at once for pages in the main bundle; a failure shows on the page itself). */
export const deepLinkPageLoaded: Promise<void> = isLazyPage(r.page)
  ? pageModules[r.page]().then(
      () => undefined,
      () => undefined,
    )
  : Promise.resolve();
if (r.page === "run") {
  const { runId } = r;
  startEarly(`run:${runId}`, () => auth.get().client.getRun(runId));
}
