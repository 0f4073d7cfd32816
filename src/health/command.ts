// command health check: exit code and, optionally, what the output contains or matches.
import {describeFailure, runProcess} from '../process/run.js'
import type {HealthCheck} from '../schema/template.js'
import type {CheckResult} from './types.js'

type Cmd = Extract<HealthCheck, {type: 'command'}>

export async function runCommandCheck(
  check: Cmd,
  signal: AbortSignal,
  timeoutMs: number,
  env?: Record<string, string>,
  cwd?: string,
): Promise<CheckResult> {
  const r = await runProcess(check.run, {signal, timeoutMs, env, cwd})
  const durationMs = Math.round(r.durationMs)
  const out = r.stdout.trim()
  const data = {exitCode: r.exitCode, output: r.output}
  const name = check.run[0]
  if (r.exitCode !== check.exitCode)
    return {
      status: 'failed',
      message: `${name}: ${r.exitCode === undefined ? describeFailure(r, timeoutMs) : `exit code ${r.exitCode}, expected ${check.exitCode}`}`,
      durationMs,
      data,
    }
  if (check.outputContains !== undefined && !out.includes(check.outputContains))
    return {
      status: 'failed',
      message: `${name}: output does not contain ${JSON.stringify(check.outputContains)}`,
      durationMs,
      data,
    }
  if (check.outputMatches !== undefined && !new RegExp(check.outputMatches, 'm').test(out))
    return {status: 'failed', message: `${name}: output does not match /${check.outputMatches}/`, durationMs, data}
  return {
    status: 'passed',
    message: `${name}: exit code ${r.exitCode}${check.outputContains || check.outputMatches ? ', output as expected' : ''}`,
    durationMs,
    data,
  }
}
