#!/usr/bin/env node
import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
var s=Number(process.versions.node.split(".")[0]);s<24&&(process.stderr.write(`reboot-pilot: error: needs Node.js 24 or newer, this is ${process.version}. In a clone, \`npm ci\` installs Node 24 and \`npx reboot-pilot\` uses it.
`),process.exit(2));var{cli:e}=await import("./chunks/cli-ZB7BX7OW.js"),o=await e(process.argv.slice(2));process.stdout.write("",()=>process.exit(o));
