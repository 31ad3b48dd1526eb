/**
 * Where a command works and as whom: the account, the caller's ARN, the partition and the region,
 * found once per command. Provision builds ARNs from it before any resource exists; scripts print it
 * before the first change, so nobody deploys into an account or region they did not mean.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as AwsCall from "@dyna/aws/AwsCall"
import type * as Deployment from "@dyna/aws/Deployment"
import { LOCAL_REGION } from "@dyna/aws/DynamoDb"
import * as Environment from "@dyna/aws/Environment"
import { Sts } from "./clients/Sts.js"

/** The caller: a `Deployment.Location` (partition, region, account) and who is behind it. */
export interface Identity extends Deployment.Location {
  readonly arn: string
}

/** DynamoDB Local's account, as its table ARNs name it. */
export const LOCAL_ACCOUNT = "000000000000"

export class Caller extends Context.Service<Caller, Identity>()("dyna-elite/aws/Caller") {
  /** The AWS caller: STS `GetCallerIdentity` in the command's region (`AwsCall.region`). */
  static readonly layerNoDeps = Layer.effect(
    Caller,
    Effect.gen(function*() {
      const region = yield* AwsCall.region
      const identity = yield* (yield* Sts).identity
      return Caller.of({ ...identity, region })
    })
  )

  static readonly layer = Caller.layerNoDeps.pipe(Layer.provide(Sts.layer))

  /**
   * The local stack's stand-in: no STS there, so DynamoDB Local's account, the `aws` partition, and the
   * configured region (DynamoDB Local's default when none is).
   */
  static readonly local = Layer.effect(
    Caller,
    Effect.gen(function*() {
      const region = yield* Environment.orDefault("AWS_REGION", LOCAL_REGION)
      return Caller.of({ account: LOCAL_ACCOUNT, arn: `arn:aws:iam::${LOCAL_ACCOUNT}:root`, partition: "aws", region })
    })
  )
}

/** One line for a person: `account 123456789012 (arn:aws:sts::…:assumed-role/…) in eu-west-1`. */
export const describe = (caller: Identity): string => `account ${caller.account} (${caller.arn}) in ${caller.region}`
