/**
 * What one AWS deployment sustains, on paper: a pure function of the figures `pnpm bench` measured (the
 * `Inputs`) and of AWS's published prices and limits (the constants below). `bench/SCALING.md` explains
 * the model and quotes its tables; `pnpm bench --only scaling` recomputes them (`bench/rows/scaling.ts`).
 *
 * The model: Lambda's DynamoDB stream mapping runs one batch at a time per shard per
 * `ParallelizationFactor` (a "lane"); a lane that is behind always finds a full batch of `BATCH` records,
 * so it applies `BATCH` purchases per warm invocation. Nothing else in the pipeline queues.
 */

/** The mapping's batch size (`Deployment.mappingSettings.batchSize`). */
export const BATCH = 100

/** Prices and limits the model assumes, with where they come from. */
export const aws = {
  region: "us-east-1 (US East, N. Virginia)",
  /** DynamoDB on-demand, per million write request units (1 KB each; transactional writes take 2). */
  writePerMillion: 0.625,
  /** DynamoDB on-demand, per million read request units (a strongly consistent read of 4 KB). */
  readPerMillion: 0.125,
  /** In force since the on-demand price cut of 1 November 2024; looked up on the date below. */
  pricesSince: "1 November 2024",
  pricesRead: "2026-12-06",
  /** Lambda, per million invocations and per GB-second (x86). */
  lambdaPerMillionRequests: 0.2,
  lambdaPerGbSecond: 0.0000166667,
  /** The function's memory (`Deployment.functionSettings.memorySize`). */
  memoryMb: 256,
  /** Write units per second one partition takes; one item (a profile) lives in one partition. */
  partitionWrites: 1_000,
  /** A new on-demand table's warm write throughput: past it, DynamoDB scales the table up (doubling a previous peak). */
  warmWrites: 4_000,
  /** The default per-table write throughput quota of an account (a quota increase raises it). */
  tableWrites: 40_000,
  /** `ParallelizationFactor`'s range. */
  maxFactor: 10
} as const

/** One handler's measured figures, per purchase and per batch of `BATCH`. */
export interface Handler {
  /** Write units per purchase: 10 customers per batch, 100 customers per batch, one customer (hot). */
  readonly wcu: Mix
  /** Read units per purchase (strongly consistent reads count 1 per 4 KB). */
  readonly rcu: Mix
  /** Milliseconds of one warm invocation handling a full batch, on the bench's machine and DynamoDB Local. */
  readonly msPerBatch: Mix
  /** Write units per purchase that land on the one customer's profile item (hot customer). */
  readonly hotProfileWcu: number
}

export interface Mix {
  readonly ten: number
  readonly hundred: number
  readonly hot: number
}

export type MixName = keyof Mix

export const mixLabel: Record<MixName, string> = {
  ten: "10 customers per batch",
  hundred: "100 customers per batch",
  hot: "one customer (hot)"
}

export interface Inputs {
  readonly dyna: Handler
  readonly powertools: Handler
  /** Dyna Elite's cold init, ms of CPU time (a new execution environment's import and first event; row 4). */
  readonly coldInitMs: number
  /** Where each figure came from (row and run), for the note. */
  readonly sources: ReadonlyArray<string>
}

/** Concurrent batches: one per shard per factor. */
export const lanes = (shards: number, factor: number) => shards * factor

/** Purchases a second one lane applies when it is behind. */
export const perLane = (h: Handler, mix: MixName) => (BATCH * 1000) / h.msPerBatch[mix]

export interface Sustained {
  /** Purchases per second the lanes apply, before DynamoDB's table limits. */
  readonly lanesRate: number
  /** Purchases per second after the per-table write quota. */
  readonly rate: number
  /** The handler's write units per second at `rate`. */
  readonly wcuPerSecond: number
  /** What binds: the lanes, or the table's write quota. */
  readonly boundBy: "lanes" | "table quota"
  /** Past a new on-demand table's warm throughput: it throttles until DynamoDB has scaled it. */
  readonly pastWarm: boolean
}

/** What `shards × factor` lanes sustain on a mix (many customers: no partition is hot). */
export const sustained = (h: Handler, mix: MixName, shards: number, factor: number): Sustained => {
  const lanesRate = lanes(shards, factor) * perLane(h, mix)
  const wcu = h.wcu[mix]
  const quotaRate = aws.tableWrites / wcu
  const rate = Math.min(lanesRate, quotaRate)
  return { lanesRate, rate, wcuPerSecond: rate * wcu, boundBy: lanesRate <= quotaRate ? "lanes" : "table quota", pastWarm: rate * wcu > aws.warmWrites }
}

