// The cloud SDKs load only when their provider runs: loading every discover command (as oclif does for the one that
// runs) must not pull in @aws-sdk/client-ec2 or @alicloud/ecs20140526.
import path from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {ROOT} from './helpers.js'

describe('lazy SDK loading', () => {
  it('importing the compiled discover commands loads no cloud SDK', async () => {
    const script = `
      import {createRequire} from 'node:module'
      for (const c of ['aws', 'alicloud', 'file', 'ssh', 'db']) await import('./dist/commands/discover/' + c + '.js')
      const cache = Object.keys(createRequire(import.meta.url).cache)
      console.log(JSON.stringify(cache.filter((k) => /client-ec2|ecs20140526|openapi-core|[\\\\/]pg[\\\\/]|mysql2|ioredis/.test(k))))`
    const r = await execa('node', ['--input-type=module', '-e', script], {cwd: ROOT})
    expect(JSON.parse(r.stdout)).toEqual([])
    expect(path.isAbsolute(ROOT)).toBe(true)
  })
})
