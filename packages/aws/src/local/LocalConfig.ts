/**
 * Where the local stack lives: DynamoDB Local's endpoint (the SDK's `AWS_ENDPOINT_URL_DYNAMODB`,
 * 127.0.0.1:8000 by default) and the `.dyna/` folder that keeps its data, pid and logs.
 */
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import { join, resolve } from "node:path"

export const DEFAULT_ENDPOINT = "http://127.0.0.1:8000"

/** The environment first, then the local stack's defaults: what every local command runs with. */
export const provider = ConfigProvider.fromEnv().pipe(
  ConfigProvider.orElse(ConfigProvider.fromUnknown({ AWS_ENDPOINT_URL_DYNAMODB: DEFAULT_ENDPOINT }))
)

export const layer = ConfigProvider.layer(provider)

export const settings = Config.all({
  endpoint: Config.String("AWS_ENDPOINT_URL_DYNAMODB").pipe(Config.withDefault(DEFAULT_ENDPOINT)),
  home: Config.String("DYNA_HOME").pipe(Config.withDefault(".dyna"))
}).pipe(
  Config.map(({ endpoint, home }) => ({
    endpoint,
    dataDir: resolve(join(home, "data")),
    pidFile: resolve(join(home, "dynamodb.pid"))
  }))
)
