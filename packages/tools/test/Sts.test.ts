/**
 * Who the credentials are: STS `GetCallerIdentity` read into account, ARN and partition, and the
 * `Caller` a command on AWS runs as, asked in the region resolved for the command.
 */
import { STSClient } from "@aws-sdk/client-sts"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type IncomingHttpHeaders } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Caller, describe as describeCaller } from "../src/Caller.js"
import { Sts } from "../src/clients/Sts.js"
import * as Target from "../src/Target.js"
import * as Recorder from "../../aws/test/support/Recorder.js"

const ACCOUNT = "123456789012"
const ROLE_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/Dev/me`

const identityOf = (answer: Recorder.Answer) => {
  const { handler, requests } = Recorder.recorder(() => answer)
  const client = new STSClient({ region: "eu-west-1", credentials: Recorder.credentials, requestHandler: handler })
  return Effect.runPromise(Sts.fromClient(client).identity.pipe(Effect.ensuring(Effect.sync(() => client.destroy())))).then(
    (identity) => ({ identity, requests })
  )
}

describe("Sts", () => {
  it("reads the account, the caller's ARN and the partition off GetCallerIdentity, signed in the client's region", async () => {
    const { identity, requests } = await identityOf(Recorder.callerIdentity(ACCOUNT, ROLE_ARN))
    assert.deepStrictEqual(identity, { account: ACCOUNT, arn: ROLE_ARN, partition: "aws" })
    assert.deepStrictEqual(requests.map((r) => [r.hostname, Recorder.scope(r)]), [["sts.eu-west-1.amazonaws.com", "eu-west-1/sts"]])
    const gov = await identityOf(Recorder.callerIdentity(ACCOUNT, `arn:aws-us-gov:iam::${ACCOUNT}:user/ops`))
    assert.strictEqual(gov.identity.partition, "aws-us-gov")
  })

  it("says rejected credentials are a permission problem", async () => {
    const invalid: Recorder.Answer = {
      statusCode: 403,
      headers: { "content-type": "text/xml" },
      body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>` +
        `<Message>The security token included in the request is invalid.</Message></Error><RequestId>1</RequestId></ErrorResponse>`
    }
    const error = await identityOf(invalid).then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, Error)
    assert.strictEqual(
      error.message,
      "STS GetCallerIdentity was denied (The security token included in the request is invalid.): the AWS credentials in use need permission for it"
    )
  })
})

describe("Caller on AWS", () => {
  // A stand-in for STS on 127.0.0.1 (AWS_ENDPOINT_URL), so the live layer's own client is what is tested.
  const seen: Array<IncomingHttpHeaders> = []
  const server = createServer((request, response) => {
    seen.push(request.headers)
    request.resume().on("end", () => {
      const { statusCode, headers, body } = Recorder.callerIdentity(ACCOUNT, ROLE_ARN)
      response.writeHead(statusCode, headers).end(body)
    })
  })
  const variables = [
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_EC2_METADATA_DISABLED"
  ]
  const saved = Object.fromEntries(variables.map((name) => [name, process.env[name]]))
  let dir = ""

  beforeAll(async () => {
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening))
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    dir = mkdtempSync(join(tmpdir(), "caller-"))
    writeFileSync(join(dir, "config"), "[default]\nregion = eu-west-1\n\n[profile x]\nregion = ap-southeast-2\n")
    const { accessKeyId, secretAccessKey } = Recorder.credentials
    writeFileSync(join(dir, "credentials"), `[x]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`)
    for (const name of variables) delete process.env[name]
    Object.assign(process.env, {
      AWS_CONFIG_FILE: join(dir, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
      AWS_PROFILE: "x",
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_EC2_METADATA_DISABLED: "true"
    })
  })
  afterAll(() => {
    for (const name of variables) {
      const value = saved[name]
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("is STS's answer, asked and signed in the region resolved for the command", async () => {
    const caller = await Effect.runPromise(
      Effect.gen(function*() {
        return yield* Caller
      }).pipe(Effect.provide(Caller.layer.pipe(Layer.provide(Target.layer({ target: "aws" })))))
    )
    assert.deepStrictEqual({ ...caller }, { account: ACCOUNT, arn: ROLE_ARN, partition: "aws", region: "ap-southeast-2" })
    assert.strictEqual(describeCaller(caller), `account ${ACCOUNT} (${ROLE_ARN}) in ap-southeast-2`)
    assert.lengthOf(seen, 1)
    assert.include(seen[0]?.authorization ?? "", "/ap-southeast-2/sts/aws4_request")
  })
})
