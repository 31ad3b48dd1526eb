/**
 * Where a command works: the embedded local stack (the default) or a real AWS account. Each target
 * is a configuration: the local one fills in DynamoDB Local's endpoint, the AWS one leaves endpoints and
 * credentials to the SDK's default chain. `--region` and `--prefix` override the environment.
 */
import * as ConfigProvider from "effect/ConfigProvider"
import * as Schema from "effect/Schema"
import * as Deployment from "./Deployment.js"
import * as LocalConfig from "./local/LocalConfig.js"

export const Target = Schema.Literals(["local", "aws"])
export type Target = typeof Target.Type

export interface Options {
  readonly target: Target
  readonly region?: string | undefined
  /** Put before every resource name (`--prefix dev-` → `dev-CustTransactions`, …). */
  readonly prefix?: string | undefined
}

/** The resource names a command works on: the prefix's on AWS, the environment's tables locally. */
export const names = (options: Options): Deployment.Names => Deployment.names(options.prefix)

/** The configuration a command runs with on this target. */
export const provider = (options: Options): ConfigProvider.ConfigProvider => {
  const n = names(options)
  // On AWS the names always follow the prefix (what provision created); locally only when one is given.
  const tableNames = options.target === "aws" || options.prefix !== undefined
    ? Deployment.tableEnvironment(n)
    : {}
  const flags = { ...tableNames, ...(options.region === undefined ? {} : { AWS_REGION: options.region }) }
  return ConfigProvider.fromUnknown(flags).pipe(
    ConfigProvider.orElse(options.target === "local" ? LocalConfig.provider : ConfigProvider.fromEnv())
  )
}
