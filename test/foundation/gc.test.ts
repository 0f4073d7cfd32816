// collectGarbage(): a full collection on demand (discover runs one once every source is done).
import {describe, expect, it} from 'vitest'
import {collectGarbage} from '../../src/io/gc.js'

describe('collectGarbage', () => {
  it('collects what nothing references any more, large objects included', async () => {
    let ref!: WeakRef<object>
    ;(() => {
      // 8 MB: a large object, which only a full (mark-compact) collection frees.
      ref = new WeakRef({big: new Float64Array(1_000_000)})
    })()
    // A WeakRef keeps its target alive until the job that made (or last dereferenced) it ends.
    await new Promise((r) => setTimeout(r, 0))
    collectGarbage()
    expect(ref.deref()).toBeUndefined()
  })
})
