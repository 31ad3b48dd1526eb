/**
 * `pnpm bench` at its smoke size: every row runs end to end and the table and the results file agree.
 * The figures themselves are not checked (tiny sizes on a busy CI machine mean nothing); the README
 * quotes full runs.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import type { Row } from "../../bench/Row.js"
import * as Commands from "./support/Commands.js"

const dir = mkdtempSync(join(tmpdir(), "dyna-bench-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("pnpm bench", () => {
  it("runs every row at the smoke size and writes the table it prints to --out", async () => {
    const out = join(dir, "results.json")
    const ran = await Commands.pnpm({ ...process.env, BENCH_SIZE: "smoke" }, "bench", "--out", out)
    const results = JSON.parse(readFileSync(out, "utf8")) as { readonly size: string; readonly rows: ReadonlyArray<Row> }
    assert.strictEqual(results.size, "smoke")
    assert.deepStrictEqual([...new Set(results.rows.map((r) => r.name.slice(0, 2)))], ["1.", "2.", "3.", "4.", "5.", "6.", "7."])
    // 1.: write units at 10 and 100 customers against the naive and the Powertools handlers; 2.: delay;
    // 3.: 2 mixes × factor 1 and 4, against the writer and against Powertools; 4.: bundle and cold init
    // against the plain-SDK and the Powertools handlers, and Effect's share; 5.: backfill on the uniform
    // and the skewed table; 6.: the hot customer at 100 and 1,000 purchases and its flatness; 7.: the
    // scaling model's 6.
    assert.strictEqual(results.rows.length, 4 + 2 + 8 + 5 + 2 + 3 + 6)
    for (const row of results.rows) {
      assert.isTrue(Number.isFinite(row.dyna) && row.dyna >= 0 && row.baseline > 0, `${row.name}: ${row.dyna} vs ${row.baseline}`)
      assert.closeTo(row.ratio, row.dyna / row.baseline, 1e-9, row.name)
      assert.include(ran.stdout, row.name)
    }
    // Exit code 1 exactly when a target is missed, as --help says.
    assert.strictEqual(ran.code, results.rows.every((r) => r.met) ? 0 : 1, ran.stderr.slice(-2000))
    assert.include(ran.stdout, `written: ${out}`)
  }, 420_000)

  it("profiles a cold start of both handlers by package, and refuses a bad --runs with exit code 2", async () => {
    const ran = await Commands.pnpm(process.env, "bench:cold-profile", "--runs", "1")
    assert.strictEqual(ran.code, 0, ran.stderr.slice(-2000))
    for (const name of ["Dyna Elite", "plain SDK"]) assert.match(ran.stdout, new RegExp(`^${name}: [0-9.]+ ms of CPU per cold start \\(1 start\\)$`, "m"))
    // Only Dyna Elite's bundle holds Effect, named by module; both hold the SDK.
    const plain = ran.stdout.indexOf("plain SDK:")
    assert.match(ran.stdout.slice(0, plain), /ms {2}Effect \(\S+\.js [0-9.]+/)
    assert.notMatch(ran.stdout.slice(plain), /Effect/)
    assert.match(ran.stdout.slice(plain), /ms {2}AWS SDK/)
    const bad = await Commands.pnpm(process.env, "bench:cold-profile", "--runs", "0")
    assert.strictEqual(bad.code, 2)
    assert.include(bad.stderr, `--runs "0": expected a whole number from 1`)
  }, 120_000)

  it("names the benchmarks it knows when asked for another, with exit code 2", async () => {
    const ran = await Commands.pnpm(process.env, "bench", "--only", "speed")
    assert.strictEqual(ran.code, 2)
    assert.include(ran.stderr, "unknown benchmark speed; choose from cost, latency, throughput, artifact, backfill, hotcustomer, scaling")
  })
})
