/**
 * A pretend S3: the real SDK v3 client, `send` mocked by aws-sdk-client-mock over a small model of
 * buckets (tags, public access block, encryption, policy, lifecycle) and their objects, so a step sees
 * what earlier steps did. Answers and faults are S3's own: a missing setting is its `NoSuch…` error, a
 * bucket of another account answers HeadBucket with 403 and CreateBucket with BucketAlreadyExists.
 * Listings come two to a page, so a caller that reads only the first page misses something. It is the S3
 * of the same account (`FakeAccount`): `FakeAws.account` seeds its buckets and shares its faults.
 */
import {
  BucketAlreadyExists,
  BucketAlreadyOwnedByYou,
  type BucketLocationConstraint,
  CreateBucketCommand,
  type CreateBucketCommandInput,
  DeleteBucketCommand,
  type DeleteBucketCommandInput,
  DeleteObjectsCommand,
  type DeleteObjectsCommandInput,
  GetBucketEncryptionCommand,
  type GetBucketEncryptionCommandInput,
  GetBucketLifecycleConfigurationCommand,
  type GetBucketLifecycleConfigurationCommandInput,
  GetBucketPolicyCommand,
  type GetBucketPolicyCommandInput,
  GetBucketTaggingCommand,
  type GetBucketTaggingCommandInput,
  GetObjectCommand,
  type GetObjectCommandInput,
  type GetObjectCommandOutput,
  GetPublicAccessBlockCommand,
  type GetPublicAccessBlockCommandInput,
  HeadBucketCommand,
  type HeadBucketCommandInput,
  type LifecycleRule,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandInput,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  type PublicAccessBlockConfiguration,
  PutBucketEncryptionCommand,
  type PutBucketEncryptionCommandInput,
  PutBucketLifecycleConfigurationCommand,
  type PutBucketLifecycleConfigurationCommandInput,
  PutBucketPolicyCommand,
  type PutBucketPolicyCommandInput,
  PutBucketTaggingCommand,
  type PutBucketTaggingCommandInput,
  PutObjectCommand,
  type PutObjectCommandInput,
  PutPublicAccessBlockCommand,
  type PutPublicAccessBlockCommandInput,
  S3Client,
  S3ServiceException,
  type ServerSideEncryptionConfiguration,
  type Tag
} from "@aws-sdk/client-s3"
import { mockClient } from "aws-sdk-client-mock"
import * as Layer from "effect/Layer"
import { S3 } from "../../src/clients/S3.js"
import { credentials, type Faults, faults, PAGE_SIZE, REGION } from "./FakeAccount.js"

// Mocked once per test file, on the client class: any S3 client built anywhere is mocked, none reaches AWS.
export const s3 = mockClient(S3Client)

/** Our S3 service over a real SDK client (mocked above), in `REGION`. */
export const service = Layer.succeed(S3, S3.fromClient(new S3Client({ region: REGION, credentials })))

/** One bucket as the model holds it; objects are their bodies, by key. */
export interface Bucket {
  /** Another account owns the name: we may not see it, nor take the name. */
  readonly foreign: boolean
  readonly region: string
  tags: ReadonlyArray<Tag>
  publicAccessBlock?: PublicAccessBlockConfiguration
  encryption?: ServerSideEncryptionConfiguration
  policy?: string
  lifecycle?: ReadonlyArray<LifecycleRule>
  readonly objects: Map<string, string>
}

export interface BucketSeed {
  readonly name: string
  readonly foreign?: boolean
  readonly region?: string
  readonly tags?: Readonly<Record<string, string>>
  readonly publicAccessBlock?: PublicAccessBlockConfiguration
  readonly encryption?: ServerSideEncryptionConfiguration
  readonly policy?: string
  readonly lifecycle?: ReadonlyArray<LifecycleRule>
  readonly objects?: Readonly<Record<string, string>>
}

/** The buckets of the pretend account (and the foreign ones it can run into), by name. */
export const buckets = new Map<string, Bucket>()

/** The faults of the account S3 was last reset into. */
let injecting: Faults = faults()

/** Makes the command's next calls reject with these errors, in order, before it behaves again. */
export const failNext = (command: string, ...errors: ReadonlyArray<Error>) => injecting.failNext(command, ...errors)

const injected = (command: string) => injecting.injected(command)

/** An S3 error of that name and status, as the SDK throws it for names it has no class for. */
export const s3Error = (name: string, status: number, message = name) =>
  new S3ServiceException({ name, $fault: status >= 500 ? "server" : "client", message, $metadata: { httpStatusCode: status } })

const meta = (status: number) => ({ $metadata: { httpStatusCode: status } })

