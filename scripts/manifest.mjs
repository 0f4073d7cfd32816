// Writes oclif.manifest.json so that start-up does not require every command module (what `oclif manifest` does,
// without pulling in the 185-package oclif dev CLI).
import {Plugin} from '@oclif/core'
import {writeFileSync, renameSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import path from 'node:path'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true})
await plugin.load()
const tmp = path.join(root, 'oclif.manifest.json.tmp')
writeFileSync(tmp, JSON.stringify(plugin.manifest, null, 2))
renameSync(tmp, path.join(root, 'oclif.manifest.json'))
console.error(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`)
