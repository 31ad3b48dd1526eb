/**
 * The operator's policy against what provision and teardown really send: every request the SDK clients
 * carried in the provision and teardown runs on the pretend account (fresh and Jam, plan and apply, with
 * and without data) is evaluated by an IAM evaluator, so a call added to a step cannot go unchecked.
 */
import * as Effect from "effect/Effect"
import { assert, beforeAll, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import { awsSteps } from "../src/provision/AwsSteps.js"
import { awsTeardownSteps } from "../src/provision/AwsTeardown.js"
import * as Bundle from "../src/provision/Bundle.js"
import * as OperatorPolicy from "../src/provision/OperatorPolicy.js"
import * as FakeAws from "./support/FakeAws.js"
import * as IamCheck from "../../aws/test/support/IamCheck.js"
import * as RunSteps from "./support/RunSteps.js"

const names = Deployment.names()
const location: Deployment.Location = { partition: "aws", region: FakeAws.REGION, account: FakeAws.ACCOUNT }
const target = { names, location }

let artifact: Bundle.Artifact
beforeAll(async () => {
  artifact = await Effect.runPromise(Bundle.make)
}, 60_000)

/** Every request the pretend account's clients were sent since it was made, as IAM sees them. */
const recorded = () =>
  ([["dynamodb", FakeAws.dynamo], ["lambda", FakeAws.lambda], ["iam", FakeAws.iam], ["s3", FakeAws.s3]] as const).flatMap(([service, mock]) =>
    mock.calls().flatMap((call) => {
      const { command, input } = IamCheck.mockedCall(call)
      return IamCheck.sdkCallToIam(service, command, input, location, names.functionName)
    })
  )

describe("the operator policy, against the recorded provision and teardown", () => {
  it("allows every request provision and teardown send, on a fresh account and on the Jam's", async () => {
    const requests: Array<IamCheck.IamRequest> = []
    for (const [prepare, adopted] of [[() => FakeAws.account(), undefined], [() => FakeAws.jamAccount().account, "JamLambdaRole"]] as const) {
      const account = prepare()
      await RunSteps.succeeded(awsSteps(target, Effect.sync(() => artifact)), { mode: "plan" })
      await RunSteps.succeeded(awsSteps(target, Effect.sync(() => artifact)), { yes: true })
      for (const name of Deployment.tableNames(names)) account.itemCounts.set(name, 1)
      await RunSteps.succeeded(awsTeardownSteps(target, { deleteData: true, forceDeleteData: true }), { yes: true })
      const calls = recorded()
      requests.push(...calls)

      const denied = await IamCheck.simulate(OperatorPolicy.document(location, names, adopted === undefined ? {} : { adoptedRoleName: adopted }), calls, location)

      assert.deepStrictEqual(denied, [])
    }
    // The recording covers what the issue names: the caller's account is read elsewhere (STS), the rest here.
    const actions = new Set(requests.map((r) => r.action))
    for (const action of ["dynamodb:CreateBackup", "lambda:PublishVersion", "dynamodb:ListTagsOfResource", "lambda:ListTags", "s3:CreateBucket", "iam:PassRole"]) {
      assert.isTrue(actions.has(action), `${action} was recorded`)
    }
  })
})
