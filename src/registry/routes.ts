import { visibleTo } from "../core/visibility.js";
import type { FastifyInstance } from "fastify";
import { decodePageToken } from "../core/page-token.js";
import { type Message, optBool, optString, parseMaxResults, reqString, stringList } from "../core/validate.js";
import { type Endpoint, nextPage, registerEndpoints, searchTerms } from "../server/mlflow-endpoints.js";
import type { RegistryService } from "./service.js";
import {
  LIMITS,
  parseAlias,
  parseDescription,
  parseModelName,
  parseRunId,
  parseRunLink,
  parseTag,
  parseTagKey,
  parseTags,
  parseVersion,
} from "./validation.js";

/** Proto3 JSON leaves out empty repeated fields: an empty search answers `{}`, as MLflow's server does. */
function list<K extends string>(field: K, items: unknown[]): Partial<Record<K, unknown[]>> {
  return items.length ? ({ [field]: items } as Record<K, unknown[]>) : {};
}

const ok = async (write: Promise<void>) => {
  await write;
  return {};
};

function nameAndVersion(m: Message): [string, number] {
  const name = parseModelName(m);
  return [name, parseVersion(m, name)];
}

/** Every MLflow model registry endpoint, as one table; registered under /api/2.0/mlflow and /ajax-api/2.0/mlflow. */
export function registryEndpoints(svc: RegistryService): Endpoint[] {
  return [
    {
      methods: ["POST"],
      path: "/registered-models/create",
      handler: async (m) => ({ registered_model: await svc.createModel(parseModelName(m), parseDescription(m), parseTags(m)) }),
    },
    { methods: ["GET"], path: "/registered-models/get", handler: async (m) => ({ registered_model: await svc.getModel(parseModelName(m)) }) },
    {
      methods: ["POST"],
      path: "/registered-models/rename",
      handler: async (m) => ({ registered_model: await svc.renameModel(parseModelName(m), parseModelName(m, "new_name")) }),
    },
    {
      methods: ["PATCH"],
      path: "/registered-models/update",
      handler: async (m) => ({ registered_model: await svc.updateModel(parseModelName(m), parseDescription(m)) }),
    },
    { methods: ["DELETE"], path: "/registered-models/delete", handler: (m) => ok(svc.deleteModel(parseModelName(m))) },
    {
      methods: ["GET"],
      path: "/registered-models/search",
      handler: async (m) => {
        const limit = parseMaxResults(m, "max_results", LIMITS.searchModelsDefault, LIMITS.searchModelsMax);
        const page = await svc.searchModels({ ...searchTerms(m), offset: decodePageToken(optString(m, "page_token")), limit, visible: await visibleTo("registered_model") });
        return { ...list("registered_models", page.items), ...nextPage(page.nextOffset) };
      },
    },
    {
      methods: ["GET", "POST"],
      path: "/registered-models/get-latest-versions",
      handler: async (m) => list("model_versions", await svc.latestVersions(parseModelName(m), stringList(m, "stages"))),
    },
    { methods: ["POST"], path: "/registered-models/set-tag", handler: (m) => ok(svc.setModelTag(parseModelName(m), parseTag(m))) },
    { methods: ["DELETE"], path: "/registered-models/delete-tag", handler: (m) => ok(svc.deleteModelTag(parseModelName(m), parseTagKey(m))) },
    {
      methods: ["POST"],
      path: "/registered-models/alias",
      handler: (m) => {
        const [name, version] = nameAndVersion(m);
        return ok(svc.setAlias(name, parseAlias(m), version));
      },
    },
    { methods: ["DELETE"], path: "/registered-models/alias", handler: (m) => ok(svc.deleteAlias(parseModelName(m), parseAlias(m))) },
    { methods: ["GET"], path: "/registered-models/alias", handler: async (m) => ({ model_version: await svc.versionByAlias(parseModelName(m), parseAlias(m)) }) },
    {
      methods: ["POST"],
      path: "/model-versions/create",
      handler: async (m) => ({
        model_version: await svc.createVersion({
          name: parseModelName(m),
          source: reqString(m, "source"),
          runId: parseRunId(m),
          runLink: parseRunLink(m),
          description: parseDescription(m),
          tags: parseTags(m),
        }),
      }),
    },
    { methods: ["GET"], path: "/model-versions/get", handler: async (m) => ({ model_version: await svc.getVersion(...nameAndVersion(m)) }) },
    {
      methods: ["PATCH"],
      path: "/model-versions/update",
      handler: async (m) => ({ model_version: await svc.updateVersion(...nameAndVersion(m), parseDescription(m)) }),
    },
    { methods: ["DELETE"], path: "/model-versions/delete", handler: (m) => ok(svc.deleteVersion(...nameAndVersion(m))) },
    {
      methods: ["POST"],
      path: "/model-versions/transition-stage",
      handler: async (m) => ({
        model_version: await svc.transitionStage(...nameAndVersion(m), reqString(m, "stage"), optBool(m, "archive_existing_versions") ?? false),
      }),
    },
    {
      methods: ["GET"],
      path: "/model-versions/search",
      handler: async (m) => {
        const limit = parseMaxResults(m, "max_results", LIMITS.searchVersionsDefault, LIMITS.searchVersionsMax);
        const page = await svc.searchVersions({ ...searchTerms(m), offset: decodePageToken(optString(m, "page_token")), limit, visible: await visibleTo("registered_model") });
        return { ...list("model_versions", page.items), ...nextPage(page.nextOffset) };
      },
    },
    { methods: ["GET"], path: "/model-versions/get-download-uri", handler: async (m) => ({ artifact_uri: await svc.downloadUri(...nameAndVersion(m)) }) },
    {
      methods: ["POST"],
      path: "/model-versions/set-tag",
      handler: (m) => {
        const [name, version] = nameAndVersion(m);
        return ok(svc.setVersionTag(name, version, parseTag(m)));
      },
    },
    {
      methods: ["DELETE"],
      path: "/model-versions/delete-tag",
      handler: (m) => {
        const [name, version] = nameAndVersion(m);
        return ok(svc.deleteVersionTag(name, version, parseTagKey(m)));
      },
    },
  ];
}

export async function registerRegistryRoutes(app: FastifyInstance, svc: RegistryService): Promise<void> {
  await registerEndpoints(app, registryEndpoints(svc));
}
