/**
 * Administration, for admins of a server with auth on: users, your API tokens, and who may access each
 * experiment, model and deployment. The audit log has its own page. The tab lives in the address.
 */
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { type Tab, Tabs } from "../../components/tabs";
import { useClient } from "../../lib/api";
import { Link, navigate, useLocation } from "../../lib/router";
import { paths } from "../../lib/routes";
import { PermissionsPanel } from "./permissions-panel";
import { TokensPanel } from "./tokens-panel";
import { UsersPanel } from "./users-panel";

type AdminTab = "users" | "tokens" | "permissions";
const TABS: Tab<AdminTab>[] = [
  { id: "users", label: "Users" },
  { id: "tokens", label: "My API tokens" },
  { id: "permissions", label: "Permissions" },
];

export default function AdminPage() {
  const client = useClient();
  const { pathname, search } = useLocation();
  const me = useQuery({ queryKey: ["whoami"], queryFn: () => client.whoami(), staleTime: 60_000, retry: false });
  const asked = new URLSearchParams(search).get("tab");
  const tab: AdminTab = TABS.some((t) => t.id === asked) ? (asked as AdminTab) : "users";
  useEffect(() => {
    document.title = "Administration · Keel";
  }, []);

  return (
    <div className="page admin-page">
      <div className="page-head">
        <h1 tabIndex={-1}>Administration</h1>
        <Link to={paths.audit()}>Audit log</Link>
      </div>
      {me.isError && <ErrorBanner error={me.error} what="Cannot tell who you are" />}
      {me.data && me.data.authenticated_by === "none" && (
        <p className="empty">This server runs without auth (everyone is an admin on loopback), so there are no users, tokens or permissions to manage. Start it with --auth to use them.</p>
      )}
      {me.data && me.data.authenticated_by !== "none" && !me.data.is_admin && <p className="empty">Only admins can manage users and permissions. Signed in as {me.data.username}.</p>}
      {me.data?.is_admin && me.data.authenticated_by !== "none" && (
        <Tabs label="Administration" tabs={TABS} current={tab} onChange={(t) => navigate(`${pathname}?tab=${t}`, { replace: true })}>
          {tab === "users" && <UsersPanel me={me.data.username} />}
          {tab === "tokens" && <TokensPanel />}
          {tab === "permissions" && <PermissionsPanel />}
        </Tabs>
      )}
    </div>
  );
}
