/**
 * The S3 client as a service: built once, closed by a finalizer, and the only place that turns S3's
 * exceptions into `S3Error`s. It holds the on-failure bucket, where Lambda records the batches it gave up on.
 */
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as AwsCall from "@dyna/aws/AwsCall"

export class S3Error extends Schema.TaggedError<S3Error>()("S3Error", {
  operation: Schema.String,
  kind: AwsCall.ControlPlaneKind,
  cause: Schema.Defect()
}) {
  override get message() {
    return AwsCall.controlPlaneMessage("S3", this.operation, this.kind, this.cause)
  }
}

/**
 * S3's "there is none" names: the bucket or key, HeadBucket's bare 404 (`NotFound`), and each bucket
 * setting that was never set.
 */
export const absentNames = {
  tagSet: "NoSuchTagSet",
  lifecycle: "NoSuchLifecycleConfiguration",
  encryption: "ServerSideEncryptionConfigurationNotFoundError",
  publicAccessBlock: "NoSuchPublicAccessBlockConfiguration",
  policy: "NoSuchBucketPolicy"
} as const

const names: AwsCall.ServiceNames = {
  notFound: new Set(["NoSuchBucket", "NoSuchKey", "NotFound", ...Object.values(absentNames)]),
  // BucketAlreadyExists: another account owns the (global) name; BucketAlreadyOwnedByYou: this account
  // does. BucketNotEmpty: versions left behind. OperationAborted: a conflicting change is under way.
  conflict: new Set(["BucketAlreadyOwnedByYou", "BucketAlreadyExists", "BucketNotEmpty", "OperationAborted"])
}

/** Classifies an SDK failure of an S3 call. */
export const kindOf = (cause: unknown): AwsCall.ControlPlaneKind => AwsCall.controlPlaneKindOf(cause, names)

/** The name S3 gave the failure (`NoSuchTagSet`, `BucketAlreadyExists`, …), for the few call sites that tell them apart. */
export const errorName = (error: S3Error): string | undefined => AwsCall.reported(error.cause).name

export class S3 extends Context.Service<S3, {
  /** The client itself, for paginators and its resolved region. */
  readonly client: S3Client
  /** Runs one SDK call; its failure is classified once, here. */
  readonly call: <A>(operation: string, f: (client: S3Client) => Promise<A>) => Effect.Effect<A, S3Error>
}>()("dyna-elite/aws/S3") {
  /** A service over a client someone else built and owns (tests mock it). */
  static readonly fromClient = (client: S3Client) =>
    S3.of({ client, call: AwsCall.caller(client, (operation, cause) => new S3Error({ operation, kind: kindOf(cause), cause })) })

  /**
   * A client in the region `AwsCall` resolves, with `extra` options on top (tests pass a recording
   * `requestHandler` and fixed credentials). Retries are ours, so one attempt.
   */
  static readonly layerWith = (extra: Omit<S3ClientConfig, "region" | "maxAttempts">) =>
    Layer.effect(
      S3,
      Effect.gen(function*() {
        const region = yield* AwsCall.region
        return S3.fromClient(yield* AwsCall.acquire(() => new S3Client({ ...extra, region, maxAttempts: 1 })))
      })
    )

  /** A client on the SDK's default credentials chain, in the region `AwsCall` resolves. */
  static readonly layer = S3.layerWith({})
}
