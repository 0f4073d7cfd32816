#!/usr/bin/env node
// Production entry: loads compiled commands from dist/commands through the oclif manifest.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
