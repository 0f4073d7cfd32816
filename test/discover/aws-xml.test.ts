// src/providers/aws-xml.ts replaces the XML parser inside the AWS SDK's EC2 Query protocol. It must give exactly what
// the SDK's own parser gives, for every input: the same tree (key order, arrays, "#text", own "__proto__" keys) or
// the same error. These tests hold it against the installed SDK: on generated documents, on broken ones, on random
// text, through the SDK's deserializer, and end to end through the real EC2 client against the wire fixture.
import {createRequire} from 'node:module'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
// @ts-expect-error plain ESM fixture shared with the benchmark
import {makeEc2Region, startEc2Fixture} from '../fixtures/ec2-server.mjs'
import {deserializerParseXml, fastEc2Protocol, parseXml} from '../../src/providers/aws-xml.js'

const require = createRequire(import.meta.url)
const fromEc2 = createRequire(require.resolve('@aws-sdk/client-ec2'))
const fromCore = createRequire(fromEc2.resolve('@aws-sdk/core'))
const sdkXml: {parseXML: (xml: string) => unknown} = fromCore('@aws-sdk/xml-builder')
const protocols = fromEc2('@aws-sdk/core/protocols')
const ec2 = require('@aws-sdk/client-ec2')

type Outcome = {ok: true; value: unknown; keys: string} | {ok: false; error: string}

/** Key order matters too (the YAML we write follows it): compare a listing of every key path, in order. */
function keyListing(v: unknown, at = ''): string {
  if (typeof v !== 'object' || v === null) return `${at}=${typeof v === 'function' ? 'fn' : JSON.stringify(v)}\n`
  return Object.keys(v).map((k) => keyListing((v as Record<string, unknown>)[k], `${at}/${k}`)).join('') || `${at}={}\n`
}

/**
 * Deep equality that also follows prototypes structurally: a document like <__proto__>… makes both parsers (and the
 * SDK's post-processing) return an object whose prototype is a fresh array, equal in content but never identical.
 */
function sameTree(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b) || (typeof a === 'function' && a === b)
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false
  if (!ka.every((k) => sameTree((a as any)[k], (b as any)[k]))) return false
  const pa = Object.getPrototypeOf(a)
  const pb = Object.getPrototypeOf(b)
  return pa === pb || (pa !== Object.prototype && pa !== Array.prototype && pb !== Object.prototype && pb !== Array.prototype && sameTree(pa, pb))
}

function outcome(f: () => unknown): Outcome {
  try {
    const value = f()
    return {ok: true, value, keys: keyListing(value)}
  } catch (error) {
    return {ok: false, error: (error as Error).message}
  }
}

function expectSame(xml: string): void {
  const mine = outcome(() => parseXml(xml))
  const sdk = outcome(() => sdkXml.parseXML(xml))
  if (mine.ok && sdk.ok) {
    expect(sameTree(mine.value, sdk.value), `same tree for ${JSON.stringify(xml)}`).toBe(true)
    expect(mine.keys).toBe(sdk.keys)
  } else {
    expect(mine, `same outcome for ${JSON.stringify(xml)}`).toEqual(sdk)
  }
}

// A grammar of XML-ish documents with what the SDK parser treats specially: attributes (quoted both ways, unquoted,
// "__proto__"), entities (named, decimal, hex, unknown, a bare &), CDATA, comments, processing instructions, a
// DOCTYPE, CRLF and whitespace-only text, repeated children (→ arrays), names that live on Object.prototype.
const NAMES = ['item', 'a', 'b', 'instanceId', 'tagSet', 'key', 'value', '__proto__', 'toString', 'constructor', '#text', 'x:y', 'member', 'a\f', '\vb', 'c\u00a0', '\ufeffd', 'é', 'aa', 'ab', 'ac']
const name = fc.constantFrom(...NAMES)
const text = fc
  .array(fc.constantFrom('abc', ' ', '\n', '\r\n', '\r', '\t', '&amp;', '&lt;', '&#65;', '&#x42;', '&nbsp;', '&', '>', '"', "'", 'é', '10.0.0.1', 'i-0abc'), {maxLength: 6})
  .map((p) => p.join(''))
const attrValue = fc.constantFrom('"v"', "'v w'", '"a&amp;b"', '""', 'bare', '"x')
const attr = fc.tuple(fc.constantFrom('id', 'xmlns', '__proto__', 'a', 'b'), fc.constantFrom('=', ' = ', '='), attrValue).map(([n, eq, v]) => ` ${n}${eq}${v}`)

