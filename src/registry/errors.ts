import { invalidParam, notFound } from "../core/errors.js";

/** MLflow's messages for missing registry entities, in one place for the store and the service. */
export const modelNotFound = (name: string) => notFound(`Registered Model with name=${name} not found`);
export const versionNotFound = (name: string, version: number | string) => notFound(`Model Version (name=${name}, version=${version}) not found`);
/** MLflow answers a missing alias with 400, not 404 (the stock client relies on the code). */
export const aliasNotFound = (name: string, alias: string) => invalidParam(`Registered model alias ${alias} not found for model ${name}.`);
