/**
 * The CloudWatch client as a service: built once, closed by a finalizer, and the only place that turns
 * CloudWatch's exceptions into `CloudWatchError`s. It holds the deployment's alarms and its dashboard.
 */
import { CloudWatchClient, type CloudWatchClientConfig } from "@aws-sdk/client-cloudwatch"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as AwsCall from "@dyna/aws/AwsCall"

/** A CloudWatch call failed: which one, and what kind of failure it was. */
export class CloudWatchError extends Schema.TaggedError<CloudWatchError>()("CloudWatchError", {
  operation: Schema.String,
  kind: AwsCall.ControlPlaneKind,
  cause: Schema.Defect()
}) {
  override get message() {
    return AwsCall.controlPlaneMessage("CloudWatch", this.operation, this.kind, this.cause)
  }
}

const names: AwsCall.ServiceNames = {
  // GetDashboard's DashboardNotFoundError (ResourceNotFound on the wire), ListTagsForResource's ResourceNotFoundException.
  notFound: new Set(["DashboardNotFoundError", "ResourceNotFound", "ResourceNotFoundException"]),
  conflict: new Set(["ConcurrentModificationException", "ConflictException"])
}

/** Classifies an SDK failure of a CloudWatch call. */
export const kindOf = (cause: unknown): AwsCall.ControlPlaneKind => AwsCall.controlPlaneKindOf(cause, names)

/** The CloudWatch client: alarms and dashboards, one `call` whose failures are classified here. */
export class CloudWatch extends Context.Service<CloudWatch, {
  /** The client itself, for its resolved region. */
  readonly client: CloudWatchClient
  /** Runs one SDK call; its failure is classified once, here. */
  readonly call: <A>(operation: string, f: (client: CloudWatchClient) => Promise<A>) => Effect.Effect<A, CloudWatchError>
}>()("dyna-elite/aws/CloudWatch") {
  /** A service over a client someone else built and owns (tests mock it). */
  static readonly fromClient = (client: CloudWatchClient) =>
    CloudWatch.of({ client, call: AwsCall.caller(client, (operation, cause) => new CloudWatchError({ operation, kind: kindOf(cause), cause })) })

  /** A client in the region `AwsCall` resolves, with `extra` options on top; retries are ours, so one attempt. */
  static readonly layerWith = (extra: Omit<CloudWatchClientConfig, "region" | "maxAttempts">) =>
    Layer.effect(
      CloudWatch,
      Effect.gen(function*() {
        const region = yield* AwsCall.region
        return CloudWatch.fromClient(yield* AwsCall.acquire(() => new CloudWatchClient({ ...extra, region, maxAttempts: 1 })))
      })
    )

  /** A client on the SDK's default credentials chain, in the region `AwsCall` resolves. */
  static readonly layer = CloudWatch.layerWith({})
}
