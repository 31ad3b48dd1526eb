/**
 * `pnpm local:stop` stops only what a DYNA_HOME of ours names: tried with a fake user home (in a
 * temporary folder, never the real $HOME) whose pid files name a live process of the "user's".
 */
import * as Home from "@dyna/tools/local/Home"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import * as Commands from "./support/Commands.js"

const root = mkdtempSync(join(tmpdir(), "local-stop-test-"))
const children: Array<ChildProcess> = []
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  rmSync(root, { recursive: true, force: true })
})

/** A process that runs until it is signalled, standing for anything a pid file might name. */
const sleeper = () => {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" })
  children.push(child)
  return child
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const snapshot = (dir: string): Array<string> =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).sort().map((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? `${name}/` : `${name}: ${readFileSync(path, "utf8")}`
  })

/** A home whose pid files (at the local stack's own names) name the sleeper. */
const homeNaming = (pid: number) => {
  const home = mkdtempSync(join(root, "home-"))
  writeFileSync(join(home, ".bashrc"), "export PATH\n")
  mkdirSync(join(home, "runner"))
  writeFileSync(join(home, "runner", "runner.pid"), `${pid}\n`)
  writeFileSync(join(home, "dynamodb.pid"), `${pid}\n`)
  return home
}

const localStop = (home: string) =>
  Commands.pnpm({ ...process.env, DYNA_HOME: home, AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:1" }, "local:stop")

describe("pnpm local:stop", () => {
  it("with DYNA_HOME=$HOME stops and deletes nothing, and says why", async () => {
    const user = sleeper()
    const pid = user.pid ?? 0
    const home = homeNaming(pid)
    const before = snapshot(home)
    const result = await localStop(home)
    assert.strictEqual(result.code, 1, result.stdout)
    assert.include(result.stderr, `no ${Home.MARKER} in it`)
    assert.isTrue(alive(pid), "the user's process was stopped")
    assert.deepStrictEqual(snapshot(home), before)
  })

  it("stops the processes a home provision made names", async () => {
    const ours = sleeper()
    const pid = ours.pid ?? 0
    const home = homeNaming(pid)
    Home.mark(home)
    const result = await localStop(home)
    assert.strictEqual(result.code, 0, result.stderr)
    assert.include(result.stdout, "Runner stopped.")
    assert.isFalse(alive(pid))
  })
})
