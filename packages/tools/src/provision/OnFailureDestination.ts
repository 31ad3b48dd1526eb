/**
 * The S3 bucket the AWS mapping sends the batches Lambda gave up on (retries or record age exhausted)
 * to: Lambda writes one object per batch, the whole invocation event in it. Provision creates it private,
 * encrypted, TLS-only and expiring, tagged as ours; it never adopts a bucket it did not create. Teardown
 * deletes it, with the records it holds, only when asked to.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  type LifecycleRule,
  ListObjectVersionsCommand,
  type BucketLocationConstraint,
  type ObjectIdentifier,
  type PublicAccessBlockConfiguration,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
  type ServerSideEncryptionConfiguration,
  type Tag
} from "@aws-sdk/client-s3"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { isDeepStrictEqual } from "node:util"
import * as Retry from "@dyna/aws/Retry"
import { absentNames, errorName, S3, S3Error } from "../clients/S3.js"
import { type Change, change, noChange, type Outcome, type Step } from "./Step.js"

/**
 * How long a record of a given-up batch is kept before S3 expires it: 90 days. It is the only copy of
 * those transactions once the stream's 24 hours are over, so it must outlast an incident noticed late
 * and its fix; it holds customers' purchases, so it is not kept for ever. `ensure` takes another value.
 */
export const DEFAULT_RETENTION_DAYS = 90

/** The owner tag provision puts on what it creates (`Deployment.OWNER_TAG`). */
export interface OwnerTag {
  readonly key: string
  readonly value: string
}

/** A bucket of that name exists but provision did not create it: it is never adopted, changed or deleted. */
export class BucketNotOurs extends Schema.TaggedError<BucketNotOurs>()("BucketNotOurs", {
  bucket: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `S3 bucket ${this.bucket} ${this.reason}; provision only uses an on-failure bucket it created (tagged as ours). ` +
      "Choose another --prefix, or remove that bucket yourself if it is a leftover of yours"
  }
}

export type EnsureError = S3Error | BucketNotOurs

/** The bucket's partition, from the region the client is in (bucket ARNs carry no region or account). */
export const partitionOf = (region: string): string =>
  region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws"

export const bucketArn = (bucket: string, partition = "aws"): string => `arn:${partition}:s3:::${bucket}`

/** The mapping's `DestinationConfig`: Lambda takes the bucket's ARN as an on-failure destination. */
export const destinationConfig = (arn: string) => ({ OnFailure: { Destination: arn } })

/**
 * What the function's execution role needs so Lambda can write the records (the Lambda guide, "Retain
 * discarded records for a DynamoDB event source": `s3:PutObject` and `s3:ListBucket`), each on this
 * bucket only, and only while the bucket is in our account: if the bucket were deleted and its name
 * taken by someone else, Lambda could not send them our customers' records.
 */
export const executionRoleStatements = (arn: string, account: string) => {
  const inOurAccount = { StringEquals: { "s3:ResourceAccount": account } }
  return [
    { Sid: "WriteOnFailureRecords", Effect: "Allow", Action: ["s3:PutObject"], Resource: [`${arn}/*`], Condition: inOurAccount },
    { Sid: "ListOnFailureBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [arn], Condition: inOurAccount }
  ] as const
}

/** Every kind of public access blocked: the records are customers' purchases. */
export const publicAccessBlock: PublicAccessBlockConfiguration = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true
}

/**
 * SSE-S3 (AES256) by default. Not SSE-KMS: with a key of our own the function's role would need
 * `kms:GenerateDataKey` (the Lambda guide says so for S3 destinations) and every record a KMS request,
 * and the AWS managed `aws/s3` key adds an audit trail of key use but no control over who may use it.
 * S3 encrypts new buckets this way already; it is set and checked so that no one changes it to a key
 * the role cannot use, which would make Lambda's writes fail and the records be lost.
 */
export const encryption: ServerSideEncryptionConfiguration = {
  Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }]
}

export const LIFECYCLE_RULE_ID = "expire-given-up-batches"

/** One rule on the whole bucket: objects expire `days` days after Lambda wrote them. */
export const lifecycleRules = (days: number): ReadonlyArray<LifecycleRule> => [
  { ID: LIFECYCLE_RULE_ID, Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: days } }
]

