/**
 * The commands as a user runs them: `pnpm provision` starts its own DynamoDB Local in the background
 * (here on a free port, with its state in a temporary DYNA_HOME), the acceptance event goes through
 * `pnpm invoke`, and every failure is one readable line with a non-zero exit code.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as Commands from "./support/Commands.js"

const local = Commands.useLocalHome("dyna-home-")

/** Runs `pnpm <args>` from the repository root, as the README says. */
const pnpm = (...args: ReadonlyArray<string>) => Commands.pnpmSync(local.env, ...args)

describe("the pnpm commands", () => {
  it("say clearly that the local stack is not running", () => {
    for (const command of [["customer", "task1test1record"], ["invoke", "events/jam-task1.json"]]) {
      const result = pnpm(...command)
      assert.strictEqual(result.code, 1, command.join(" "))
      assert.include(result.stderr, "DynamoDB is not reachable at")
      assert.include(result.stderr, "pnpm provision")
      assert.notInclude(result.stderr, "    at ")
    }
  })

  it("plan the local stack and its teardown without changing anything: nothing written, nothing started", () => {
    const result = pnpm("provision", "--plan")
    assert.strictEqual(result.code, 0, result.stderr)
    assert.strictEqual(result.stdout.split("\n")[0], "Plan (nothing is changed):")
    assert.match(result.stdout, /\[2\/9\] DynamoDB Local: will start/)
    assert.match(result.stdout, /\[9\/9\] stream mapping CustTransactions → local runner: will create/)
    assert.match(result.stdout, /^Plan: 9 to create, 0 to update, 0 to remove, 0 unchanged or kept\.$/m)
    assert.deepStrictEqual(readdirSync(local.home), [], "nothing was written in DYNA_HOME")
    const teardown = pnpm("teardown", "--plan", "--delete-data")
    assert.strictEqual(teardown.code, 0, teardown.stderr)
    assert.match(teardown.stdout, /^Plan: 0 to create, 0 to update, 0 to remove/m)
    assert.deepStrictEqual(readdirSync(local.home), [])
  })

  it("print the operator's least-privilege policy", () => {
    const result = pnpm("provision", "--print-operator-policy")
    assert.strictEqual(result.code, 0, result.stderr)
    const policy: unknown = JSON.parse(result.stdout)
    assert.deepInclude(policy, { Version: "2012-10-17" })
    assert.include(result.stdout, "arn:aws:dynamodb:*:*:table/CustTransactions")
    assert.include(result.stdout, "\"iam:PassedToService\": \"lambda.amazonaws.com\"")
  })

  it("provision the local stack step by step", () => {
    const result = pnpm("provision")
    assert.strictEqual(result.code, 0, result.stderr)
    assert.match(result.stdout, /\[1\/9\] DYNA_HOME .*: created/)
    assert.match(result.stdout, /\[2\/9\] DynamoDB Local: started/)
    assert.match(result.stdout, /table CustTransactions: created/)
    assert.match(result.stdout, /stream on CustTransactions: created .*NEW_IMAGE/)
    assert.match(result.stdout, /table CustProfile: created/)
    assert.match(result.stdout, /CustTransactionsRejected \(quarantine\): created/)
    assert.match(result.stdout, /function \(bundled\): created/)
    assert.match(result.stdout, /stream mapping CustTransactions → local runner: started/)
  })

  it("are safe to run again", () => {
    const result = pnpm("provision")
    assert.strictEqual(result.code, 0, result.stderr)
    assert.include(result.stdout, "Nothing to change")
  })

  it("run the acceptance event and show task1test1record as 250 / Normal", () => {
    const invoked = pnpm("invoke", "events/jam-task1.json")
    assert.strictEqual(invoked.code, 0, invoked.stderr)
    assert.deepStrictEqual(JSON.parse(invoked.stdout), { batchItemFailures: [] })
    const shown = pnpm("customer", "task1test1record")
    assert.strictEqual(shown.code, 0, shown.stderr)
    assert.deepInclude(JSON.parse(shown.stdout), { CustID: "task1test1record", TotalTnValue: 250, CustStatus: "Normal" })
  })

  it("list what was quarantined", () => {
    assert.strictEqual(pnpm("invoke", "events/batch-mixed.json").code, 0)
    const listed = pnpm("quarantine")
    assert.strictEqual(listed.code, 0, listed.stderr)
    assert.include(listed.stdout, "TnValue.N: must be a whole number of dollars")
    assert.include(listed.stdout, "2 quarantined record(s).")
  })

  it("name a configured table that was never provisioned", () => {
    const result = Commands.pnpmSync({ ...local.env, PROFILES_TABLE: "NeverMade" }, "customer", "x")
    assert.strictEqual(result.code, 1)
    assert.include(result.stderr, "table NeverMade does not exist; run `pnpm provision` first")
  })

  it("say there is no profile, with exit code 1", () => {
    const result = pnpm("customer", "nobody-here")
    assert.strictEqual(result.code, 1)
    assert.include(result.stderr, 'no profile for CustID "nobody-here"')
  })

  it("answer --help and reject wrong arguments with the usage", async () => {
    // Each only reads its arguments and exits: run side by side.
    const run = (...args: ReadonlyArray<string>) => Commands.pnpm(local.env, ...args)
    const commands = ["provision", "verify", "invoke", "put-transaction", "customer", "quarantine", "teardown", "local:logs", "local:stop"]
    const [helps, wrong, badTarget, badVerifyTarget, tooFew, noFile] = await Promise.all([
      Promise.all(commands.map(async (command) => ({ command, help: await run(...command.split(" "), "--help") }))),
      run("invoke"),
      run("provision", "--target", "mars"),
      run("verify", "--target", "mars"),
      run("put-transaction", "c", "1"),
      run("invoke", "no-such-file.json")
    ])
    for (const { command, help } of helps) {
      assert.strictEqual(help.code, 0, command)
      assert.include(help.stdout, "Usage: pnpm", command)
    }
    assert.strictEqual(wrong.code, 2)
    assert.include(wrong.stderr, "expected 1 argument(s)")
    assert.strictEqual(badTarget.code, 2)
    assert.include(badVerifyTarget.stderr, "--target must be local or aws")
    assert.strictEqual(tooFew.code, 2)
    assert.strictEqual(noFile.code, 2)
  })

  it("write a transaction row once, checked like a stream image", () => {
    assert.strictEqual(pnpm("put-transaction", "cli-cust", "7", "120").code, 0)
    const again = pnpm("put-transaction", "cli-cust", "7", "120")
    assert.strictEqual(again.code, 1)
    assert.include(again.stderr, "transaction 7 of cli-cust already exists")
    const bad = pnpm("put-transaction", "cli-cust", "x", "1.5")
    assert.strictEqual(bad.code, 1)
    assert.include(bad.stderr, "TnValue.N: must be a whole number of dollars; TnNum.N: must be an integer")
  })

  it("stop the runner and the background DynamoDB Local", () => {
    const first = pnpm("local:stop").stdout
    assert.include(first, "Runner stopped.")
    assert.include(first, "stopped.")
    const second = pnpm("local:stop").stdout
    assert.include(second, "Runner is not running.")
    assert.include(second, "DynamoDB Local is not running")
  })
})

