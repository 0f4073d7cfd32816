// Every test file gives back the ports it reserved (test/helpers/ports.ts) when it ends: vitest may end a worker with
// a signal, when its exit handler does not run (the locks it leaves are stale, taken over, but clutter /tmp).
import {afterAll} from 'vitest'
import {releaseAllPorts} from '../src/db/lab/ports.js'

afterAll(() => releaseAllPorts())
