/**
 * Runs first, before React and the app's modules are evaluated (about 50 ms on a slow machine): a deep
 * link's page code and its first data start loading now rather than after the first render.
 */
import { auth } from "./lib/api";
import { startEarly } from "./lib/early";
import { isLazyPage, pageModules } from "./lib/page-modules";
import { route } from "./lib/routes";

const r = route(window.location.pathname);
if (isLazyPage(r.page)) void pageModules[r.page]().catch(() => undefined);
if (r.page === "run") {
  const { runId } = r;
  startEarly(`run:${runId}`, () => auth.get().client.getRun(runId));
}
