/** The app shell: top bar with navigation, theme switch and the signed-in user; the page for the address. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { auth, useAuth, useClient } from "./lib/api";
import { lazyPage } from "./lib/lazy-page";
import { isLazyPage, pageModules } from "./lib/page-modules";
import { Link, useLocation } from "./lib/router";
import { paths, route } from "./lib/routes";
import { setTheme, useTheme } from "./lib/theme";
import { ExperimentsPage } from "./pages/experiments";
import { RunsPage } from "./pages/runs/runs-page";
import { SignIn } from "./pages/sign-in";

// Charts (uPlot) and the registry, serving and admin pages load on demand, not with the runs table
// (boot.ts starts a deep link's page loading early).
const RunPage = lazyPage(pageModules.run);
const ComparePage = lazyPage(pageModules.compare);
const ModelsPage = lazyPage(pageModules.models);
const ModelPage = lazyPage(pageModules.model);
const DeploymentsPage = lazyPage(pageModules.deployments);
const DeploymentPage = lazyPage(pageModules.deployment);
const AdminPage = lazyPage(pageModules.admin);
const AuditPage = lazyPage(pageModules.audit);
const LAZY = { run: RunPage, compare: ComparePage, models: ModelsPage, model: ModelPage, deployments: DeploymentsPage, deployment: DeploymentPage, admin: AdminPage, audit: AuditPage } as const;

// A deep link's page: boot.ts already asked for its code; taking it now means the first render can show it.
{
  const first = route(window.location.pathname).page;
  if (isLazyPage(first)) LAZY[first].preload();
}

export function App() {
  const { pathname } = useLocation();
  const { needsSignIn } = useAuth();
  const r = route(pathname);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After an in-app navigation, move focus to the new page (screen readers announce it; Tab starts there).
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on every change of page, which is what pathname names
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h1 = main.current?.querySelector<HTMLElement>("h1");
    (h1 ?? main.current)?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [pathname]);

  let page: React.ReactNode;
  if (needsSignIn) page = <SignIn />;
  else if (r.page === "experiments") page = <ExperimentsPage />;
  else if (r.page === "runs") page = <RunsPage key={r.experimentId} experimentId={r.experimentId} />;
  else if (r.page === "run") page = <RunPage key={r.runId} experimentId={r.experimentId} runId={r.runId} />;
  else if (r.page === "compare") page = <ComparePage />;
  else if (r.page === "models") page = <ModelsPage />;
  else if (r.page === "model") page = <ModelPage key={r.name} name={r.name} />;
  else if (r.page === "deployments") page = <DeploymentsPage />;
  else if (r.page === "deployment") page = <DeploymentPage key={r.name} name={r.name} />;
  else if (r.page === "admin") page = <AdminPage />;
  else if (r.page === "audit") page = <AuditPage />;
  else
    page = (
      <div className="page">
        <h1 tabIndex={-1}>Page not found</h1>
        <p>
          Nothing lives at <code>{pathname}</code>. <Link to="/">Go to the experiments</Link>.
        </p>
      </div>
    );

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Keel home">
          <img src="/favicon.svg" alt="" width={22} height={22} />
          Keel
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link to="/" aria-current={r.page === "experiments" || r.page === "runs" || r.page === "run" || r.page === "compare" ? "page" : undefined}>
                Experiments
              </Link>
            </li>
            <li>
              <Link to={paths.models()} aria-current={r.page === "models" || r.page === "model" ? "page" : undefined}>
                Models
              </Link>
            </li>
            <li>
              <Link to={paths.deployments()} aria-current={r.page === "deployments" || r.page === "deployment" ? "page" : undefined}>
                Deployments
              </Link>
            </li>
            {!needsSignIn && <AdminLink current={r.page === "admin" || r.page === "audit"} />}
            <li>
              <a href="/docs">API docs</a>
            </li>
          </ul>
        </nav>
        <span className="grow" />
        {!needsSignIn && <UserMenu />}
        <ThemeToggle />
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

function ThemeToggle() {
  const theme = useTheme();
  const next = theme === "dark" ? "light" : "dark";
  return (
    <button type="button" className="icon-button" onClick={() => setTheme(next)} aria-label={`Switch to ${next} theme`} title={`Switch to ${next} theme`} data-testid="theme-toggle">
      <span aria-hidden="true">{theme === "dark" ? "☀" : "☾"}</span>
    </button>
  );
}

/** Shown to admins of a server with auth on (without auth there is nobody to administer). */
function AdminLink({ current }: { current: boolean }) {
  const client = useClient();
  const me = useQuery({ queryKey: ["whoami"], queryFn: () => client.whoami(), staleTime: 60_000, retry: false });
  if (!me.data?.is_admin || me.data.authenticated_by === "none") return null;
  return (
    <li>
      <Link to={paths.admin()} aria-current={current ? "page" : undefined}>
        Admin
      </Link>
    </li>
  );
}

function UserMenu() {
  const client = useClient();
  const qc = useQueryClient();
  const me = useQuery({ queryKey: ["whoami"], queryFn: () => client.whoami(), staleTime: 60_000, retry: false });
  if (!me.data || me.data.authenticated_by === "none") return null;
  return (
    <span className="user">
      <span>
        <span className="visually-hidden">Signed in as </span>
        {me.data.username}
      </span>
      <button
        type="button"
        className="secondary"
        onClick={async () => {
          await auth.signOut();
          qc.clear();
        }}
      >
        Sign out
      </button>
    </span>
  );
}
