/**
 * The DynaElite dashboard, on the pretend account: put with its console URL, unchanged on a second run,
 * a dashboard of our name without our marker kept (and not deleted by teardown), and graphs that name
 * only metrics the function really emits: read from the EMF line the real handler prints on DynamoDB Local.
 */
import { PutDashboardCommand } from "@aws-sdk/client-cloudwatch"
import * as Events from "@dyna/core/Events"
import * as Effect from "effect/Effect"
import { assert, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import * as Metrics from "@dyna/aws/Metrics"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"
import * as Dashboard from "../src/provision/Dashboard.js"
import * as FakeAws from "./support/FakeAws.js"
import * as RunSteps from "./support/RunSteps.js"

const FUNCTION = "JAM_Lambda_Exec_Function_EDIT_THIS"
const UUID = "14e0db71-0000-4000-8000-000000000000"
const owner = Deployment.ownerTag("dev-", FakeAws.REGION)
const options: Dashboard.Options = {
  prefix: "dev-",
  functionName: FUNCTION,
  owner,
  location: { partition: "aws", region: FakeAws.REGION },
  iteratorAgeSeconds: 60
}
const url = `https://${FakeAws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${FakeAws.REGION}#dashboards/dashboard/dev-DynaElite`
const mutating = () => RunSteps.sent().filter((name) => RunSteps.mutating.test(name))

describe("the dashboard", () => {
  it("puts dev-DynaElite with our marker in its first widget, and says its console URL", async () => {
    const account = FakeAws.account()

    const { outcomes, lines } = await RunSteps.succeeded([Dashboard.step(options, Effect.succeed(UUID))], { yes: true })

    assert.deepStrictEqual(outcomes, [{ action: "created", resource: "dev-DynaElite", detail: url }])
    assert.include(lines.join("\n"), url)
    const [put] = FakeAws.cloudWatch.commandCalls(PutDashboardCommand).map((c) => c.args[0].input)
    assert.strictEqual(put?.DashboardBody, JSON.stringify(Dashboard.body(options, UUID)))
    assert.isTrue(Dashboard.carriesMarker(account.dashboards.get("dev-DynaElite") ?? "", owner))
    assert.isFalse(Dashboard.carriesMarker(account.dashboards.get("dev-DynaElite") ?? "", Deployment.ownerTag("", FakeAws.REGION)))
  })

  it("shows each thing at a glance, in its own graph", () => {
    const titles = Dashboard.body(options, UUID).widgets.flatMap((w) => ("title" in w.properties ? [w.properties.title] : []))
    assert.deepStrictEqual(titles, [
      "Records applied and duplicates skipped, per minute",
      "Promotions to Elite, per minute",
      "Quarantined and given-up records, per minute",
      "Iterator age (maximum, ms): how far behind the stream",
      "Errors and throttles, per minute",
      "Duration (ms)",
      "Write units per transaction applied"
    ])
    assert.deepStrictEqual([...new Set(Dashboard.metricsOf(Dashboard.body(options, UUID)))], [
      "DynaElite/RecordsApplied",
      "DynaElite/DuplicatesSkipped",
      "DynaElite/Promotions",
      "DynaElite/Quarantined",
      "AWS/Lambda/OnFailureDestinationDeliveredEventCount",
      "AWS/Lambda/IteratorAge",
      "AWS/Lambda/Errors",
      "AWS/Lambda/Throttles",
      "AWS/Lambda/Duration",
      "DynaElite/BatchDuration",
      "DynaElite/WriteUnits"
    ])
  })

  it("changes nothing on a second run; updates ours when it differs", async () => {
    const account = FakeAws.account()
    await RunSteps.succeeded([Dashboard.step(options, Effect.succeed(UUID))], { yes: true })
    RunSteps.forgetRequests()

    const { outcomes } = await RunSteps.succeeded([Dashboard.step(options, Effect.succeed(UUID))], { yes: true })
    assert.deepStrictEqual(outcomes.map((o) => o.action), ["unchanged"])
    assert.deepStrictEqual(mutating(), [])

    const moved = await RunSteps.succeeded([Dashboard.step(options, Effect.succeed("another-mapping"))], { yes: true })
    assert.deepStrictEqual(moved.outcomes.map((o) => o.action), ["updated"])
    assert.include(account.dashboards.get("dev-DynaElite"), "another-mapping")
  })

  it("keeps a dashboard of our name without our marker, and teardown leaves it", async () => {
    const theirs = JSON.stringify({ widgets: [{ type: "text", x: 0, y: 0, width: 6, height: 2, properties: { markdown: "ours, the ops team's" } }] })
    const account = FakeAws.account({ dashboards: { "dev-DynaElite": theirs } })

    const { outcomes } = await RunSteps.succeeded([Dashboard.step(options, Effect.succeed(UUID))], { yes: true })
    const removed = await RunSteps.succeeded([Dashboard.removeStep("dev-", owner)], { yes: true })

    assert.deepInclude(outcomes[0], { action: "kept" })
    assert.deepInclude(removed.outcomes[0], { action: "kept" })
    assert.deepStrictEqual(mutating(), [])
    assert.strictEqual(account.dashboards.get("dev-DynaElite"), theirs)
  })

  it("teardown deletes ours, then finds nothing", async () => {
    const account = FakeAws.account()
    await RunSteps.succeeded([Dashboard.step(options, Effect.succeed(UUID))], { yes: true })

    const removed = await RunSteps.succeeded([Dashboard.removeStep("dev-", owner)], { yes: true })
    const again = await RunSteps.succeeded([Dashboard.removeStep("dev-", owner)], { yes: true })

    assert.deepStrictEqual([removed.outcomes[0]?.action, again.outcomes[0]?.action], ["deleted", "unchanged"])
    assert.isFalse(account.dashboards.has("dev-DynaElite"))
  })

  it("plans without changing anything, before the mapping exists", async () => {
    FakeAws.account()

    const { outcomes } = await RunSteps.succeeded([Dashboard.step(options, Effect.succeed(undefined))], { mode: "plan" })

    assert.deepStrictEqual(mutating(), [])
    assert.deepInclude(outcomes[0], { action: "created", resource: "dev-DynaElite", detail: `once the stream mapping exists; ${url}` })
  })

  it("names only the function's metrics that its EMF line declares (the real handler, on DynamoDB Local)", async () => {
    const names = await DynamoLocal.freshTables()
    const h = DynamoLocal.handler(names)
    try {
      await h.handler(Events.batch(DynamoLocal.inserts("dashboard-emf", [[1, 600]])))
      const emitted = h.printed.flatMap((line) => Metrics.emittedNames(line))
      assert.isNotEmpty(emitted)

      const ours = Dashboard.metricsOf(Dashboard.body(options, UUID))
        .filter((m) => m.startsWith(`${Metrics.NAMESPACE}/`))
        .map((m) => m.slice(Metrics.NAMESPACE.length + 1))
      assert.isNotEmpty(ours)
      assert.deepStrictEqual(ours.filter((m) => !emitted.includes(m)), [])
    } finally {
      await h.dispose()
    }
  })
})
