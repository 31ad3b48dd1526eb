/**
 * The function's log group and its retention, on the pretend account: created tagged with the retention
 * when Lambda has not made it yet, the retention set on one Lambda made, unchanged on a second run, a
 * shorter retention on a group that is not ours put to a person, teardown deleting only ours.
 */
import { CreateLogGroupCommand, PutRetentionPolicyCommand } from "@aws-sdk/client-cloudwatch-logs"
import * as Result from "effect/Result"
import { assert, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import * as LogRetention from "../src/provision/LogRetention.js"
import * as FakeAws from "./support/FakeAws.js"
import * as RunSteps from "./support/RunSteps.js"

const FUNCTION = "JAM_Lambda_Exec_Function_EDIT_THIS"
const GROUP = `/aws/lambda/${FUNCTION}`
const owner = Deployment.ownerTag("", FakeAws.REGION)
const mutating = () => RunSteps.sent().filter((name) => RunSteps.mutating.test(name))
// Groups of other functions first: DescribeLogGroups pages two at a time, so ours is on a later page.
const others = ["/aws/lambda/A", "/aws/lambda/B", "/aws/lambda/C"].map((name) => ({ name }))

describe("the function's log group", () => {
  it("creates it, tagged and with 30 days, when the function has not run yet", async () => {
    const account = FakeAws.account({ logGroups: others })

    const { outcomes } = await RunSteps.succeeded([LogRetention.step(FUNCTION, owner)], { yes: true })

    assert.deepStrictEqual(outcomes, [{ action: "created", resource: GROUP, detail: "events expire after 30 days" }])
    assert.deepStrictEqual(FakeAws.logs.commandCalls(CreateLogGroupCommand).map((c) => c.args[0].input), [
      { logGroupName: GROUP, tags: { "dyna-elite": `${FakeAws.REGION}/` } }
    ])
    assert.deepStrictEqual(FakeAws.logs.commandCalls(PutRetentionPolicyCommand).map((c) => c.args[0].input), [
      { logGroupName: GROUP, retentionInDays: 30 }
    ])
    assert.strictEqual(account.logGroups.get(GROUP)?.retentionInDays, 30)
  })

  it("sets the retention on a group Lambda made that is too young to lose anything, without asking", async () => {
    const account = FakeAws.account({ logGroups: [{ name: GROUP }] })

    const { outcomes } = await RunSteps.succeeded([LogRetention.step(FUNCTION, owner)])

    assert.deepStrictEqual(outcomes, [{ action: "updated", resource: GROUP, detail: "events expire after 30 days (were: never expire)" }])
    assert.strictEqual(account.logGroups.get(GROUP)?.retentionInDays, 30)
  })

  it("changes nothing on a second run; sets another retention when asked", async () => {
    const account = FakeAws.account()
    await RunSteps.succeeded([LogRetention.step(FUNCTION, owner)], { yes: true })
    RunSteps.forgetRequests()

    const { outcomes } = await RunSteps.succeeded([LogRetention.step(FUNCTION, owner)], { yes: true })
    assert.deepStrictEqual(outcomes.map((o) => o.action), ["unchanged"])
    assert.deepStrictEqual(mutating(), [])

    const shorter = await RunSteps.succeeded([LogRetention.step(FUNCTION, owner, 7)])
    assert.deepStrictEqual(shorter.outcomes, [{ action: "updated", resource: GROUP, detail: "events expire after 7 days (were: 30 days)" }])
    assert.strictEqual(account.logGroups.get(GROUP)?.retentionInDays, 7)
  })

  it("asks before shortening the retention of an old group provision did not create, and keeps it at teardown", async () => {
    // The runs' TestClock stands at the epoch: the group is 100 days older, so it may hold events a month would delete.
    const account = FakeAws.account({ logGroups: [{ name: GROUP, storedBytes: 2048, creationTime: -100 * 24 * 60 * 60 * 1000 }] })

    const refused = await RunSteps.failed([LogRetention.step(FUNCTION, owner)])
    assert.deepStrictEqual(mutating(), [])
    assert.include(refused.lines.join("\n"), `deletes the log events older than 30 days from ${GROUP} (2048 bytes stored now), which provision did not create`)

    await RunSteps.succeeded([LogRetention.step(FUNCTION, owner)], { yes: true })
    assert.strictEqual(account.logGroups.get(GROUP)?.retentionInDays, 30)

    const removed = await RunSteps.succeeded([LogRetention.removeStep(FUNCTION, owner)], { yes: true })
    assert.deepInclude(removed.outcomes[0], { action: "kept" })
    assert.isTrue(account.logGroups.has(GROUP))
  })

  it("teardown deletes ours, then finds nothing; a plan sends nothing that changes", async () => {
    const account = FakeAws.account()
    await RunSteps.succeeded([LogRetention.step(FUNCTION, owner)], { yes: true })
    RunSteps.forgetRequests()

    await RunSteps.succeeded([LogRetention.removeStep(FUNCTION, owner)], { mode: "plan" })
    assert.deepStrictEqual(mutating(), [])
    const removed = await RunSteps.succeeded([LogRetention.removeStep(FUNCTION, owner)], { yes: true })
    const again = await RunSteps.succeeded([LogRetention.removeStep(FUNCTION, owner)], { yes: true })

    assert.deepStrictEqual([removed.outcomes[0]?.action, again.outcomes[0]?.action], ["deleted", "unchanged"])
    assert.isFalse(account.logGroups.has(GROUP))
  })
})

describe("--log-retention-days", () => {
  it("takes only what CloudWatch Logs accepts", () => {
    assert.deepStrictEqual(LogRetention.checkDays(undefined), Result.succeed(30))
    assert.deepStrictEqual(LogRetention.checkDays("365"), Result.succeed(365))
    for (const bad of ["0", "31", "-1", "abc", "3653.5"]) assert.isTrue(Result.isFailure(LogRetention.checkDays(bad)), bad)
  })
})
