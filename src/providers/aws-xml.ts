// A faster drop-in for the XML parser of the AWS SDK's EC2 Query protocol.
//
// @aws-sdk/xml-builder's parseXML (3.972.x) reads tag names, text and attribute values one character at a time with
// `s += x[i++]`. On 10,000 instances (about 20 MB of DescribeInstances and DescribeVolumes XML) that is ~0.7 s of
// CPU and much of the GC, which made it the largest single cost of `migrate discover aws`. This parser is the same
// algorithm, with the same output and the same errors for every input, but it finds the ends of names and text with
// indexOf/charCodeAt and cuts them with slice. test/discover/aws-xml.test.ts checks that equivalence against the
// SDK's own parser on generated documents, malformed ones included; everything else (signing, retries, paging, the
// schema-driven deserializer) stays the SDK's. `MIGRATE_AWS_SDK_XML=1` switches back to the SDK's parser.
// One known difference: both recurse per element, and this one's frames are larger, so a document nested more than
// ~2,100 levels deep overflows the stack here where the SDK's limit is ~2,500 (EC2 answers nest about 8 deep).

type XmlValue = string | XmlObject | XmlValue[]
interface XmlObject {
  [key: string]: XmlValue
}

const ENTITIES: Record<string, string> = {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'"}
const ENTITY = /&(?:#x([0-9a-fA-F]{1,6})|#(\d{1,7})|([a-zA-Z][a-zA-Z0-9]{0,30}));/g

function decodeEntities(s: string): string {
  if (s.indexOf('&') === -1) return s
  return s.replace(ENTITY, (_, hex?: string, dec?: string, named?: string) => {
    if (hex) return String.fromCharCode(parseInt(hex, 16))
    if (dec) return String.fromCharCode(parseInt(dec, 10))
    return ENTITIES[named!] ?? ''
  })
}

/** Defines an own, enumerable `__proto__` data property, as the SDK does, so no prototype is ever set. */
function writeKey(obj: object): void {
  Object.defineProperty(obj, '__proto__', {value: undefined, writable: true, enumerable: true, configurable: true})
}

// Character codes.
const SP = 32
const TAB = 9
const CR = 13
const LF = 10
const GT = 62
const SLASH = 47
const EQ = 61
const QM = 63
const LT = 60

/** An internalized copy of s (V8 internalizes strings used as property keys). */
function internalize(s: string): string {
  const o: Record<string, true> = {[s]: true}
  return Object.keys(o)[0]!
}

const isSpace = (c: number) => c === SP || c === TAB || c === CR || c === LF
/** Whether String.prototype.trim might remove this character (a superset: controls, space, and all non-ASCII). */
const mayTrim = (c: number) => c <= SP || c >= 0x7f

class Parser {
  private readonly x: string
  private readonly z: number
  private i = 0

  constructor(xml: string) {
    this.x = xml.indexOf('\r') === -1 ? xml : xml.replace(/\r\n?/g, '\n')
    this.z = this.x.length
  }

  parse(): XmlObject {
    const {z} = this
    while (this.i < z) {
      this.trim()
      if (this.i >= z) break
      if (this.x.startsWith('<?', this.i)) {
        this.readTo('?>')
        this.trim()
      } else if (this.x.startsWith('<!--', this.i)) {
        this.readTo('-->')
        this.trim()
      } else if (this.x.toLowerCase().startsWith('<!doctype', this.i)) {
        this.skipDoctype()
        this.trim()
      } else if (this.x.charCodeAt(this.i) === LT) {
        const value = this.parseTag()
        return {[this.tag]: value}
      } else {
        throw new Error('@aws-sdk XML parse error: unexpected content.')
      }
    }
    throw new Error('@aws-sdk XML parse error: no root element.')
  }

  private readTo(stop: string): string {
    const at = this.x.indexOf(stop, this.i)
    if (at === -1) throw new Error(`@aws-sdk XML parse error: expected "${stop}" not found.`)
    const result = this.x.slice(this.i, at)
    this.i = at + stop.length
    return result
  }

  private trim(): void {
    while (this.i < this.z && isSpace(this.x.charCodeAt(this.i))) ++this.i
  }

  private readAttrValue(): string {
    const quote = this.x[this.i]!
    const start = ++this.i
    let end = this.x.indexOf(quote, start)
    if (end === -1) end = this.z
    this.i = end + 1
    return decodeEntities(this.x.slice(start, end))
  }

  /**
   * Tag names, shared: a name seen before is found by length, first character and a compare, instead of cutting a
   * new string that V8 must then hash and look up each time it is used as a property key (the SDK parser's main
   * cost after the character-by-character reading).
   */
  private readonly names = new Map<number, string[]>()

  private name(start: number, end: number): string {
    const len = end - start
    if (len === 0 || len > 200) return this.x.slice(start, end)
    const key = len * 65536 + this.x.charCodeAt(start)
    let list = this.names.get(key)
    if (list !== undefined) {
      for (const n of list) if (this.x.startsWith(n, start)) return n
      // Many names alike (a hostile or broken answer): stop sharing rather than scan ever longer lists.
      if (list.length >= 16) return this.x.slice(start, end)
    } else {
      list = []
      this.names.set(key, list)
    }
    // Flattened and internalized once: a property key from here on.
    const n = internalize(this.x.slice(start, end))
    list.push(n)
    return n
  }

  /** Parses the element at '<'; its name is left in this.tag (so no {tag, value} pair is allocated per element). */
  private tag = ''

  private parseTag(): XmlValue {
    const x = this.x
    const z = this.z
    const start = ++this.i
    while (this.i < z) {
      const c = x.charCodeAt(this.i)
      if (isSpace(c) || c === GT || c === SLASH) break
      ++this.i
    }
    const tag = this.name(start, this.i)
    let attrs: XmlObject | undefined
    while (this.i < z) {
      this.trim()
      const c = x.charCodeAt(this.i)
      if (c === GT || c === SLASH) break
      const nameStart = this.i
      while (this.i < z) {
        const d = x.charCodeAt(this.i)
        if (d === EQ || isSpace(d) || d === GT || d === SLASH || d === QM) break
        ++this.i
      }
      const name = x.slice(nameStart, this.i)
      this.trim()
      if (x.charCodeAt(this.i) !== EQ) break
      ++this.i
      this.trim()
      attrs ??= {}
      if (name === '__proto__') writeKey(attrs)
      attrs[name] = this.readAttrValue()
    }
    if (this.i >= z) throw new Error('@aws-sdk XML parse error: unexpected end of input.')
    if (x.charCodeAt(this.i) === SLASH) {
      ++this.i
      if (this.i >= z || x.charCodeAt(this.i) !== GT) throw new Error('@aws-sdk XML parse error: expected > at the end of self-closing tag.')
      ++this.i
      this.tag = tag
      return attrs ?? ''
    }
    if (x.charCodeAt(this.i) !== GT) throw new Error('@aws-sdk XML parse error: expected > at the end of opening tag.')
    ++this.i
    // Most elements hold one text or nothing: the lists are made only when a second part or a child shows up.
    let text: string | undefined
    let textParts: string[] | undefined
    let childTags: string[] | undefined
    let childValues: XmlValue[] | undefined
    while (this.i < z) {
      if (x.charCodeAt(this.i) === LT) {
        if (x.charCodeAt(this.i + 1) === SLASH) break
        if (x.startsWith('<!--', this.i)) {
          this.readTo('-->')
          continue
        }
        let part: string
        if (x.startsWith('<![CDATA[', this.i)) {
          this.i += 9
          part = this.readTo(']]>')
        } else if (x.startsWith('<?', this.i)) {
          this.readTo('?>')
          continue
        } else {
          const value = this.parseTag()
          if (childTags === undefined) {
            childTags = [this.tag]
            childValues = [value]
          } else {
            childTags.push(this.tag)
            childValues!.push(value)
          }
          continue
        }
        if (text === undefined) text = part
        else (textParts ??= [text]).push(part)
      } else {
        let end = x.indexOf('<', this.i)
        if (end === -1) end = z
        const part = decodeEntities(x.slice(this.i, end))
        this.i = end
        if (text === undefined) text = part
        else (textParts ??= [text]).push(part)
      }
    }
    if (!x.startsWith('</', this.i)) throw new Error(`@aws-sdk XML parse error: missing closing tag </${tag}>.`)
    this.i += 2
    // The usual case, "</tag>", without cutting and trimming a copy of it. Only for names trim() would not change
    // (the SDK trims the closing name, so "<a\f>…</a\f>" must fail as it does there): else the SDK's way.
    if (x.startsWith(tag, this.i) && x.charCodeAt(this.i + tag.length) === GT && !mayTrim(tag.charCodeAt(0)) && !mayTrim(tag.charCodeAt(tag.length - 1))) {
      this.i += tag.length + 1
    } else {
      const closeTag = this.readTo('>').trim()
      if (closeTag !== tag) throw new Error(`@aws-sdk XML parse error: mismatched tags <${tag}> and </${closeTag}>.`)
    }
    this.tag = tag
    if (attrs === undefined && text === undefined && childTags === undefined) return ''
    if (attrs === undefined && childTags === undefined) {
      const all = textParts === undefined ? text! : textParts.join('')
      if (all.trim() === '' && all.includes('\n')) return ''
      return all
    }
    // From here on, the SDK's code as it is: `in` (which sees Object.prototype) and all.
    const obj: XmlObject = {}
    for (const part of textParts ?? (text === undefined ? [] : [text])) {
      if (part.trim() === '' && part.includes('\n')) continue
      obj['#text'] = '#text' in obj ? (obj['#text'] as string) + part : part
    }
    if (childTags !== undefined) {
      for (let k = 0; k < childTags.length; k++) {
        const childTag = childTags[k]!
        const value = childValues![k]!
        if (childTag === '__proto__') writeKey(obj)
        if (childTag in obj) {
          const have = obj[childTag]
          if (Array.isArray(have)) have.push(value)
          else obj[childTag] = [have!, value]
        } else {
          obj[childTag] = value
        }
      }
    }
    if (attrs !== undefined) {
      for (const [k, v] of Object.entries(attrs)) {
        if (k === '__proto__') writeKey(obj)
        obj[k] = v
      }
    }
    return obj
  }

  private skipDoctype(): void {
    this.i += 9
    let depth = 0
    while (this.i < this.z) {
      const c = this.x[this.i]
      if (c === '[') ++depth
      else if (c === ']') --depth
      else if (c === '>' && depth === 0) {
        ++this.i
        return
      }
      ++this.i
    }
    throw new Error('@aws-sdk XML parse error: unclosed DOCTYPE.')
  }
}

/** The same result as @aws-sdk/xml-builder's parseXML(xml), or the same error. */
export function parseXml(xml: string): XmlObject {
  return new Parser(xml).parse()
}

/** @smithy/core's getValueFromTextNode: objects holding a "#text" become that text, recursively. */
function valueFromTextNode(obj: any): any {
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue
    if (obj[key]['#text'] !== undefined) obj[key] = obj[key]['#text']
    else if (typeof obj[key] === 'object' && obj[key] !== null) obj[key] = valueFromTextNode(obj[key])
  }
  return obj
}

/** What XmlShapeDeserializer.parseXml (in @aws-sdk/core/protocols) does, with parseXml above as its parser. */
export function deserializerParseXml(xml: string): unknown {
  if (!xml.length) return {}
  let parsed: XmlObject
  try {
    parsed = parseXml(xml)
  } catch (error) {
    if (error && typeof error === 'object') Object.defineProperty(error, '$responseBodyText', {value: xml})
    throw error
  }
  const key = Object.keys(parsed)[0]!
  const root = parsed[key] as any
  if (root['#text']) {
    root[key] = root['#text']
    delete root['#text']
  }
  return valueFromTextNode(root)
}

interface ProtocolModule {
  AwsEc2QueryProtocol: new (options: unknown) => {deserializer?: {parseXml?: unknown}}
}

/**
 * The EC2 client's protocol class with this parser in its deserializer, for `new EC2Client({protocol})`; undefined
 * (so the SDK's default is used) when switched off or when the SDK's shape is not the one this was written for.
 */
export function fastEc2Protocol(protocols: ProtocolModule | undefined): ProtocolModule['AwsEc2QueryProtocol'] | undefined {
  if (process.env.MIGRATE_AWS_SDK_XML === '1' || typeof protocols?.AwsEc2QueryProtocol !== 'function') return undefined
  const Base = protocols.AwsEc2QueryProtocol
  return class FastXmlEc2QueryProtocol extends Base {
    constructor(options: unknown) {
      super(options)
      const d = this.deserializer
      if (d && typeof d.parseXml === 'function') d.parseXml = deserializerParseXml
    }
  }
}
