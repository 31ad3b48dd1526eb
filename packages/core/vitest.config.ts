import { defineProject } from "vitest/config"
import { sourceResolution } from "../../vitest.workspace.js"

export default defineProject({
  ...sourceResolution,
  test: {
    name: "core",
    include: ["test/**/*.test.ts"],
    // Package.test.ts runs tsc on the built declarations: seconds on an idle machine, far more on a busy CI runner.
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
