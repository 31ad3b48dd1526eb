/**
 * Where the local stack lives: DynamoDB Local's endpoint (the SDK's `AWS_ENDPOINT_URL_DYNAMODB`,
 * 127.0.0.1:8000 by default) and the `.dyna/` folder (`DYNA_HOME`) that keeps its data, the published
 * function, the runner's state, pids and logs.
 */
import * as Effect from "effect/Effect"
import { join, resolve } from "node:path"
import * as Deployment from "@dyna/aws/Deployment"
import { LOCAL_REGION } from "@dyna/aws/DynamoDb"
import * as Environment from "@dyna/aws/Environment"

export const DEFAULT_ENDPOINT = "http://127.0.0.1:8000"

/**
 * The local stack's defaults under the environment: what every local command runs with. DynamoDB Local
 * runs with -sharedDb, so any region reaches the one database.
 */
export const variables = (environment: Environment.Variables): Environment.Variables =>
  Environment.merge({ AWS_ENDPOINT_URL_DYNAMODB: DEFAULT_ENDPOINT, AWS_REGION: LOCAL_REGION }, environment)

export const settings = Effect.all({
  endpoint: Environment.orDefault("AWS_ENDPOINT_URL_DYNAMODB", DEFAULT_ENDPOINT),
  home: Environment.orDefault("DYNA_HOME", ".dyna")
}).pipe(
  Effect.map(({ endpoint, home }) => {
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