/** A body as the SDK hands it over: a Blob that can also say itself as a string. */
const body = (text: string): NonNullable<GetObjectCommandOutput["Body"]> => {
  const bytes = new TextEncoder().encode(text)
  return Object.assign(new Blob([bytes]), {
    transformToString: async (encoding?: string) => new TextDecoder(encoding).decode(bytes),
    transformToByteArray: async () => bytes,
    transformToWebStream: () => new Blob([bytes]).stream()
  })
}

/** Empties the model, seeds it, and installs the handlers; faults come from `account`'s, or S3's own. */
export const reset = (seed: { readonly buckets?: ReadonlyArray<BucketSeed> } = {}, account: Faults = faults()) => {
  s3.reset()
  buckets.clear()
  injecting = account
  for (const b of seed.buckets ?? []) {
    buckets.set(b.name, {
      foreign: b.foreign ?? false,
      region: b.region ?? REGION,
      tags: Object.entries(b.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      ...(b.publicAccessBlock === undefined ? {} : { publicAccessBlock: b.publicAccessBlock }),
      ...(b.encryption === undefined ? {} : { encryption: b.encryption }),
      ...(b.policy === undefined ? {} : { policy: b.policy }),
      ...(b.lifecycle === undefined ? {} : { lifecycle: b.lifecycle }),
      objects: new Map(Object.entries(b.objects ?? {}))
    })
  }

  /** Our own bucket, or S3's answer for one that is missing (NoSuchBucket) or another account's (403). */
  const ours = (name: string | undefined) => {
    const bucket = name === undefined ? undefined : buckets.get(name)
    if (bucket === undefined) throw new NoSuchBucket({ message: "The specified bucket does not exist", ...meta(404) })
    if (bucket.foreign) throw s3Error("AccessDenied", 403, "Access Denied")
    return bucket
  }

  s3.onAnyCommand().rejects(new Error("the fake S3 does not model this command"))

  s3.on(HeadBucketCommand).callsFake(async (input: HeadBucketCommandInput) => {
    injected("HeadBucket")
    const bucket = buckets.get(input.Bucket ?? "")
    // HEAD answers carry no body: the SDK names the error after the status.
    if (bucket === undefined) throw new NotFound({ message: "NotFound", ...meta(404) })
    if (bucket.foreign) throw s3Error("Forbidden", 403)
    return { BucketRegion: bucket.region }
  })
  s3.on(CreateBucketCommand).callsFake(async (input: CreateBucketCommandInput) => {
    injected("CreateBucket")
    const name = input.Bucket ?? ""
    const existing = buckets.get(name)
    if (existing?.foreign === true) {
      throw new BucketAlreadyExists({ message: "The requested bucket name is not available.", ...meta(409) })
    }
    if (existing !== undefined) throw new BucketAlreadyOwnedByYou({ message: "Your previous request to create the named bucket succeeded.", ...meta(409) })
    const constraint: BucketLocationConstraint | undefined = input.CreateBucketConfiguration?.LocationConstraint
    buckets.set(name, {
      foreign: false,
      region: constraint ?? "us-east-1",
      tags: input.CreateBucketConfiguration?.Tags ?? [],
      objects: new Map()
    })
    return { Location: `/${name}` }
  })
  s3.on(DeleteBucketCommand).callsFake(async (input: DeleteBucketCommandInput) => {
    injected("DeleteBucket")
    const bucket = ours(input.Bucket)
    if (bucket.objects.size > 0) throw s3Error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
    buckets.delete(input.Bucket ?? "")
    return {}
  })

  s3.on(GetBucketTaggingCommand).callsFake(async (input: GetBucketTaggingCommandInput) => {
    injected("GetBucketTagging")
    const bucket = ours(input.Bucket)
    if (bucket.tags.length === 0) throw s3Error("NoSuchTagSet", 404, "The TagSet does not exist")
    return { TagSet: [...bucket.tags] }
  })
  s3.on(PutBucketTaggingCommand).callsFake(async (input: PutBucketTaggingCommandInput) => {
    injected("PutBucketTagging")
    ours(input.Bucket).tags = input.Tagging?.TagSet ?? []
    return {}
  })

  s3.on(GetPublicAccessBlockCommand).callsFake(async (input: GetPublicAccessBlockCommandInput) => {
    injected("GetPublicAccessBlock")
    const block = ours(input.Bucket).publicAccessBlock
    if (block === undefined) throw s3Error("NoSuchPublicAccessBlockConfiguration", 404, "The public access block configuration was not found")
    return { PublicAccessBlockConfiguration: { ...block } }
  })
  s3.on(PutPublicAccessBlockCommand).callsFake(async (input: PutPublicAccessBlockCommandInput) => {
    injected("PutPublicAccessBlock")
    const bucket = ours(input.Bucket)
    if (input.PublicAccessBlockConfiguration !== undefined) bucket.publicAccessBlock = input.PublicAccessBlockConfiguration
    return {}
  })

  s3.on(GetBucketEncryptionCommand).callsFake(async (input: GetBucketEncryptionCommandInput) => {
    injected("GetBucketEncryption")
    const encryption = ours(input.Bucket).encryption
    if (encryption === undefined) {
      throw s3Error("ServerSideEncryptionConfigurationNotFoundError", 404, "The server side encryption configuration was not found")
    }
    return { ServerSideEncryptionConfiguration: encryption }
  })
  s3.on(PutBucketEncryptionCommand).callsFake(async (input: PutBucketEncryptionCommandInput) => {
    injected("PutBucketEncryption")
    const bucket = ours(input.Bucket)
    if (input.ServerSideEncryptionConfiguration !== undefined) bucket.encryption = input.ServerSideEncryptionConfiguration
    return {}
  })

  s3.on(GetBucketPolicyCommand).callsFake(async (input: GetBucketPolicyCommandInput) => {
    injected("GetBucketPolicy")
    const policy = ours(input.Bucket).policy
    if (policy === undefined) throw s3Error("NoSuchBucketPolicy", 404, "The bucket policy does not exist")
    return { Policy: policy }
  })
  s3.on(PutBucketPolicyCommand).callsFake(async (input: PutBucketPolicyCommandInput) => {
    injected("PutBucketPolicy")
    const bucket = ours(input.Bucket)
    if (input.Policy !== undefined) bucket.policy = input.Policy
    return {}
  })

  s3.on(GetBucketLifecycleConfigurationCommand).callsFake(async (input: GetBucketLifecycleConfigurationCommandInput) => {
    injected("GetBucketLifecycleConfiguration")
    const lifecycle = ours(input.Bucket).lifecycle
    if (lifecycle === undefined) throw s3Error("NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist")
    return { Rules: [...lifecycle] }
  })
  s3.on(PutBucketLifecycleConfigurationCommand).callsFake(async (input: PutBucketLifecycleConfigurationCommandInput) => {
    injected("PutBucketLifecycleConfiguration")
    const bucket = ours(input.Bucket)
    bucket.lifecycle = input.LifecycleConfiguration?.Rules ?? []
    return {}
  })

  s3.on(PutObjectCommand).callsFake(async (input: PutObjectCommandInput) => {
    injected("PutObject")
    ours(input.Bucket).objects.set(input.Key ?? "", typeof input.Body === "string" ? input.Body : "")
    return {}
  })
  s3.on(GetObjectCommand).callsFake(async (input: GetObjectCommandInput) => {
    injected("GetObject")
    const text = ours(input.Bucket).objects.get(input.Key ?? "")
    if (text === undefined) throw new NoSuchKey({ message: "The specified key does not exist.", ...meta(404) })
    return { Body: body(text), ContentLength: text.length }
  })
  const sortedKeys = (bucket: Bucket) => [...bucket.objects.keys()].sort()
  s3.on(ListObjectsV2Command).callsFake(async (input: ListObjectsV2CommandInput) => {
    injected("ListObjectsV2")
    const keys = sortedKeys(ours(input.Bucket)).filter((k) => k.startsWith(input.Prefix ?? ""))
    const start = Number(input.ContinuationToken ?? "0")
    const page = keys.slice(start, start + PAGE_SIZE)
    const more = start + PAGE_SIZE < keys.length
    return {
      Contents: page.map((Key) => ({ Key })),
      KeyCount: page.length,
      IsTruncated: more,
      ...(more ? { NextContinuationToken: String(start + PAGE_SIZE) } : {})
    }
  })
  // An unversioned bucket, as ours are: every object is one version, its VersionId "null".
  s3.on(ListObjectVersionsCommand).callsFake(async (input: ListObjectVersionsCommandInput) => {
    injected("ListObjectVersions")
    const keys = sortedKeys(ours(input.Bucket))
    const start = input.KeyMarker === undefined ? 0 : keys.indexOf(input.KeyMarker) + 1
    const page = keys.slice(start, start + PAGE_SIZE)
    const more = start + PAGE_SIZE < keys.length
    return {
      Versions: page.map((Key) => ({ Key, VersionId: "null", IsLatest: true })),
      IsTruncated: more,
      ...(more ? { NextKeyMarker: page.at(-1), NextVersionIdMarker: "null" } : {})
    }
  })
  s3.on(DeleteObjectsCommand).callsFake(async (input: DeleteObjectsCommandInput) => {
    injected("DeleteObjects")
    const bucket = ours(input.Bucket)
    const objects = input.Delete?.Objects ?? []
    for (const o of objects) bucket.objects.delete(o.Key ?? "")
    return input.Delete?.Quiet === true ? {} : { Deleted: objects.map((o) => ({ Key: o.Key })) }
  })
}

/** The commands sent, by name, in order. */
export const sent = () => s3.calls().map((call) => call.args[0].constructor.name.replace(/Command$/, ""))

/** Requests that change something. */
export const mutating = /^(Create|Update|Put|Delete|Tag|Untag)/
