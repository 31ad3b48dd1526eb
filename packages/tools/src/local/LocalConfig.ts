/**
 * Where the local stack lives: DynamoDB Local's endpoint (the SDK's `AWS_ENDPOINT_URL_DYNAMODB`,
 * 127.0.0.1:8000 by default) and the `.dyna/` folder (`DYNA_HOME`) that keeps its data, the published
 * function, the runner's state, pids and logs.
 */
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import { join, resolve } from "node:path"
import * as Deployment from "@dyna/aws/Deployment"

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
  Config.map(({ endpoint, home }) => {
    const at = (...parts: ReadonlyArray<string>) => resolve(join(home, ...parts))
    return {
      endpoint,
      home: at(),
      dataDir: at("data"),
      pidFile: at("dynamodb.pid"),
      /** Where "publishing" puts the bundled function, for the runner to load. */
      functionDir: at("function"),
      /** The published function itself, the file named as Lambda's handler names it. */
      functionFile: at("function", Deployment.functionSettings.fileName),
      runner: {
        /** The bundled runner program itself. */
        script: at("runner", "runner.mjs"),
        /** The mapping it serves: stream ARN, settings, function file (written by provisioning). */
        mappingFile: at("runner", "mapping.json"),
        pidFile: at("runner", "runner.pid"),
        checkpointFile: at("runner", "checkpoints.json"),
        onFailureFile: at("runner", "on-failure.jsonl"),
        statusFile: at("runner", "status.json"),
        logFile: at("runner.log")
      }
    }
  })
)