const element: fc.Memo<string> = fc.memo((depth) => {
  const leaf = fc.oneof(
    fc.tuple(name, fc.array(attr, {maxLength: 2})).map(([n, a]) => `<${n}${a.join('')}/>`),
    fc.tuple(name, fc.array(attr, {maxLength: 2}), text).map(([n, a, t]) => `<${n}${a.join('')}>${t}</${n}>`),
  )
  if (depth <= 1) return leaf
  const part = fc.oneof(
    {weight: 4, arbitrary: element(depth - 1)},
    {weight: 2, arbitrary: text},
    {weight: 1, arbitrary: fc.constantFrom('<!-- c -->', '<![CDATA[ <raw> & ]]>', '<?pi x?>', '\n  ')},
  )
  return fc.oneof(
    leaf,
    fc.tuple(name, fc.array(attr, {maxLength: 2}), fc.array(part, {maxLength: 5}), fc.constantFrom('', ' ', '\n')).map(([n, a, kids, sp]) => `<${n}${a.join('')}>${kids.join('')}</${n}${sp}>`),
  )
})

const prolog = fc.constantFrom('', '<?xml version="1.0" encoding="UTF-8"?>\n', '<!-- head -->', '<!DOCTYPE r [<!ENTITY e "x">]>\n', '<!doctype html>', '  \r\n')
const document = fc.tuple(prolog, element(4), fc.constantFrom('', '\n', ' trailing')).map(([p, e, t]) => p + e + t)

describe('the fast XML parser gives what the SDK parser gives', () => {
  it('on generated documents', () => {
    fc.assert(fc.property(document, (xml) => expectSame(xml)), {numRuns: 3000})
  })

  it('on broken documents: cut short, or with a character dropped in', () => {
    const broken = fc.tuple(document, fc.nat(), fc.constantFrom('', '<', '>', '/', '=', '"', "'", '&', '\r', ' ', '?', '!', '</a>', '<a')).map(([xml, at, ins]) => {
      const k = at % (xml.length + 1)
      return ins === '' ? xml.slice(0, k) : xml.slice(0, k) + ins + xml.slice(k)
    })
    fc.assert(fc.property(broken, (xml) => expectSame(xml)), {numRuns: 3000})
  })

  it('on random text over the characters that matter', () => {
    const chars = fc.array(fc.constantFrom('<', '>', '/', '=', '"', "'", '&', ';', '#', 'x', 'a', 'b', '1', ' ', '\n', '\r', '?', '!', '-', '[', ']', 'C', 'D', 'A', 'T'), {maxLength: 40})
    fc.assert(fc.property(chars, (c) => expectSame(c.join(''))), {numRuns: 3000})
  })

  it('on the edge cases by name', () => {
    for (const xml of [
      '',
      '<a/>',
      '<a></a>',
      '<a>\n</a>',
      '<a> </a>',
      '<a><b>1</b><b>2</b><b>3</b></a>',
      '<a><toString>1</toString></a>',
      '<a><__proto__><polluted>1</polluted></__proto__></a>',
      '<a __proto__="x"><b/></a>',
      '<__proto__><#text></#text>abc</__proto__>',
      '<r><__proto__><#text>1</#text>2</__proto__></r>',
      '<a><b>1</b>text<c/>more</a>',
      '<a x="1">t</a>',
      '<a x="1"/>',
      '<a>&#x1F600;&#128512;&unknown;&amp</a>',
      '<a><![CDATA[x]]><![CDATA[y]]></a>',
      '<a></b>',
      '<a></a >',
      '<a b=c d>x</a>',
      '<a',
      '<a/',
      '<a><b></a>',
      'no root',
      '<?xml version="1.0"?>',
      '<!DOCTYPE x [ <!ELEMENT x ANY> ]><x>1</x>',
      '<!DOCTYPE x [',
      '<a\f>x</a\f>',
      '<a\f>x</a>',
      '<a>x</a\u00a0>',
      '<r><b\u2028>1</b\u2028></r>',
      '<\ufeffa>1</\ufeffa>',
    ]) {
      expectSame(xml)
    }
    // Many names of one length and first letter (the name cache must not change results past its limit).
    expectSame(`<r>${Array.from({length: 300}, (_, i) => `<a${String(i).padStart(4, '0')}>${i}</a${String(i).padStart(4, '0')}>`).join('')}<a0001>again</a0001></r>`)
  })

  it('through the SDK deserializer: deserializerParseXml is XmlShapeDeserializer.parseXml', () => {
    const sdkDeserializer = new protocols.AwsEc2QueryProtocol({defaultNamespace: 'com.amazonaws.ec2', xmlNamespace: 'http://ec2.amazonaws.com/doc/2016-11-15', version: '2016-11-15'}).deserializer
    const same = (xml: string) => {
      const mine = outcome(() => deserializerParseXml(xml))
      const sdk = outcome(() => sdkDeserializer.parseXml(xml))
      if (mine.ok && sdk.ok) {
        expect(sameTree(mine.value, sdk.value), JSON.stringify(xml)).toBe(true)
        expect(mine.keys).toBe(sdk.keys)
      } else expect(mine).toEqual(sdk)
    }
    fc.assert(fc.property(document, same), {numRuns: 1000})
    for (const xml of ['', '<r>top</r>', '<r a="1">top</r>', '<r><r>1</r></r>', '<Response><Errors><Error><Code>X</Code></Error></Errors></Response>']) same(xml)
  })

  it('is used by the EC2 client only as a drop-in: switched off with MIGRATE_AWS_SDK_XML=1 or on an unknown SDK shape', () => {
    const P = fastEc2Protocol(protocols)!
    expect(P).toBeDefined()
    const d = new P({defaultNamespace: 'com.amazonaws.ec2', xmlNamespace: 'x', version: '2016-11-15'}).deserializer!
    expect(d.parseXml).toBe(deserializerParseXml)
    expect(fastEc2Protocol(undefined)).toBeUndefined()
    expect(fastEc2Protocol({} as never)).toBeUndefined()
    process.env.MIGRATE_AWS_SDK_XML = '1'
    try {
      expect(fastEc2Protocol(protocols)).toBeUndefined()
    } finally {
      delete process.env.MIGRATE_AWS_SDK_XML
    }
  })
})

