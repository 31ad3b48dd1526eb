/**
 * The STS client as a service: who the credentials in use are (`GetCallerIdentity`), told before a
 * command changes anything, and the account and partition that ARNs are built from.
 */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as AwsCall from "@dyna/aws/AwsCall"
import * as Arn from "../provision/Arn.js"

export class StsError extends Schema.TaggedError<StsError>()("StsError", {
  operation: Schema.String,
  kind: AwsCall.ControlPlaneKind,
  cause: Schema.Defect()
}) {
  override get message() {
    return AwsCall.controlPlaneMessage("STS", this.operation, this.kind, this.cause)
  }
}

// STS names no resources of ours: nothing is "not found" or "in conflict".
const names: AwsCall.ServiceNames = { notFound: new Set(), conflict: new Set() }

/** Classifies an SDK failure of an STS call. */
export const kindOf = (cause: unknown): AwsCall.ControlPlaneKind => AwsCall.controlPlaneKindOf(cause, names)

/** Who is calling: the account and the ARN of the caller, and the partition read off that ARN. */
export interface Identity {
  readonly account: string
  readonly arn: string
  readonly partition: string
}

const CallerIdentity = Schema.Struct({ Account: Schema.String, Arn: Schema.String })

export class Sts extends Context.Service<Sts, {
  /** Runs one SDK call; its failure is classified once, here. */
  readonly call: <A>(operation: string, f: (client: STSClient) => Promise<A>) => Effect.Effect<A, StsError>
  /** `GetCallerIdentity`, read: needs no permission, so it fails only on missing or rejected credentials. */
  readonly identity: Effect.Effect<Identity, StsError>
}>()("dyna-elite/aws/Sts") {
  /** A service over a client someone else built and owns (tests give it a recording request handler). */
  static readonly fromClient = (client: STSClient) => {
    const call = AwsCall.caller(client, (operation, cause) => new StsError({ operation, kind: kindOf(cause), cause }))
    const malformed = (cause: unknown) => new StsError({ operation: "GetCallerIdentity", kind: "Other", cause })
    const identity = Effect.gen(function*() {
      const output = yield* call("GetCallerIdentity", (c) => c.send(new GetCallerIdentityCommand({})))
      const { Account, Arn: arn } = yield* Schema.decodeUnknownEffect(CallerIdentity)(output).pipe(Effect.mapError(malformed))
      const parsed = Arn.parse(arn, "the caller's ARN")
      if (Result.isFailure(parsed)) return yield* malformed(parsed.failure)
      return { account: Account, arn, partition: parsed.success.partition }
    }).pipe(Effect.withSpan("Sts.identity"))
    return Sts.of({ call, identity })
  }

  /** A client on the SDK's default credentials chain in `AwsCall.region`; retries are ours, so one attempt. */
  static readonly layer = Layer.effect(
    Sts,
    Effect.gen(function*() {
      const region = yield* AwsCall.region
      return Sts.fromClient(yield* AwsCall.acquire(() => new STSClient({ region, maxAttempts: 1 })))
    })
  )
}
