/**
 * The Lambda client as a service: built once, closed by a finalizer, and the only place that turns
 * Lambda's exceptions into `LambdaError`s.
 */
import { LambdaClient } from "@aws-sdk/client-lambda"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as AwsCall from "@dyna/aws/AwsCall"

export class LambdaError extends Schema.TaggedError<LambdaError>()("LambdaError", {
  operation: Schema.String,
  kind: AwsCall.ControlPlaneKind,
  cause: Schema.Defect()
}) {
  override get message() {
    return AwsCall.controlPlaneMessage("Lambda", this.operation, this.kind, this.cause)
  }
}

const names: AwsCall.ServiceNames = {
  notFound: new Set(["ResourceNotFoundException"]),
  // A function mid-update, a mapping that exists already or is still being created.
  conflict: new Set(["ResourceConflictException", "ResourceInUseException"])
}

/** Classifies an SDK failure of a Lambda call. */
export const kindOf = (cause: unknown): AwsCall.ControlPlaneKind => AwsCall.controlPlaneKindOf(cause, names)

export class Lambda extends Context.Service<Lambda, {
  /** The client itself, for the SDK's waiters. */
  readonly client: LambdaClient
  /** Runs one SDK call; its failure is classified once, here. */
  readonly call: <A>(operation: string, f: (client: LambdaClient) => Promise<A>) => Effect.Effect<A, LambdaError>
}>()("dyna-elite/aws/Lambda") {
  /** A service over a client someone else built and owns (tests mock it). */
  static readonly fromClient = (client: LambdaClient) =>
    Lambda.of({ client, call: AwsCall.caller(client, (operation, cause) => new LambdaError({ operation, kind: kindOf(cause), cause })) })

  /** A client on the SDK's default credentials chain in the command's region (`AwsCall.region`, never a default); retries are ours, so one attempt. */
  static readonly layer = Layer.effect(
    Lambda,
    Effect.gen(function*() {
      const region = yield* AwsCall.region
      return Lambda.fromClient(yield* AwsCall.acquire(() => new LambdaClient({ region, maxAttempts: 1 })))
    })
  )
}