describe('end to end through the real EC2 client', () => {
  const saved = {...process.env}
  beforeAll(() => {
    Object.assign(process.env, {AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_EC2_METADATA_DISABLED: 'true'})
  })
  afterAll(() => {
    process.env = saved
  })

  it('every page of DescribeInstances and DescribeVolumes deserializes to the same output, and errors stay the same', async () => {
    const f = await startEc2Fixture({regions: {'ap-southeast-5': makeEc2Region('ap-southeast-5', 120)}})
    const g = await startEc2Fixture({regions: {'ap-southeast-5': makeEc2Region('ap-southeast-5', 3)}, faults: {deny: ['DescribeVolumes'], malformed: 'DescribeInstances'}})
    try {
      const client = (url: string, fast: boolean) => new ec2.EC2Client({region: 'ap-southeast-5', endpoint: url, maxAttempts: 1, ...(fast ? {protocol: fastEc2Protocol(protocols)} : {})})
      const strip = (pages: any[]) => pages.map(({$metadata, ...rest}) => rest)
      const read = async (fast: boolean) => {
        const c = client(f.url, fast)
        const instances = []
        for await (const p of ec2.paginateDescribeInstances({client: c, pageSize: 50}, {})) instances.push(p)
        const volumes = []
        for await (const p of ec2.paginateDescribeVolumes({client: c, pageSize: 40}, {})) volumes.push(p)
        return {instances: strip(instances), volumes: strip(volumes)}
      }
      const [mine, sdk] = [await read(true), await read(false)]
      expect(mine.instances).toHaveLength(3)
      expect(mine.instances.flatMap((p: any) => p.Reservations.flatMap((r: any) => r.Instances))).toHaveLength(120)
      expect(mine).toEqual(sdk)
      expect(keyListing(mine)).toBe(keyListing(sdk))

      const failure = async (fast: boolean, command: unknown) => {
        try {
          await client(g.url, fast).send(command)
          return 'no error'
        } catch (error) {
          const e = error as {name: string; message: string; $metadata?: {httpStatusCode?: number}; Code?: string}
          return {name: e.name, message: e.message.replace(/\s+/g, ' '), status: e.$metadata?.httpStatusCode, code: e.Code}
        }
      }
      const denied = await failure(true, new ec2.DescribeVolumesCommand({}))
      expect(denied).toMatchObject({name: 'UnauthorizedOperation', status: 403})
      expect(denied).toEqual(await failure(false, new ec2.DescribeVolumesCommand({})))
      const malformed = await failure(true, new ec2.DescribeInstancesCommand({}))
      expect(malformed).not.toBe('no error')
      expect(malformed).toEqual(await failure(false, new ec2.DescribeInstancesCommand({})))
    } finally {
      await f.close()
      await g.close()
    }
  })
})
