// The real Mermaid renderer under jsdom, for tests: jsdom gives the DOM, DOMPurify and the SVG tree Mermaid draws
// into; it has no layout engine, so SVGElement#getBBox and getComputedTextLength (text widths, used for placing
// labels) are measured as 8 px per character. Everything else is Mermaid's own code: its lexer, parser, Gantt DB,
// date arithmetic and SVG drawing. A chart that does not parse or draw makes `renderGantt` throw.
import {JSDOM} from 'jsdom'

export interface GanttTask {
  id: string
  /** The name as drawn (entities decoded). */
  name: string
  start: string
  end: string
  milestone: boolean
  crit: boolean
  section: string
}

export interface RenderedGantt {
  svg: string
  /** Texts of the task labels in the SVG, whitespace-normalised. */
  labels: string[]
  sections: string[]
  title: string
  tasks: GanttTask[]
}

let mermaidPromise: Promise<typeof import('mermaid').default> | undefined

function loadMermaid() {
  if (mermaidPromise) return mermaidPromise
  const dom = new JSDOM('<!doctype html><html><body></body></html>', {
    pretendToBeVisual: true,
    url: 'http://localhost/',
  })
  const win = dom.window as unknown as Record<string, unknown>
  for (const key of Object.getOwnPropertyNames(dom.window)) {
    if (key in globalThis) continue
    Object.defineProperty(globalThis, key, {value: win[key], configurable: true, writable: true})
  }
  Object.defineProperty(globalThis, 'window', {value: dom.window, configurable: true, writable: true})
  const width = (el: Element) => (el.textContent ?? '').length * 8
  const svg = dom.window.SVGElement.prototype as unknown as Record<string, unknown>
  svg.getBBox = function (this: Element) {
    return {x: 0, y: 0, width: width(this), height: 16}
  }
  svg.getComputedTextLength = function (this: Element) {
    return width(this)
  }
  mermaidPromise = import('mermaid').then((m) => {
    m.default.initialize({startOnLoad: false, securityLevel: 'strict'})
    return m.default
  })
  return mermaidPromise
}

const norm = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim()
/** Mermaid keeps entities as placeholders in its DB until it draws; decode them the way its drawing does. */
const decodePlaceholders = (s: string) =>
  s.replace(/ﬂ°°(\d+)¶ß/g, (_, n) => String.fromCodePoint(Number(n))).replace(/ﬂ°(\w+)¶ß/g, (_, n) => `&${n};`)

let counter = 0

export async function renderGantt(text: string): Promise<RenderedGantt> {
  const mermaid = await loadMermaid()
  const {svg} = await mermaid.render(`gantt${++counter}`, text)
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml')
  if (doc.querySelector('parsererror')) throw new Error('Mermaid produced an SVG that does not parse')
  const role = doc.documentElement.getAttribute('aria-roledescription')
  if (role !== 'gantt') throw new Error(`Mermaid drew a "${role}" picture, not a Gantt chart`)
  const labels = [...doc.querySelectorAll('text')]
    .filter((t) => /\btaskText/.test(t.getAttribute('class') ?? ''))
    .map((t) => norm(t.textContent))
  const sections = [...doc.querySelectorAll('text.sectionTitle')].map((t) => norm(t.textContent))
  const title = norm(doc.querySelector('text.titleText')?.textContent)
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(text)
  const db = diagram.db as unknown as {
    getTasks(): {
      id: string
      task: string
      startTime: Date
      endTime: Date
      milestone?: boolean
      crit?: boolean
      section: string
    }[]
  }
  const tasks = db.getTasks().map((t) => {
    if (
      !(t.startTime instanceof Date) ||
      Number.isNaN(t.startTime.getTime()) ||
      !(t.endTime instanceof Date) ||
      Number.isNaN(t.endTime.getTime())
    )
      throw new Error(`task ${t.id} has no valid dates`)
    return {
      id: t.id,
      name: norm(decodePlaceholders(t.task)),
      start: localDay(t.startTime),
      end: localDay(t.endTime),
      milestone: Boolean(t.milestone),
      crit: Boolean(t.crit),
      section: norm(decodePlaceholders(t.section)),
    }
  })
  return {svg, labels, sections, title, tasks}
}

/** Mermaid parses YYYY-MM-DD as local midnight (dayjs): read it back the same way. */
function localDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}