/** Refuses every request that does not come over TLS. */
export const bucketPolicy = (arn: string) => ({
  Version: "2012-10-17",
  Statement: [{
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [arn, `${arn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } }
  }]
})

const summary = (days: number) => `private, SSE-S3, TLS only, records expire after ${days} days`

// ---------------------------------------------------------------------------------------------------
// Reading what is there: Head/Get/List calls only.

/** A read, retried while transient; S3's "none set" answer (`absent`) is `undefined`. */
const read = <A>(operation: string, f: (client: S3Client) => Promise<A>, absent?: string) =>
  Effect.gen(function*() {
    const s3 = yield* S3
    return yield* Retry.onTransient(s3.call(operation, f)).pipe(
      Effect.map((a): A | undefined => a),
      Effect.catchTag("S3Error", (e) => (absent !== undefined && errorName(e) === absent ? Effect.succeed(undefined) : Effect.fail(e)))
    )
  })

type Found = "missing" | "present" | "forbidden"

/** Whether the bucket exists: HeadBucket answers 404 when it does not, 403 when we may not see it. */
const head = (bucket: string) =>
  Effect.gen(function*() {
    const s3 = yield* S3
    return yield* Retry.onTransient(s3.call("HeadBucket", (c) => c.send(new HeadBucketCommand({ Bucket: bucket })))).pipe(
      Effect.map((): Found => "present"),
      Effect.catchTag("S3Error", (e) =>
        e.kind === "NotFound"
          ? Effect.succeed<Found>("missing")
          : e.kind === "AccessDenied"
          ? Effect.succeed<Found>("forbidden")
          : Effect.fail(e))
    )
  })

const tagsOf = (bucket: string) =>
  read("GetBucketTagging", (c) => c.send(new GetBucketTaggingCommand({ Bucket: bucket })), absentNames.tagSet).pipe(
    Effect.map((out): ReadonlyArray<Tag> => out?.TagSet ?? [])
  )

/** Whether provision created the bucket: it carries our owner tag. */
export const carries = (tags: ReadonlyArray<Tag>, owner: OwnerTag): boolean =>
  tags.some((t) => t.Key === owner.key && t.Value === owner.value)

const untagged = (bucket: string, owner: OwnerTag) =>
  new BucketNotOurs({ bucket, reason: `exists without the tag ${owner.key}=${owner.value}` })
const forbidden = (bucket: string) =>
  new BucketNotOurs({
    bucket,
    reason: "exists but these credentials may not see it (HeadBucket: 403): another account owns the name, or they lack s3:ListBucket on it"
  })

const decodePolicy = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

/** One setting of the bucket: whether it is as wanted, and the call that makes it so. */
interface Setting {
  readonly name: string
  readonly matches: Effect.Effect<boolean, S3Error, S3>
  readonly put: Effect.Effect<unknown, S3Error, S3>
}

/** The settings `ensure` keeps as they should be, in the order they are put on a new bucket. */
const settings = (bucket: string, arn: string, days: number): ReadonlyArray<Setting> => {
  const put = <A>(operation: string, f: (client: S3Client) => Promise<A>) =>
    Effect.gen(function*() {
      const s3 = yield* S3
      return yield* Retry.onTransient(s3.call(operation, f))
    })
  const policy = bucketPolicy(arn)
  return [
    {
      name: "public access block",
      matches: read("GetPublicAccessBlock", (c) => c.send(new GetPublicAccessBlockCommand({ Bucket: bucket })), absentNames.publicAccessBlock)
        .pipe(Effect.map((out) => isDeepStrictEqual(out?.PublicAccessBlockConfiguration, publicAccessBlock))),
      put: put("PutPublicAccessBlock", (c) =>
        c.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: publicAccessBlock })))
    },
    {
      name: "encryption",
      matches: read("GetBucketEncryption", (c) => c.send(new GetBucketEncryptionCommand({ Bucket: bucket })), absentNames.encryption).pipe(
        Effect.map((out) => {
          const rules = out?.ServerSideEncryptionConfiguration?.Rules ?? []
          return rules.length === 1 && rules[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm === "AES256"
        })
      ),
      put: put("PutBucketEncryption", (c) => c.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: encryption })))
    },
    {
      name: "TLS-only policy",
      matches: read("GetBucketPolicy", (c) => c.send(new GetBucketPolicyCommand({ Bucket: bucket })), absentNames.policy).pipe(
        Effect.map((out) => {
          const stored = Option.fromUndefinedOr(out?.Policy).pipe(Option.flatMap(decodePolicy))
          return Option.isSome(stored) && isDeepStrictEqual(stored.value, policy)
        })
      ),
      put: put("PutBucketPolicy", (c) => c.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) })))
    },
    {
      name: `expiry after ${days} days`,
      matches: read(
        "GetBucketLifecycleConfiguration",
        (c) => c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })),
        absentNames.lifecycle
      ).pipe(Effect.map((out) => {
        const rules = out?.Rules ?? []
        const rule = rules[0]
        return rules.length === 1 && rule?.ID === LIFECYCLE_RULE_ID && rule.Status === "Enabled" && rule.Expiration?.Days === days &&
          isDeepStrictEqual(rule.Filter ?? {}, { Prefix: "" })
      })),
      put: put("PutBucketLifecycleConfiguration", (c) =>
        c.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [...lifecycleRules(days)] } })))
    }
  ]
}

/**
 * A region's name, as S3 takes it for a LocationConstraint. The SDK lists the regions it knew when it
 * was built; a newer one is still a region S3 accepts, so its shape is checked, not its membership.
 */
const isLocationConstraint = (region: string): region is BucketLocationConstraint => /^[a-z]{2}(-[a-z0-9]+)+-\d+$/.test(region)

/** The client's region: the bucket's LocationConstraint must be the region the request is sent to. */
const clientRegion = Effect.gen(function*() {
  const s3 = yield* S3
  return yield* s3.call("region", (c) => c.config.region())
})

// ---------------------------------------------------------------------------------------------------
// Provision.

const create = (bucket: string, region: string, arn: string, owner: OwnerTag, days: number) =>
  Effect.gen(function*() {
    const s3 = yield* S3
    // us-east-1 is S3's default location, and takes no constraint.
    const configuration = region === "us-east-1"
      ? {}
      : isLocationConstraint(region)
      ? { CreateBucketConfiguration: { LocationConstraint: region } }
      : undefined
    if (configuration === undefined) return yield* Effect.die(new Error(`the S3 client's region ${JSON.stringify(region)} is not a region name`))
    // ACLs stay disabled (BucketOwnerEnforced), S3's default for new buckets: setting it here would need
    // s3:PutBucketOwnershipControls too. Tags given to CreateBucket itself need s3:TagResource, and not
    // every S3 lookalike takes them: the tag follows at once instead. Should a run stop in between, the
    // next one refuses the untagged bucket and says so; deleting it (it is empty) lets provision go on.
    yield* s3.call("CreateBucket", (c) =>
      c.send(new CreateBucketCommand({ Bucket: bucket, ...configuration }))).pipe(
        Effect.catchTag("S3Error", (e): Effect.Effect<never, EnsureError> =>
          errorName(e) === "BucketAlreadyExists"
            ? Effect.fail(new BucketNotOurs({ bucket, reason: "is taken: bucket names are global, and another AWS account owns this one" }))
            : errorName(e) === "BucketAlreadyOwnedByYou"
            ? Effect.fail(new BucketNotOurs({ bucket, reason: "appeared in this account while provision was deciding, and provision did not make it" }))
            : Effect.fail(e))
      )
    yield* Retry.onTransient(s3.call("PutBucketTagging", (c) =>
      c.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: owner.key, Value: owner.value }] } }))))
    yield* Effect.forEach(settings(bucket, arn, days), (s) => s.put, { discard: true })
    return { action: "created", resource: arn, detail: summary(days) } satisfies Outcome
  })

