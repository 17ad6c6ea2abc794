// Differential oracle: reads a JSON array of simulations on stdin, runs each through
// @cloud-copilot/iam-simulate (installed at test time, never vendored: AGPL) and prints a JSON array
// of {id, result, error} in the same order. One process for the whole batch.
'use strict'
const path = require('path')
const { createRequire } = require('module')
const lib = createRequire(path.join(process.env.IAM_SIMULATE_DIR, 'package.json'))(
  '@cloud-copilot/iam-simulate'
)

async function main() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  // {cases, repeat}: the benchmark evaluates every case `repeat` times and keeps the last result.
  const cases = Array.isArray(input) ? input : input.cases
  const repeat = Array.isArray(input) ? 1 : input.repeat || 1
  const out = []
  const started = process.hrtime.bigint()
  const cpuStart = process.cpuUsage()
  for (let i = 1; i < repeat; i++) {
    for (const c of cases) await lib.runSimulation(c.simulation, {})
  }
  for (const c of cases) {
    try {
      const r = await lib.runSimulation(c.simulation, {})
      if (r.resultType === 'error') {
        out.push({ id: c.id, result: null, error: JSON.stringify(r.errors) })
      } else {
        out.push({ id: c.id, result: r.overallResult, error: null })
      }
    } catch (e) {
      out.push({ id: c.id, result: null, error: String(e && e.message ? e.message : e) })
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const cpu = process.cpuUsage(cpuStart)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  process.stdout.write(JSON.stringify({ results: out, seconds, cpuSeconds, evaluations: cases.length * repeat }))
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n')
  process.exit(1)
})
