import type { FastifyInstance } from "fastify";
import { optBool, reqString } from "../core/validate.js";
import { type Endpoint, registerEndpoints } from "../server/mlflow-endpoints.js";
import { parseLevel } from "./routes.js";
import type { GovernanceService } from "./service.js";

/**
 * MLflow's auth API (mlflow.server.auth: users and per-experiment / per-model permissions), so
 * `mlflow.server.get_app_client("basic-auth")` scripts work unchanged. Same service as Keel's own API.
 */
export function governanceEndpoints(gov: GovernanceService): Endpoint[] {
  const mlflowUser = async (username: string) => {
    const u = await gov.getUser(username);
    const perms = await gov.userPermissions(username);
    return {
      id: u.user_id,
      username: u.username,
      is_admin: u.is_admin === 1,
      experiment_permissions: perms.experiments.map((g) => ({ experiment_id: String(g.resource_id), user_id: u.user_id, permission: g.permission })),
      registered_model_permissions: perms.models.map((g) => ({ model_id: String(g.resource_id), user_id: u.user_id, permission: g.permission })),
    };
  };
  const experimentPermission = async (experimentId: string, username: string) => {
    const { permission } = await gov.getPermission({ kind: "experiment", id: experimentId }, username);
    return { experiment_permission: { experiment_id: experimentId, user_id: (await gov.getUser(username)).user_id, permission } };
  };
  const modelPermission = async (name: string, username: string) => {
    const { permission } = await gov.getPermission({ kind: "registered_model", name }, username);
    return { registered_model_permission: { name, user_id: (await gov.getUser(username)).user_id, permission } };
  };
  const exp = (m: Record<string, unknown>) => ({ kind: "experiment" as const, id: reqString(m, "experiment_id") });
  const model = (m: Record<string, unknown>) => ({ kind: "registered_model" as const, name: reqString(m, "name") });
  return [
    {
      methods: ["POST"],
      path: "/users/create",
      handler: async (m) => {
        const u = await gov.createUser(reqString(m, "username"), reqString(m, "password"), false);
        return { user: await mlflowUser(u.username) };
      },
    },
    { methods: ["GET"], path: "/users/get", handler: async (m) => ({ user: await mlflowUser(reqString(m, "username")) }) },
    {
      methods: ["PATCH"],
      path: "/users/update-password",
      handler: async (m) => {
        await gov.setPassword(reqString(m, "username"), reqString(m, "password"));
        return {};
      },
    },
    {
      methods: ["PATCH"],
      path: "/users/update-admin",
      handler: async (m) => {
        const isAdmin = optBool(m, "is_admin");
        await gov.setAdmin(reqString(m, "username"), isAdmin ?? false);
        return {};
      },
    },
    {
      methods: ["DELETE"],
      path: "/users/delete",
      handler: async (m) => {
        await gov.deleteUser(reqString(m, "username"));
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/experiments/permissions/create",
      handler: async (m) => {
        await gov.setPermission(exp(m), { user: reqString(m, "username") }, parseLevel(m));
        return experimentPermission(reqString(m, "experiment_id"), reqString(m, "username"));
      },
    },
    { methods: ["GET"], path: "/experiments/permissions/get", handler: async (m) => experimentPermission(reqString(m, "experiment_id"), reqString(m, "username")) },
    {
      methods: ["PATCH"],
      path: "/experiments/permissions/update",
      handler: async (m) => {
        await gov.setPermission(exp(m), { user: reqString(m, "username") }, parseLevel(m));
        return {};
      },
    },
    {
      methods: ["DELETE"],
      path: "/experiments/permissions/delete",
      handler: async (m) => {
        await gov.setPermission(exp(m), { user: reqString(m, "username") }, null);
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/registered-models/permissions/create",
      handler: async (m) => {
        await gov.setPermission(model(m), { user: reqString(m, "username") }, parseLevel(m));
        return modelPermission(reqString(m, "name"), reqString(m, "username"));
      },
    },
    { methods: ["GET"], path: "/registered-models/permissions/get", handler: async (m) => modelPermission(reqString(m, "name"), reqString(m, "username")) },
    {
      methods: ["PATCH"],
      path: "/registered-models/permissions/update",
      handler: async (m) => {
        await gov.setPermission(model(m), { user: reqString(m, "username") }, parseLevel(m));
        return {};
      },
    },
    {
      methods: ["DELETE"],
      path: "/registered-models/permissions/delete",
      handler: async (m) => {
        await gov.setPermission(model(m), { user: reqString(m, "username") }, null);
        return {};
      },
    },
  ];
}

export async function registerMlflowAuthRoutes(app: FastifyInstance, gov: GovernanceService): Promise<void> {
  await registerEndpoints(app, governanceEndpoints(gov));
}
