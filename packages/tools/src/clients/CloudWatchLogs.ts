/**
 * The CloudWatch Logs client as a service: built once, closed by a finalizer, and the only place that
 * turns CloudWatch Logs' exceptions into `CloudWatchLogsError`s. It holds the function's log group.
 */
import { CloudWatchLogsClient, type CloudWatchLogsClientConfig } from "@aws-sdk/client-cloudwatch-logs"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as AwsCall from "@dyna/aws/AwsCall"

/** A CloudWatch Logs call failed: which one, and what kind of failure it was. */
export class CloudWatchLogsError extends Schema.TaggedError<CloudWatchLogsError>()("CloudWatchLogsError", {
  operation: Schema.String,
  kind: AwsCall.ControlPlaneKind,
  cause: Schema.Defect()
}) {
  override get message() {
    return AwsCall.controlPlaneMessage("CloudWatch Logs", this.operation, this.kind, this.cause)
  }
}

const names: AwsCall.ServiceNames = {
  notFound: new Set(["ResourceNotFoundException"]),
  // The group appeared meanwhile (Lambda creates it on the function's first run), or a change is under way.
  conflict: new Set(["ResourceAlreadyExistsException", "OperationAbortedException"])
}

/** Classifies an SDK failure of a CloudWatch Logs call. */
export const kindOf = (cause: unknown): AwsCall.ControlPlaneKind => AwsCall.controlPlaneKindOf(cause, names)

/** The CloudWatch Logs client: one `call` whose failures are classified here. */
export class CloudWatchLogs extends Context.Service<CloudWatchLogs, {
  /** The client itself, for its resolved region. */
  readonly client: CloudWatchLogsClient
  /** Runs one SDK call; its failure is classified once, here. */
  readonly call: <A>(operation: string, f: (client: CloudWatchLogsClient) => Promise<A>) => Effect.Effect<A, CloudWatchLogsError>
}>()("dyna-elite/aws/CloudWatchLogs") {
  /** A service over a client someone else built and owns (tests mock it). */
  static readonly fromClient = (client: CloudWatchLogsClient) =>
    CloudWatchLogs.of({ client, call: AwsCall.caller(client, (operation, cause) => new CloudWatchLogsError({ operation, kind: kindOf(cause), cause })) })

  /** A client in the region `AwsCall` resolves, with `extra` options on top; retries are ours, so one attempt. */
  static readonly layerWith = (extra: Omit<CloudWatchLogsClientConfig, "region" | "maxAttempts">) =>
    Layer.effect(
      CloudWatchLogs,
      Effect.gen(function*() {
        const region = yield* AwsCall.region
        return CloudWatchLogs.fromClient(yield* AwsCall.acquire(() => new CloudWatchLogsClient({ ...extra, region, maxAttempts: 1 })))
      })
    )

  /** A client on the SDK's default credentials chain, in the region `AwsCall` resolves. */
  static readonly layer = CloudWatchLogs.layerWith({})
}