/**
 * Decides (Head/Get/List calls only) what provision does about the on-failure bucket: creates it when
 * missing; when it carries our owner tag, puts back whichever of public access block, encryption,
 * TLS-only policy and lifecycle differ; refuses (`BucketNotOurs`) a bucket of that name that is not ours.
 */
export const ensure = (
  bucket: string,
  owner: OwnerTag,
  days: number = DEFAULT_RETENTION_DAYS
): Effect.Effect<Change<EnsureError, S3>, EnsureError, S3> =>
  Effect.gen(function*() {
    const region = yield* clientRegion
    const arn = bucketArn(bucket, partitionOf(region))
    const found = yield* head(bucket)
    if (found === "missing") return change({ action: "created", resource: arn, detail: summary(days) }, create(bucket, region, arn, owner, days))
    if (found === "forbidden") return yield* forbidden(bucket)
    if (!carries(yield* tagsOf(bucket), owner)) return yield* untagged(bucket, owner)
    const all = settings(bucket, arn, days)
    const differing: Array<Setting> = []
    for (const s of all) if (!(yield* s.matches)) differing.push(s)
    if (differing.length === 0) return noChange({ action: "unchanged", resource: arn, detail: summary(days) })
    const detail = differing.map((s) => s.name).join(", ")
    return change(
      { action: "updated", resource: arn, detail },
      Effect.forEach(differing, (s) => s.put, { discard: true }).pipe(Effect.as({ action: "updated", resource: arn, detail } satisfies Outcome))
    )
  }).pipe(Effect.withSpan("OnFailureDestination.ensure"))

/** `ensure` as a provisioning step. */
export const ensureStep = (bucket: string, owner: OwnerTag, days: number = DEFAULT_RETENTION_DAYS): Step<EnsureError, S3> => ({
  title: "On-failure bucket",
  decide: ensure(bucket, owner, days)
})

// ---------------------------------------------------------------------------------------------------
// Teardown.

