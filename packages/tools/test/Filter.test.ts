import * as Events from "@dyna/core/Events"
import * as Result from "effect/Result"
import { assert, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import * as Filter from "../src/local/Filter.js"

const parsed = (...patterns: ReadonlyArray<unknown>): Filter.Filter => {
  const result = Filter.parseAll(patterns.map((p) => JSON.stringify(p)))
  if (Result.isFailure(result)) throw new Error(result.failure.message)
  return result.success
}

const refusal = (pattern: string) => {
  const result = Filter.parse(pattern)
  return Result.isFailure(result) ? result.failure.message : undefined
}

const insert = Events.insert({ custId: "c-1", tnNum: 1, tnValue: 250, sequenceNumber: Events.sequenceNumber(1) })
const modify = Events.change("MODIFY", { custId: "c-1", tnNum: 1, tnValue: 250, sequenceNumber: Events.sequenceNumber(2) })
const remove = Events.change("REMOVE", { custId: "c-1", tnNum: 1, tnValue: 250, sequenceNumber: Events.sequenceNumber(3) })

describe("Filter", () => {
  it("lets only INSERTs through with the deployment's pattern", () => {
    const filter = parsed(...Deployment.mappingSettings.filterPatterns.map((p) => JSON.parse(p)))
    assert.deepStrictEqual([insert, modify, remove].map((r) => Filter.matches(filter, r)), [true, false, false])
  })

  it("lets everything through when there are no patterns", () => {
    assert.isTrue(Filter.matches(parsed(), remove))
  })

  it("passes a record that any one of the patterns matches", () => {
    const filter = parsed({ eventName: ["MODIFY"] }, { eventName: ["REMOVE"] })
    assert.deepStrictEqual([insert, modify, remove].map((r) => Filter.matches(filter, r)), [false, true, true])
  })

  it("matches nested fields, all of them, by exact value and type", () => {
    const filter = parsed({ eventName: ["INSERT"], dynamodb: { NewImage: { TnValue: { N: ["250", "300"] } } } })
    assert.isTrue(Filter.matches(filter, insert))
    assert.isFalse(Filter.matches(filter, Events.insert({ custId: "c-1", tnValue: 251 })))
    // "250" in the image is a string: the number 250 does not match it.
    assert.isFalse(Filter.matches(parsed({ dynamodb: { NewImage: { TnValue: { N: [250] } } } }), insert))
  })

  it("needs the field to be there: a missing field matches nothing, not even null", () => {
    assert.isFalse(Filter.matches(parsed({ dynamodb: { OldImage: { CustID: { S: ["c-1"] } } } }), insert))
    assert.isFalse(Filter.matches(parsed({ userIdentity: [null] }), insert))
    assert.isTrue(Filter.matches(parsed({ userIdentity: [null] }), { ...insert, userIdentity: null }))
  })

  it("matches a list in the record when one of its elements matches", () => {
    const filter = parsed({ dynamodb: { NewImage: { Tags: { SS: ["gold"] } } } })
    const tagged = { dynamodb: { NewImage: { Tags: { SS: ["silver", "gold"] } } } }
    assert.isTrue(Filter.matches(filter, tagged))
    assert.isFalse(Filter.matches(filter, { dynamodb: { NewImage: { Tags: { SS: ["silver"] } } } }))
  })

  it("refuses the operators it does not implement, naming them", () => {
    for (const operator of ["prefix", "suffix", "anything-but", "numeric", "exists", "equals-ignore-case", "cidr", "wildcard"]) {
      const message = refusal(JSON.stringify({ eventName: [{ [operator]: "x" }] }))
      assert.include(message, `"${operator}" operator is not supported`)
    }
    assert.include(refusal(JSON.stringify({ $or: [{ eventName: ["INSERT"] }] })), `"$or" operator is not supported`)
  })

  it("refuses patterns that are not patterns", () => {
    assert.include(refusal("{eventName"), "not JSON")
    assert.include(refusal(`["INSERT"]`), "must be a JSON object")
    assert.include(refusal(JSON.stringify({ eventName: "INSERT" })), "eventName: expected an object or a list of values")
    assert.include(refusal(JSON.stringify({ eventName: [] })), "eventName: an empty list")
    assert.include(refusal(JSON.stringify({ dynamodb: { Keys: [["a"]] } })), "dynamodb.Keys: values must be")
    assert.include(refusal(JSON.stringify({})), "an empty object")
  })

  it("refuses the whole set when one pattern is bad", () => {
    const result = Filter.parseAll([JSON.stringify({ eventName: ["INSERT"] }), JSON.stringify({ eventName: [{ prefix: "M" }] })])
    assert.isTrue(Result.isFailure(result))
  })
})
