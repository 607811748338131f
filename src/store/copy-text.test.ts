// A value written in COPY's text format and read back is the value: backslashes,
// tabs, newlines and the other escaped characters included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { copyText, fromCopyText } from './copy-text.ts';

test('a value written as COPY text and read back is the same value', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom('a', '\\', '\t', '\n', '\r', 'b', 'N', '7', 'é') }),
      (value) => {
        const row = copyText([value]);
        assert.equal(fromCopyText(row.slice(0, -1)), value);
      },
    ),
  );
  assert.equal(fromCopyText('a\\bb\\fc\\vd'), 'a\bb\fc\vd');
});
