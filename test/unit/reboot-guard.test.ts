// The reboot pod's boot-ID guard, run by a real shell against this machine's own boot ID: the
// command runs only in the boot it was requested for (the real-node tests prove it in a VM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { guardedRebootScript, rebootPod } from '../../src/reboot/pod.ts';

const thisBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const run = (script: string) =>
  execFileSync('sh', ['-c', script.replace('/dev/termination-log', '/dev/null')], { encoding: 'utf8' });

test('the guarded command runs in the boot it was requested for', () => {
  assert.equal(run(guardedRebootScript('echo REBOOTING', thisBoot)), 'REBOOTING\n');
});

test('in any other boot the guarded command does nothing and exits 0', () => {
  const other = '00000000-1111-2222-3333-444444444444';
  const out = run(guardedRebootScript('echo REBOOTING', other));
  assert.doesNotMatch(out, /REBOOTING/);
  assert.match(out, new RegExp(`not rebooting: requested for boot ${other}, this is boot ${thisBoot}`));
});

test('a boot ID from the cluster cannot inject shell', () => {
  const script = guardedRebootScript('echo REBOOTING', `${thisBoot}"; echo INJECTED; "`);
  assert.doesNotMatch(run(script), /INJECTED/);
});

test('both methods carry the node boot ID in the pod command', () => {
  const node = { metadata: { name: 'n1' }, status: { nodeInfo: { bootID: thisBoot } } } as never;
  for (const mode of ['command', 'signal'] as const) {
    const pod = rebootPod(
      { node, planId: 'p' },
      { namespace: 'ns', image: 'i', mode, command: 'reboot-now' },
    );
    const cmd = pod.spec!.containers[0]!.command!;
    assert.deepEqual(cmd.slice(0, 2), ['/bin/sh', '-c']);
    assert.match(cmd[2]!, new RegExp(`"${thisBoot}"`));
    assert.match(cmd[2]!, mode === 'signal' ? /kill -39 1$/ : /reboot-now$/);
  }
});