/** Dollars per million purchases: DynamoDB on-demand writes and reads, Lambda invocations and duration. */
export const costPerMillion = (h: Handler, mix: MixName) => {
  const writes = h.wcu[mix] * aws.writePerMillion
  const reads = h.rcu[mix] * aws.readPerMillion
  const invocations = 1e6 / BATCH
  const lambda = (invocations / 1e6) * aws.lambdaPerMillionRequests +
    invocations * (h.msPerBatch[mix] / 1000) * (aws.memoryMb / 1024) * aws.lambdaPerGbSecond
  return { writes, reads, lambda, total: writes + reads + lambda }
}

export interface HotCap {
  readonly rate: number
  readonly boundBy: string
  readonly caps: ReadonlyArray<{ readonly name: string; readonly rate: number }>
}

/**
 * One customer's most purchases a second, with `factor`:
 * - the shop's own PutItem into CustTransactions: 1 write unit a purchase, all on the customer's partition key;
 * - the profile item: `hotProfileWcu` write units a purchase, one item, one partition;
 * - the lanes the customer's records can use: with factor 1, one (a customer's records are in one shard);
 *   with factor F, up to F, since Lambda keeps order per item (CustID and TnNum), not per customer.
 */
export const hotCustomer = (h: Handler, factor: number): HotCap => {
  const caps = [
    { name: "CustTransactions partition (the shop's PutItems)", rate: aws.partitionWrites / 1 },
    { name: "profile item's partition", rate: aws.partitionWrites / h.hotProfileWcu },
    { name: `${factor} lane${factor === 1 ? "" : "s"}`, rate: factor * perLane(h, "hot") }
  ]
  const least = caps.reduce((a, b) => (b.rate < a.rate ? b : a))
  return { rate: least.rate, boundBy: least.name, caps }
}

const n0 = (n: number) => Math.round(n).toLocaleString("en")
const usd = (n: number) => `$${n < 0.1 ? n.toFixed(4) : n.toFixed(3)}`

/** The tables SCALING.md quotes, as Markdown. */
export const markdown = (inputs: Inputs): string => {
  const { dyna, powertools } = inputs
  const out: Array<string> = []
  out.push("Purchases per second one deployment sustains, and the handler's write units per second at that rate:", "")
  out.push(
    "| shards | factor | lanes | Dyna Elite, 10 per batch | WCU/s | Dyna Elite, 100 per batch | WCU/s | Powertools | WCU/s |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  )
  const cell = (s: Sustained) => [
    `${n0(s.rate)}${s.boundBy === "table quota" ? " (quota)" : ""}`,
    `${n0(s.wcuPerSecond)}${s.pastWarm ? "*" : ""}`
  ]
  for (const shards of [1, 4, 16, 64]) {
    for (const factor of [1, 2, 5, 10]) {
      out.push(`| ${shards} | ${factor} | ${lanes(shards, factor)} | ${[
        ...cell(sustained(dyna, "ten", shards, factor)),
        ...cell(sustained(dyna, "hundred", shards, factor)),
        ...cell(sustained(powertools, "ten", shards, factor))
      ].join(" | ")} |`)
    }
  }
  out.push(
    "",
    `\\* past a new on-demand table's warm write throughput (${n0(aws.warmWrites)} WRU/s): DynamoDB scales the table up, ` +
      `throttling until it has; (quota): capped by the default per-table quota of ${n0(aws.tableWrites)} WRU/s.`,
    "",
    `Dollars per million purchases, ${aws.region}, on-demand:`,
    "",
    "| handler | mix | WCU/purchase | RCU/purchase | ms/batch | DynamoDB writes | reads | Lambda | total |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  )
  for (const [name, h] of [["Dyna Elite", dyna], ["Powertools", powertools]] as const) {
    for (const mix of ["ten", "hundred", "hot"] as const) {
      const c = costPerMillion(h, mix)
      out.push(`| ${name} | ${mixLabel[mix]} | ${h.wcu[mix].toFixed(3)} | ${h.rcu[mix].toFixed(3)} | ${h.msPerBatch[mix].toFixed(0)} | ` +
        `${usd(c.writes)} | ${usd(c.reads)} | ${usd(c.lambda)} | ${usd(c.total)} |`)
    }
  }
  out.push(
    "",
    `Cold starts are left out of the rates: each lane's first invocation adds a cold init (${n0(inputs.coldInitMs)} ms of CPU time measured), ` +
      `once per execution environment, which Lambda then keeps warm while batches keep coming.`
  )
  out.push(
    "",
    "One hot customer's most purchases per second, and what caps it:",
    "",
    "| factor | Dyna Elite | bound by | Powertools | bound by |",
    "| ---: | ---: | --- | ---: | --- |"
  )
  for (const factor of [1, 2, 5, 10]) {
    const d = hotCustomer(dyna, factor)
    const p = hotCustomer(powertools, factor)
    out.push(`| ${factor} | ${n0(d.rate)} | ${d.boundBy} | ${n0(p.rate)} | ${p.boundBy} |`)
  }
  return out.join("\n")
}
