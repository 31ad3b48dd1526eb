/**
 * The region a command works in, found as the AWS CLI finds it (`--region`, AWS_REGION,
 * AWS_DEFAULT_REGION, the profile's region), proved on the request a real client signs: its host and
 * the credential scope of its signature.
 */
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "vitest"
import { clientConfig, DynamoDb } from "@dyna/aws/DynamoDb"
import * as Environment from "@dyna/aws/Environment"
import * as Target from "../src/Target.js"
import * as Recorder from "../../aws/test/support/Recorder.js"

// What the SDK and our configuration read; each test sets its own, and the rest is unset.
const variables = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL_DYNAMODB"]
const saved = Object.fromEntries(variables.map((name) => [name, process.env[name]]))
let dir = ""

const environment = (set: Readonly<Record<string, string>>) => {
  for (const name of variables) delete process.env[name]
  // Never the machine's own ~/.aws: an empty credentials file, and the config file of the test.
  Object.assign(process.env, { AWS_CONFIG_FILE: join(dir, "none"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "none") }, set)
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "region-"))
  writeFileSync(join(dir, "config"), "[default]\nregion = eu-west-1\n\n[profile x]\nregion = ap-southeast-2\n")
  writeFileSync(join(dir, "config-without-region"), "[default]\noutput = json\n")
})
afterEach(() => {
  for (const name of variables) {
    const value = saved[name]
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/**
 * `DescribeTable` as the AWS target sends it: the variables `Target.configure` resolves, the client
 * options `DynamoDb` builds from it, and a real client that records the signed request.
 */
const describeTable = (options: Target.Options) => {
  const { handler, requests } = Recorder.recorder(() => Recorder.dynamoJson(200, { Table: { TableName: "CustProfile" } }))
  return Effect.gen(function*() {
    const configured = yield* Target.configure(options)
    const { endpoint, options: clientOptions } = yield* Environment.optional("AWS_ENDPOINT_URL_DYNAMODB").pipe(
      Effect.flatMap(clientConfig),
      Effect.provide(Environment.layer(configured))
    )
    const client = new DynamoDBClient({ ...clientOptions, credentials: Recorder.credentials, requestHandler: handler })
    const db = DynamoDb.fromClient(client, endpoint ?? "aws")
    yield* db.call("DescribeTable", (c) => c.send(new DescribeTableCommand({ TableName: "CustProfile" })))
    client.destroy()
    return requests.map((r) => ({ hostname: r.hostname, scope: Recorder.scope(r) }))
  })
}

const signedIn = (region: string) => [{ hostname: `dynamodb.${region}.amazonaws.com`, scope: `${region}/dynamodb` }]

describe("Region", () => {
  it("comes from the default profile's region in the shared config file", async () => {
    environment({ AWS_CONFIG_FILE: join(dir, "config") })
    assert.deepStrictEqual(await Effect.runPromise(describeTable({ target: "aws" })), signedIn("eu-west-1"))
  })

  it("comes from the profile AWS_PROFILE names", async () => {
    environment({ AWS_CONFIG_FILE: join(dir, "config"), AWS_PROFILE: "x" })
    assert.deepStrictEqual(await Effect.runPromise(describeTable({ target: "aws" })), signedIn("ap-southeast-2"))
  })

  it("takes AWS_DEFAULT_REGION before the profile, AWS_REGION before both, and --region before all", async () => {
    environment({ AWS_CONFIG_FILE: join(dir, "config"), AWS_DEFAULT_REGION: "ca-central-1" })
    assert.deepStrictEqual(await Effect.runPromise(describeTable({ target: "aws" })), signedIn("ca-central-1"))
    process.env.AWS_REGION = "sa-east-1"
    assert.deepStrictEqual(await Effect.runPromise(describeTable({ target: "aws" })), signedIn("sa-east-1"))
    assert.deepStrictEqual(await Effect.runPromise(describeTable({ target: "aws", region: "eu-north-1" })), signedIn("eu-north-1"))
  })

  it("nowhere is a clear error, and no request is made", async () => {
    environment({ AWS_CONFIG_FILE: join(dir, "config-without-region") })
    const { handler, requests } = Recorder.recorder(() => Recorder.dynamoJson(200, {}))
    const error = await Effect.runPromise(Effect.gen(function*() {
      const configured = yield* Target.configure({ target: "aws" })
      const { options } = yield* clientConfig(undefined).pipe(Effect.provide(Environment.layer(configured)))
      const client = new DynamoDBClient({ ...options, credentials: Recorder.credentials, requestHandler: handler })
      return yield* DynamoDb.fromClient(client, "aws").call("DescribeTable", (c) => c.send(new DescribeTableCommand({ TableName: "x" })))
    }).pipe(Effect.flip))
    assert.strictEqual(error._tag, "RegionMissing")
    assert.include(error.message, "no AWS region configured: pass --region, set AWS_REGION")
    assert.include(error.message, `profile "default" has no region`)
    assert.lengthOf(requests, 0)
  })

  it("is never guessed by a client left without one on AWS", async () => {
    // The fallback that sent a user configured for eu-west-1 to us-east-1.
    const error = await Effect.runPromise(
      clientConfig(undefined).pipe(Effect.provide(Environment.layer({})), Effect.flip)
    )
    assert.include(error.message, "no AWS region configured")
  })

  it("stays DynamoDB Local's on the local target, whatever the profile says", async () => {
    environment({ AWS_CONFIG_FILE: join(dir, "config") })
    const { region } = await Effect.runPromise(
      Environment.optional("AWS_ENDPOINT_URL_DYNAMODB").pipe(
        Effect.flatMap(clientConfig),
        Effect.provide(Environment.layer(await Effect.runPromise(Target.configure({ target: "local" }))))
      )
    )
    assert.strictEqual(region, "us-east-1")
  })
})
