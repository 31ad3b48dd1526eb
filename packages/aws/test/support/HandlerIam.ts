/**
 * What the real handler asks of IAM, recorded in every test that runs it: each DynamoDB call its client
 * sends becomes IAM requests (`IamCheck.sdkCallToIam`), and after each test file they are all evaluated
 * against the inline policy provision writes. A call the policy does not allow, or one with no IAM
 * mapping, fails that file: a new call or attribute in the handler cannot pass unchecked.
 */
import { afterAll } from "vitest"
import type { Location, Names } from "../../src/Deployment.js"
import { policyDocument } from "../../src/FunctionPolicy.js"
import * as IamCheck from "./IamCheck.js"

/** Where the policy is evaluated: DynamoDB Local's ARNs name no real account, so one is made up. */
export const location: Location = { partition: "aws", region: "eu-west-1", account: "123456789012" }

/** The function's name in the evaluated policy (only its log group uses it). */
export const FUNCTION_NAME = "dyna-elite-under-test"

type TableNames = Pick<Names, "transactions" | "profiles" | "rejected" | "events">

/** The policy provision would write for a deployment on these tables. */
export const policyFor = (names: TableNames) => policyDocument(location, { ...names, prefix: "", functionName: FUNCTION_NAME })

/** One handler's recording: the distinct IAM requests its calls made, and calls that could not be mapped. */
export interface Recording {
  readonly names: TableNames
  readonly requests: Map<string, IamCheck.IamRequest>
  readonly unmapped: Array<string>
  /** Notes one SDK command the handler's client is about to send. */
  readonly record: (command: string, input: unknown) => void
}

const recordings: Array<Recording> = []

/** A recording for a handler over `names`, evaluated with the others after the test file. */
export const recording = (names: TableNames): Recording => {
  const requests = new Map<string, IamCheck.IamRequest>()
  const unmapped: Array<string> = []
  const record = (command: string, input: unknown) => {
    try {
      for (const r of IamCheck.sdkCallToIam("dynamodb", command, input, location)) requests.set(IamCheck.requestKey(r), r)
    } catch (error) {
      unmapped.push(error instanceof Error ? error.message : String(error))
    }
  }
  const made = { names, requests, unmapped, record }
  recordings.push(made)
  return made
}

/** Every request of every recording that the policy of its tables does not allow, described. */
export const denials = async (of: ReadonlyArray<Recording> = recordings): Promise<ReadonlyArray<string>> => {
  const found: Array<string> = []
  for (const r of of) {
    found.push(...r.unmapped)
    for (const d of await IamCheck.simulate(policyFor(r.names), [...r.requests.values()], location)) {
      found.push(`${d.decision}: ${d.request.action} on ${d.request.resource} ${JSON.stringify(d.request.context ?? {})} ${d.detail}`)
    }
  }
  return [...new Set(found)]
}

// Registered when a test file imports this module (through DynamoLocal): runs after all its tests.
afterAll(async () => {
  const found = await denials()
  recordings.length = 0
  if (found.length > 0) {
    throw new Error(`the handler made calls its IAM policy (provision/FunctionPolicy.ts) does not allow:\n${found.join("\n")}`)
  }
})
