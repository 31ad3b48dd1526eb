/**
 * The on-failure bucket, decided then applied against a pretend S3 (the real client, `send` mocked):
 * exactly what a new bucket is made with, what is put back on ours when it drifted, the refusal of a
 * bucket that is not ours, decisions that send nothing that changes anything, and a teardown that keeps
 * the records of given-up batches unless asked to delete them.
 */
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  S3Client
} from "@aws-sdk/client-s3"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { assert, beforeEach, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import * as OnFailureDestination from "../src/provision/OnFailureDestination.js"
import type { Change } from "../src/provision/Step.js"
import { S3 } from "../src/clients/S3.js"
import * as FakeAccount from "./support/FakeAccount.js"
import * as FakeS3 from "./support/FakeS3.js"

const { REGION, ACCOUNT } = FakeAccount
const bucket = Deployment.onFailureBucketName("", { partition: "aws", region: REGION, account: ACCOUNT })
const arn = `arn:aws:s3:::${bucket}`
// The deployment's owner tag, as Deployment makes it for a region and prefix.
const owner = { key: "dyna-elite", value: `${REGION}/` }
const ourTag = { [owner.key]: owner.value }

const run = <A, E>(effect: Effect.Effect<A, E, S3>) => Effect.runPromise(effect.pipe(Effect.provide(FakeS3.service)))
const failure = <A, E>(effect: Effect.Effect<A, E, S3>) => run(Effect.flip(effect))
const apply = <E>(c: Change<E, S3>) => (c.apply === undefined ? assert.fail(`nothing to apply: ${c.action}`) : run(c.apply))

/** The one call of a command: its input. */
const only = <T>(calls: ReadonlyArray<T>): T => {
  assert.strictEqual(calls.length, 1, "sent once")
  return calls[0]!
}

const mutatingSent = () => FakeS3.sent().filter((name) => FakeS3.mutating.test(name))

/** A bucket as provision leaves it. */
const provisioned = (extra: Partial<FakeS3.BucketSeed> = {}): FakeS3.BucketSeed => ({
  name: bucket,
  tags: ourTag,
  publicAccessBlock: OnFailureDestination.publicAccessBlock,
  encryption: OnFailureDestination.encryption,
  policy: JSON.stringify(OnFailureDestination.bucketPolicy(arn)),
  lifecycle: OnFailureDestination.lifecycleRules(OnFailureDestination.DEFAULT_RETENTION_DAYS),
  ...extra
})

const record = (i: number) => `aws/lambda/esm-uuid/shardId-0001/2026/01/01/2026-01-01T00.00.0${i}-uuid-${i}`

beforeEach(() => FakeS3.reset())

describe("OnFailureDestination.ensure", () => {
  it("decides to create a missing bucket, sending nothing that changes anything", async () => {
    const decided = await run(OnFailureDestination.ensure(bucket, owner))
    assert.strictEqual(decided.action, "created")
    assert.strictEqual(decided.resource, arn)
    assert.deepStrictEqual(FakeS3.sent(), ["HeadBucket"])
    assert.isFalse(FakeS3.buckets.has(bucket))
  })

  it("creates it in the client's region, tagged as ours, private, encrypted, TLS only, expiring", async () => {
    const outcome = await apply(await run(OnFailureDestination.ensure(bucket, owner)))
    assert.deepStrictEqual(outcome, { action: "created", resource: arn, detail: "private, SSE-S3, TLS only, records expire after 90 days" })
    assert.deepStrictEqual(FakeS3.sent(), [
      "HeadBucket",
      "CreateBucket",
      "PutBucketTagging",
      "PutPublicAccessBlock",
      "PutBucketEncryption",
      "PutBucketPolicy",
      "PutBucketLifecycleConfiguration"
    ])
    assert.deepStrictEqual(only(FakeS3.s3.commandCalls(CreateBucketCommand)).args[0].input, {
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: "eu-west-1" }
    })
    assert.deepStrictEqual(only(FakeS3.s3.commandCalls(PutBucketTaggingCommand)).args[0].input, {
      Bucket: bucket,
      Tagging: { TagSet: [{ Key: "dyna-elite", Value: "eu-west-1/" }] }
    })
    assert.deepStrictEqual(only(FakeS3.s3.commandCalls(PutPublicAccessBlockCommand)).args[0].input, {
      Bucket: bucket,
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true }
    })
    assert.deepStrictEqual(only(FakeS3.s3.commandCalls(PutBucketEncryptionCommand)).args[0].input, {
      Bucket: bucket,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] }
    })
    const policy = only(FakeS3.s3.commandCalls(PutBucketPolicyCommand)).args[0].input
    assert.strictEqual(policy.Bucket, bucket)
    assert.deepStrictEqual(JSON.parse(policy.Policy ?? "null"), {
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
    assert.deepStrictEqual(only(FakeS3.s3.commandCalls(PutBucketLifecycleConfigurationCommand)).args[0].input, {
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: [{ ID: "expire-given-up-batches", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 90 } }]
      }
    })
  })

  it("sends no LocationConstraint in us-east-1, S3's default location", async () => {
    const inUsEast1 = Layer.succeed(S3, S3.fromClient(new S3Client({ region: "us-east-1", credentials: FakeAccount.credentials })))
    await Effect.runPromise(
      OnFailureDestination.ensure(bucket, owner).pipe(Effect.flatMap((c) => c.apply ?? Effect.die("no apply")), Effect.provide(inUsEast1))
    )
    assert.deepStrictEqual(only(FakeS3.s3.commandCalls(CreateBucketCommand)).args[0].input, { Bucket: bucket })
    assert.strictEqual(FakeS3.buckets.get(bucket)?.region, "us-east-1")
  })

  it("takes the retention in days as a parameter", async () => {
    await apply(await run(OnFailureDestination.ensure(bucket, owner, 14)))
    assert.deepStrictEqual(FakeS3.buckets.get(bucket)?.lifecycle?.[0]?.Expiration, { Days: 14 })
  })

  it("leaves the bucket it made as it is on the next run", async () => {
    await apply(await run(OnFailureDestination.ensure(bucket, owner)))
    FakeS3.s3.resetHistory()
    const decided = await run(OnFailureDestination.ensure(bucket, owner))
    assert.strictEqual(decided.action, "unchanged")
    assert.isUndefined(decided.apply)
    assert.deepStrictEqual(mutatingSent(), [])
  })

  it("puts back on our bucket only the settings that drifted", async () => {
    FakeS3.reset({
      buckets: [provisioned({
        encryption: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: "alias/someone-elses" } }] },
        lifecycle: [{ ID: "expire-given-up-batches", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 7 } }]
      })]
    })
    const decided = await run(OnFailureDestination.ensure(bucket, owner))
    assert.strictEqual(decided.action, "updated")
    assert.strictEqual(decided.detail, "encryption, expiry after 90 days")
    assert.deepStrictEqual(mutatingSent(), [], "deciding changes nothing")

    await apply(decided)
    assert.deepStrictEqual(mutatingSent(), ["PutBucketEncryption", "PutBucketLifecycleConfiguration"])
    assert.deepStrictEqual(FakeS3.buckets.get(bucket)?.encryption, OnFailureDestination.encryption)
    assert.deepStrictEqual(FakeS3.buckets.get(bucket)?.lifecycle?.[0]?.Expiration, { Days: 90 })
  })

  it("puts back a missing public access block and policy", async () => {
    FakeS3.reset({ buckets: [{ name: bucket, tags: ourTag, encryption: OnFailureDestination.encryption }] })
    const decided = await run(OnFailureDestination.ensure(bucket, owner))
    assert.strictEqual(decided.detail, "public access block, TLS-only policy, expiry after 90 days")
    await apply(decided)
    assert.deepStrictEqual(mutatingSent(), ["PutPublicAccessBlock", "PutBucketPolicy", "PutBucketLifecycleConfiguration"])
  })

  it("refuses a bucket of that name without our tag, and changes nothing", async () => {
    FakeS3.reset({ buckets: [provisioned({ tags: { team: "payments" } })] })
    const error = await failure(OnFailureDestination.ensure(bucket, owner))
    assert.strictEqual(error._tag, "BucketNotOurs")
    assert.strictEqual(
      error.message,
      `S3 bucket ${bucket} exists without the tag dyna-elite=eu-west-1/; provision only uses an on-failure bucket it created (tagged as ours). ` +
        "Choose another --prefix, or remove that bucket yourself if it is a leftover of yours"
    )
    assert.deepStrictEqual(mutatingSent(), [])
  })

  it("refuses a bucket with no tags at all", async () => {
    FakeS3.reset({ buckets: [{ name: bucket }] })
    const error = await failure(OnFailureDestination.ensure(bucket, owner))
    assert.strictEqual(error._tag, "BucketNotOurs")
    assert.deepStrictEqual(mutatingSent(), [])
  })

  it("refuses a name another account holds, seen or found taken on create", async () => {
    FakeS3.reset({ buckets: [{ name: bucket, foreign: true }] })
    const seen = await failure(OnFailureDestination.ensure(bucket, owner))
    assert.strictEqual(seen._tag, "BucketNotOurs")
    assert.match(seen.message, /HeadBucket: 403/)

    FakeS3.reset()
    const decided = await run(OnFailureDestination.ensure(bucket, owner))
    FakeS3.buckets.set(bucket, { foreign: true, region: REGION, tags: [], objects: new Map() })
    const taken = await run(Effect.flip(decided.apply ?? Effect.die("no apply")))
    assert.strictEqual(taken._tag, "BucketNotOurs")
    assert.match(taken.message, /another AWS account owns this one/)
    assert.deepStrictEqual(mutatingSent(), ["CreateBucket"])
  })
})

