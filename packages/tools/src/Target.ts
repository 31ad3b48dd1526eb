/**
 * Where a command works: the embedded local stack (the default) or a real AWS account. Each target is
 * a set of variables (`Environment`): the local one fills in DynamoDB Local's endpoint and region, the
 * AWS one resolves the region once (`Region.resolve`) and leaves endpoints and credentials to the SDK's
 * default chain. `--region` and `--prefix` override the environment.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Deployment from "@dyna/aws/Deployment"
import * as Environment from "@dyna/aws/Environment"
import * as LocalConfig from "./local/LocalConfig.js"
import * as Region from "./Region.js"

export const Target = Schema.Literals(["local", "aws"])
export type Target = typeof Target.Type

export interface Options {
  readonly target: Target
  readonly region?: string | undefined
  /** Put before every resource name (`--prefix dev-` → `dev-CustTransactions`, …). */
  readonly prefix?: string | undefined
}

/**
 * The variables a command runs with on this target, as given, over `environment`: on AWS the region may
 * still be missing here; {@link configure} resolves it.
 */
export const variables = (options: Options, environment: Environment.Variables = process.env): Environment.Variables => {
  // On AWS the names always follow the prefix (what provision created); locally only when one is given,
  // else the environment's (`Tables` reads them, defaulting to the Jam's).
  const tableNames = options.target === "aws" || options.prefix !== undefined
    ? Deployment.tableEnvironment(Deployment.names(options.prefix))
    : {}
  const flags = { ...tableNames, ...(options.region === undefined ? {} : { AWS_REGION: options.region }) }
  return Environment.merge(options.target === "local" ? LocalConfig.variables(environment) : environment, flags)
}

/**
 * The variables a command runs with, its region resolved once: on AWS as the CLI resolves it
 * (`Region.resolve`), then given to every client as `AWS_REGION`, so none falls back to a region of its
 * own. Fails with `RegionMissing`, before any request, when nothing names one.
 */
export const configure = (options: Options, environment: Environment.Variables = process.env) =>
  options.target === "local"
    ? Effect.succeed(variables(options, environment))
    : Region.resolve.pipe(
      Effect.provide(Environment.layer(variables(options, environment))),
      Effect.map((region) => variables({ ...options, region }, environment))
    )

/** {@link configure} as a layer: what every command's services read their settings from. */
export const layer = (options: Options) => Layer.effect(Environment.Environment, configure(options))
