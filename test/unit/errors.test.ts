// UserError (src/errors.ts): bad input the operator can fix. Entry points print its message
// without a stack trace, so it must be recognisable whichever module threw it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.ts';
import { parseWindow } from '../../src/gates/window.ts';
import { parseSelector } from '../../src/kube/selector.ts';

test('a UserError is an Error with its own name; its text is the message', () => {
  const error = new UserError('reboot-days must list days like mon,tue,...,sun, not "funday"');
  assert.ok(error instanceof Error);
  assert.ok(error instanceof UserError);
  assert.equal(error.name, 'UserError');
  assert.equal(error.message, 'reboot-days must list days like mon,tue,...,sun, not "funday"');
  assert.equal(String(error), `UserError: ${error.message}`);
  assert.ok(!(new Error('x') instanceof UserError), 'an ordinary error is no UserError');
});

test('low modules throw it for bad input, without importing the Kubernetes edge', () => {
  assert.throws(() => parseWindow('funday', '22:00', '06:00', 'UTC'), {
    name: 'UserError',
    message: 'reboot-days must list days like mon,tue,...,sun, not "funday"',
  });
  assert.throws(() => parseWindow('sat', '25:00', '06:00', 'UTC'), UserError);
  assert.throws(() => parseSelector('app in (a, -b)', 'node selector'), UserError);
});
