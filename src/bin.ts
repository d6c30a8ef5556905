// The `reboot-pilot` executable. Checks the Node.js version before loading anything (the bundled
// HTTP client needs Node 24 and would otherwise fail with an unreadable error), then runs the CLI.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `reboot-pilot: error: needs Node.js 24 or newer, this is ${process.version}. ` +
      'In a clone, `npm ci` installs Node 24 and `npx reboot-pilot` uses it.\n',
  );
  process.exit(2);
}
const { cli } = await import('./cli.ts');
const code = await cli(process.argv.slice(2));
// Exit once stdout is flushed: keep-alive sockets must not hold the process open.
process.stdout.write('', () => process.exit(code));
