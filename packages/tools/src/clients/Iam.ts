/**
 * The IAM client as a service: built once, closed by a finalizer, and the only place that turns IAM's
 * exceptions into `IamError`s.
 */
import { IAMClient } from "@aws-sdk/client-iam"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as AwsCall from "@dyna/aws/AwsCall"

export class IamError extends Schema.TaggedError<IamError>()("IamError", {
  operation: Schema.String,
  kind: AwsCall.ControlPlaneKind,
  cause: Schema.Defect()
}) {
  override get message() {
    return AwsCall.controlPlaneMessage("IAM", this.operation, this.kind, this.cause)
  }
}

// IAM speaks the query protocol: its error codes lack the "Exception" the SDK's class names carry.
const names: AwsCall.ServiceNames = {
  notFound: new Set(["NoSuchEntityException", "NoSuchEntity"]),
  conflict: new Set([
    "EntityAlreadyExistsException",
    "EntityAlreadyExists",
    "ConcurrentModificationException",
    "ConcurrentModification",
    "DeleteConflictException",
    "DeleteConflict"
  ])
}

/** Classifies an SDK failure of an IAM call. */
export const kindOf = (cause: unknown): AwsCall.ControlPlaneKind => AwsCall.controlPlaneKindOf(cause, names)

export class Iam extends Context.Service<Iam, {
  /** Runs one SDK call; its failure is classified once, here. */
  readonly call: <A>(operation: string, f: (client: IAMClient) => Promise<A>) => Effect.Effect<A, IamError>
}>()("dyna-elite/aws/Iam") {
  /** A service over a client someone else built and owns (tests mock it). */
  static readonly fromClient = (client: IAMClient) =>
    Iam.of({ call: AwsCall.caller(client, (operation, cause) => new IamError({ operation, kind: kindOf(cause), cause })) })

  /**
   * A client on the SDK's default credentials chain; IAM is global, the region (`AwsCall.region`) only picks the
   * partition's endpoint. Retries are ours, so one attempt.
   */
  static readonly layer = Layer.effect(
    Iam,
    Effect.gen(function*() {
      const region = yield* AwsCall.region
      return Iam.fromClient(yield* AwsCall.acquire(() => new IAMClient({ region, maxAttempts: 1 })))
    })
  )
}
