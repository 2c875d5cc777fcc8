/**
 * The pages whose code loads on demand (charts, the registry, serving and admin), by route name. Shared by
 * the app's lazy pages and boot.ts, which starts a deep link's page loading before React has started.
 */
export const pageModules = {
  run: () => import("../pages/run-page"),
  compare: () => import("../pages/compare-page"),
  models: () => import("../pages/models/models-page"),
  model: () => import("../pages/models/model-page"),
  deployments: () => import("../pages/deployments/deployments-page"),
  deployment: () => import("../pages/deployments/deployment-page"),
  admin: () => import("../pages/admin/admin-page"),
  audit: () => import("../pages/admin/audit-page"),
} as const;

export type LazyPageName = keyof typeof pageModules;

export function isLazyPage(page: string): page is LazyPageName {
  return page in pageModules;
}
