/**
 * The faults the reliability suite injects at the DynamoDB client, as the service would send them:
 * throttling and transaction conflicts before a call is sent, and a response lost after a write landed.
 * Chosen by a seeded random source; shared by the handler's worker process and the in-process backfill.
 */
import {
  ProvisionedThroughputExceededException,
  ThrottlingException,
  TransactionCanceledException,
  TransactionConflictException
} from "@aws-sdk/client-dynamodb"

/** A seeded source of numbers in [0, 1) (mulberry32): the same seed gives the same run of faults. */
export const random = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Every kind of fault the suite injects, as printed in its figures. */
export const KINDS = [
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "TransactionConflictException",
  "TransactionCanceledException (TransactionConflict)",
  "response lost after the write landed",
  "hot key: throttled through every retry"
] as const
export type Kind = (typeof KINDS)[number]

export interface Rates {
  /** Share of all calls answered, before they are sent, with throttling or a transaction conflict. */
  readonly before: number
  /** Share of writes that land but whose response is lost (a timeout after sending). */
  readonly lost: number
}


type Key = { readonly CustID?: { readonly S?: string } }

/**
 * The customers a profile call is about: a GetItem's or UpdateItem's key, a TransactWriteItems' profile
 * update, or every key of a BatchGetItem (a hot key among them throttles it all, as DynamoDB does when
 * it can read none of them; the reader then asks for each alone).
 */
export const customersOf = (input: Record<string, unknown>): ReadonlyArray<string> => {
  const transact = (input.TransactItems as Array<{ Update?: { Key?: Key } }> | undefined)?.[0]?.Update?.Key
  const batch = Object.values((input.RequestItems as Record<string, { Keys?: Array<Key> }> | undefined) ?? {}).flatMap((r) => r.Keys ?? [])
  return [input.Key as Key | undefined, transact, ...batch].flatMap((key) => (key?.CustID?.S === undefined ? [] : [key.CustID.S]))
}

/** Commands that change a table: the only ones a lost response matters for. */
export const isWrite = (command: string) =>
  command === "UpdateItemCommand" || command === "TransactWriteItemsCommand" || command === "PutItemCommand"

/** A profile write: what a kill is timed by. */
export const isProfileWrite = (command: string) => command === "UpdateItemCommand" || command === "TransactWriteItemsCommand"

/**
 * The fault to answer `command` with before sending it, if any. Reads see throttling; single writes
 * throttling or a conflict with a transaction in flight; a TransactWriteItems throttling or a cancellation
 * for a conflict, as DynamoDB reports it per item.
 */
export const before = (next: () => number, rates: Rates, command: string): Kind | undefined => {
  if (next() >= rates.before) return undefined
  const pick = next()
  if (command === "TransactWriteItemsCommand") {
    return pick < 0.5 ? "TransactionCanceledException (TransactionConflict)" : "ProvisionedThroughputExceededException"
  }
  if (isWrite(command)) {
    return pick < 1 / 3 ? "ProvisionedThroughputExceededException" : pick < 2 / 3 ? "ThrottlingException" : "TransactionConflictException"
  }
  return pick < 0.5 ? "ProvisionedThroughputExceededException" : "ThrottlingException"
}

/** Whether the response to a write that landed is lost. */
export const lost = (next: () => number, rates: Rates, command: string): boolean => isWrite(command) && next() < rates.lost

/** The SDK exception for a fault, shaped as the SDK would throw it. */
export const exception = (kind: Kind): Error => {
  const $metadata = { httpStatusCode: 400 }
  switch (kind) {
    case "ProvisionedThroughputExceededException":
      return new ProvisionedThroughputExceededException({ message: "The level of configured provisioned throughput for the table was exceeded", $metadata })
    case "ThrottlingException":
      return new ThrottlingException({ message: "Rate of requests exceeds the allowed throughput.", $metadata })
    case "TransactionConflictException":
      return new TransactionConflictException({ message: "Transaction is ongoing for the item", $metadata })
    case "TransactionCanceledException (TransactionConflict)":
      return new TransactionCanceledException({
        message: "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]",
        $metadata,
        CancellationReasons: [
          { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" },
          { Code: "None" }
        ]
      })
    case "hot key: throttled through every retry":
      return new ProvisionedThroughputExceededException({ message: "Throughput exceeds the current capacity for one or more partitions", $metadata })
    case "response lost after the write landed":
      // What the SDK throws when its request timeout passes after the request was sent.
      return Object.assign(new Error("Connection timed out after 10000 ms: the response never arrived"), { name: "TimeoutError" })
  }
}

/** Counts per kind, all kinds present. */
export const emptyCounts = (): Record<Kind, number> => Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>