/** Every object version and delete marker in the bucket (all pages): what must go before the bucket can. */
const versionsOf = (bucket: string) =>
  Effect.gen(function*() {
    const s3 = yield* S3
    return yield* Retry.onTransient(s3.call("ListObjectVersions", async (client) => {
      const objects: Array<ObjectIdentifier> = []
      let records = 0
      let page: { KeyMarker?: string; VersionIdMarker?: string } = {}
      for (;;) {
        const out = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, ...page }))
        for (const v of out.Versions ?? []) {
          if (v.Key !== undefined) objects.push({ Key: v.Key, ...(v.VersionId === undefined ? {} : { VersionId: v.VersionId }) })
        }
        records += (out.Versions ?? []).length
        for (const m of out.DeleteMarkers ?? []) {
          if (m.Key !== undefined) objects.push({ Key: m.Key, ...(m.VersionId === undefined ? {} : { VersionId: m.VersionId }) })
        }
        if (out.IsTruncated !== true) return { objects, records }
        page = {
          ...(out.NextKeyMarker === undefined ? {} : { KeyMarker: out.NextKeyMarker }),
          ...(out.NextVersionIdMarker === undefined ? {} : { VersionIdMarker: out.NextVersionIdMarker })
        }
      }
    }))
  })

/** DeleteObjects takes at most 1,000 keys a request. */
const DELETE_BATCH = 1000

const emptyAndDelete = (bucket: string, arn: string) =>
  Effect.gen(function*() {
    const s3 = yield* S3
    // Listed again: Lambda may have written more since the decision.
    const { objects, records } = yield* versionsOf(bucket)
    const batches = Array.from({ length: Math.ceil(objects.length / DELETE_BATCH) }, (_, i) => objects.slice(i * DELETE_BATCH, (i + 1) * DELETE_BATCH))
    yield* Effect.forEach(batches, (batch) =>
      Retry.onTransient(s3.call("DeleteObjects", (c) => c.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } })))).pipe(
        Effect.flatMap((out) => {
          const failed = out.Errors ?? []
          return failed.length === 0 ? Effect.void : Effect.fail(
            new S3Error({
              operation: "DeleteObjects",
              kind: "Other",
              cause: new Error(`${failed.length} object(s) of ${bucket} were not deleted, the first ${failed[0]?.Key}: ${failed[0]?.Code} ${failed[0]?.Message}`)
            })
          )
        })
      ), { discard: true })
    yield* Retry.onTransient(s3.call("DeleteBucket", (c) => c.send(new DeleteBucketCommand({ Bucket: bucket }))))
    return { action: "deleted", resource: arn, ...(records === 0 ? {} : { detail: `with ${records} record(s) of given-up batches` }) } satisfies Outcome
  })

/**
 * Decides what teardown does about the on-failure bucket. Only a bucket carrying our owner tag is ever
 * touched. It holds the only copy of the batches Lambda gave up on, so it is emptied and deleted only
 * with `deleteData`; otherwise it is kept, and the decision says how to delete it. A deletion that
 * destroys records says how many in its `risk`, for a person to confirm.
 */
export const remove = (
  bucket: string,
  owner: OwnerTag,
  options: { readonly deleteData: boolean }
): Effect.Effect<Change<S3Error, S3>, S3Error, S3> =>
  Effect.gen(function*() {
    const arn = bucketArn(bucket, partitionOf(yield* clientRegion))
    const found = yield* head(bucket)
    if (found === "missing") return noChange({ action: "unchanged", resource: bucket, detail: "not there" })
    if (found === "forbidden") {
      return noChange({ action: "kept", resource: arn, detail: "these credentials may not see it (HeadBucket: 403), so it is not ours to delete" })
    }
    if (!carries(yield* tagsOf(bucket), owner)) return noChange({ action: "kept", resource: arn, detail: "provision did not create it (no owner tag)" })
    const { records } = yield* versionsOf(bucket)
    const held = records === 0 ? "it is empty" : `it holds ${records} record(s) of batches Lambda gave up on`
    if (!options.deleteData) {
      return noChange({
        action: "kept",
        resource: arn,
        detail: `${held}; to delete it and them, run teardown with --delete-data, or: aws s3 rb s3://${bucket} --force`
      })
    }
    return change(
      {
        action: "deleted",
        resource: arn,
        detail: held,
        risk: records === 0
          ? undefined
          : `deletes S3 bucket ${bucket} with the ${records} record(s) of batches Lambda gave up on, which exist nowhere else`
      },
      emptyAndDelete(bucket, arn)
    )
  }).pipe(Effect.withSpan("OnFailureDestination.remove"))

/** `remove` as a teardown step. */
export const removeStep = (bucket: string, owner: OwnerTag, options: { readonly deleteData: boolean }): Step<S3Error, S3> => ({
  title: "On-failure bucket",
  decide: remove(bucket, owner, options)
})
