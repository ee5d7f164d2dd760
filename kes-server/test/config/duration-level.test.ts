import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration } from '../../src/config/duration.ts';
import { parseLogLevel } from '../../src/config/log-level.ts';
import { LevelOff } from '../../src/log/slog.ts';

test('parseGoDuration accepts Go duration syntax', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['-0', 0],
    ['300ms', 300],
    ['30s', 30_000],
    ['5m0s', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['1.s', 1000],
    ['2h45m30.5s', 9_930_500],
    ['1500us', 1.5],
    ['1000µs', 1],
    ['1000μs', 1],
    ['2000000ns', 2],
    ['+1m', 60_000],
    ['-2s', -2000],
    ['1m1m', 120_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
});

test('parseGoDuration rejects everything else', () => {
  for (const text of ['', '5', '1.5', 's', '1x', '1d', '--1s', '1s ', ' 1s', '1 s', '.s', '1e3s', '-', '1S', '1h-5m']) {
    assert.throws(() => parseGoDuration(text), SyntaxError, JSON.stringify(text));
  }
});

test('parseLogLevel: names with offsets, on/off, integers, case-insensitive', () => {
  const cases: Array<[string, number]> = [
    ['', 0],
    ['on', 0],
    ['ON', 0],
    ['off', LevelOff],
    ['Off', 9],
    ['debug', -4],
    ['INFO', 0],
    ['warn', 4],
    ['ERROR', 8],
    ['INFO+2', 2],
    ['error-1', 7],
    ['Debug+4', 0],
    ['3', 3],
    ['-4', -4],
  ];
  for (const [text, level] of cases) assert.equal(parseLogLevel(text), level, text);
  for (const text of ['LOUD', 'INFO+', 'INFO+x', 'TRACE', 'WARNING', 'on+1', '1.5']) {
    assert.throws(() => parseLogLevel(text), SyntaxError, text);
  }
});
