/**
 * Where a command works: the embedded local stack (the default) or a real AWS account. Each target
 * is a configuration: the local one fills in DynamoDB Local's endpoint and region, the AWS one resolves
 * the region once (`Region.resolve`) and leaves endpoints and credentials to the SDK's default chain.
 * `--region` and `--prefix` override the environment.
 */
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Deployment from "@dyna/aws/Deployment"
import { LOCAL_REGION } from "@dyna/aws/DynamoDb"
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
 * The configuration a command runs with on this target, as given: on AWS the region may still be
 * missing here; {@link configure} resolves it.
 */
export const provider = (options: Options): ConfigProvider.ConfigProvider => {
  // On AWS the names always follow the prefix (what provision created); locally only when one is given,
  // else the environment's (`Tables` reads them, defaulting to the Jam's).
  const tableNames = options.target === "aws" || options.prefix !== undefined
    ? Deployment.tableEnvironment(Deployment.names(options.prefix))
    : {}
  const flags = { ...tableNames, ...(options.region === undefined ? {} : { AWS_REGION: options.region }) }
  return ConfigProvider.fromUnknown(flags).pipe(
    ConfigProvider.orElse(
      options.target === "local"
        // DynamoDB Local runs with -sharedDb: any region reaches the one database.
        ? LocalConfig.provider.pipe(ConfigProvider.orElse(ConfigProvider.fromUnknown({ AWS_REGION: LOCAL_REGION })))
        : ConfigProvider.fromEnv()
    )
  )
}

/**
 * The configuration a command runs with, its region resolved once: on AWS as the CLI resolves it
 * (`Region.resolve`), then given to every client as `AWS_REGION`, so none falls back to a region of its
 * own. Fails with `RegionMissing`, before any request, when nothing names one.
 */
export const configure = (options: Options) =>
  options.target === "local"
    ? Effect.succeed(provider(options))
    : Region.resolve.pipe(
      Effect.provideService(ConfigProvider.ConfigProvider, provider(options)),
      Effect.map((region) => provider({ ...options, region }))
    )