describe("the pnpm commands on the AWS target", () => {
  // Nothing may reach AWS: requests, if any, go to this stand-in on 127.0.0.1, which answers STS's
  // GetCallerIdentity and says every DynamoDB table and Lambda function is missing.
  const requests: Array<{ readonly service: string; readonly authorization: string }> = []
  const server = createServer((request, response) => {
    let body = ""
    request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => {
      const authorization = request.headers.authorization ?? ""
      const service = /\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization)?.[1] ?? "unsigned"
      requests.push({ service, authorization })
      if (body.includes("Action=GetCallerIdentity")) {
        response.writeHead(200, { "content-type": "text/xml" }).end(
          `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
            `<Arn>arn:aws:sts::123456789012:assumed-role/Dev/me</Arn><UserId>AROAEXAMPLE:me</UserId><Account>123456789012</Account>` +
            `</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
        )
      } else if (String(request.headers["x-amz-target"] ?? "").startsWith("DynamoDB")) {
        response.writeHead(400, { "content-type": "application/x-amz-json-1.0" }).end(
          JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", message: "Requested resource not found" })
        )
      } else {
        response.writeHead(404, { "content-type": "application/json", "x-amzn-errortype": "ResourceNotFoundException" }).end(
          JSON.stringify({ Type: "User", Message: "Function not found" })
        )
      }
    })
  })
  let home = ""
  let clean: NodeJS.ProcessEnv = {}

  beforeAll(async () => {
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening))
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    home = mkdtempSync(join(tmpdir(), "aws-home-"))
    // No AWS_* variable that names a region or credentials, and a HOME (so ~/.aws) of nothing.
    clean = {
      PATH: process.env.PATH,
      HOME: home,
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      // Safety nets only: no instance metadata lookups, and every endpoint the stand-in.
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`
    }
  })
  afterAll(() => {
    server.close()
    rmSync(home, { recursive: true, force: true })
  })

  it("refuse to guess a region: none anywhere is one clear sentence, and nothing is sent", async () => {
    const result = await Commands.pnpm(clean, "status", "--target", "aws")
    assert.strictEqual(result.code, 1, result.stderr)
    assert.include(result.stderr, "error: no AWS region configured: pass --region, set AWS_REGION")
    assert.notInclude(result.stderr, "    at ")
    assert.deepStrictEqual(requests, [])
  })

  it("say which account, caller and region they work in before anything else, the profile's region on every request", async () => {
    writeFileSync(join(home, "config"), "[default]\nregion = eu-west-1\n")
    writeFileSync(join(home, "credentials"), "[default]\naws_access_key_id = AKIDCLITEST\naws_secret_access_key = test\n")
    const result = await Commands.pnpm(clean, "status", "--target", "aws")
    assert.strictEqual(
      result.stderr.split("\n")[0],
      "account 123456789012 (arn:aws:sts::123456789012:assumed-role/Dev/me) in eu-west-1",
      result.stderr
    )
    assert.strictEqual(requests[0]?.service, "sts")
    assert.includeMembers(requests.map((r) => r.service), ["dynamodb", "lambda"])
    for (const { authorization } of requests) assert.include(authorization, "/eu-west-1/")
  })
})