describe("OnFailureDestination.remove", () => {
  const objects = { [record(1)]: "{}", [record(2)]: "{}", [record(3)]: "{}" }

  it("keeps our bucket and its records unless asked to delete data, and says how", async () => {
    FakeS3.reset({ buckets: [provisioned({ objects })] })
    const decided = await run(OnFailureDestination.remove(bucket, owner, { deleteData: false }))
    assert.strictEqual(decided.action, "kept")
    assert.isUndefined(decided.apply)
    assert.strictEqual(
      decided.detail,
      `it holds 3 record(s) of batches Lambda gave up on; to delete it and them, run teardown with --delete-data, or: aws s3 rb s3://${bucket} --force`
    )
    assert.deepStrictEqual(mutatingSent(), [])
    assert.strictEqual(FakeS3.buckets.get(bucket)?.objects.size, 3)
  })

  it("with deleteData, says how many records go in its risk, then empties and deletes the bucket", async () => {
    FakeS3.reset({ buckets: [provisioned({ objects })] })
    const decided = await run(OnFailureDestination.remove(bucket, owner, { deleteData: true }))
    assert.strictEqual(decided.action, "deleted")
    assert.strictEqual(decided.risk, `deletes S3 bucket ${bucket} with the 3 record(s) of batches Lambda gave up on, which exist nowhere else`)
    assert.deepStrictEqual(mutatingSent(), [], "deciding changes nothing")

    const outcome = await apply(decided)
    assert.deepStrictEqual(outcome, { action: "deleted", resource: arn, detail: "with 3 record(s) of given-up batches" })
    assert.deepStrictEqual(mutatingSent(), ["DeleteObjects", "DeleteBucket"])
    assert.isFalse(FakeS3.buckets.has(bucket))
  })

  it("deletes an empty bucket of ours without a risk to confirm", async () => {
    FakeS3.reset({ buckets: [provisioned()] })
    const decided = await run(OnFailureDestination.remove(bucket, owner, { deleteData: true }))
    assert.isUndefined(decided.risk)
    await apply(decided)
    assert.deepStrictEqual(mutatingSent(), ["DeleteBucket"])
  })

  it("never touches a bucket without our tag, nor one it may not see", async () => {
    FakeS3.reset({ buckets: [provisioned({ tags: {}, objects })] })
    const untagged = await run(OnFailureDestination.remove(bucket, owner, { deleteData: true }))
    assert.strictEqual(untagged.action, "kept")
    assert.isUndefined(untagged.apply)

    FakeS3.reset({ buckets: [{ name: bucket, foreign: true }] })
    const foreign = await run(OnFailureDestination.remove(bucket, owner, { deleteData: true }))
    assert.strictEqual(foreign.action, "kept")
    assert.isUndefined(foreign.apply)
    assert.deepStrictEqual(mutatingSent(), [])
  })

  it("has nothing to do when the bucket is not there", async () => {
    const decided = await run(OnFailureDestination.remove(bucket, owner, { deleteData: true }))
    assert.deepStrictEqual({ action: decided.action, detail: decided.detail }, { action: "unchanged", detail: "not there" })
  })
})

describe("the function's side of the destination", () => {
  it("grants PutObject and ListBucket on this bucket only, while it is in our account", () => {
    assert.deepStrictEqual(OnFailureDestination.executionRoleStatements(arn, ACCOUNT), [
      {
        Sid: "WriteOnFailureRecords",
        Effect: "Allow",
        Action: ["s3:PutObject"],
        Resource: [`${arn}/*`],
        Condition: { StringEquals: { "s3:ResourceAccount": ACCOUNT } }
      },
      {
        Sid: "ListOnFailureBucket",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [arn],
        Condition: { StringEquals: { "s3:ResourceAccount": ACCOUNT } }
      }
    ])
    assert.deepStrictEqual(OnFailureDestination.destinationConfig(arn), { OnFailure: { Destination: arn } })
  })
})
