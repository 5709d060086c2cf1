import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  analyzeConversation,
  canonicalJson,
  canonicalNumber,
  compareTimestamps,
  contentHash,
  formatStepRanges,
  LARGE_DOCUMENT_BYTES,
  sha256Checksum,
} from '../../src/recovery/conversation.js';
import { jsonbText, makeConversation } from '../helpers/conversations.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/conversations/', import.meta.url));
const ID = 'c-7f3a9e';

function fixture(name: string): Buffer {
  return readFileSync(`${FIXTURES}${name}`);
}

function analyze(nameOrJson: string, id = ID) {
  const bytes = nameOrJson.endsWith('.json') ? fixture(nameOrJson) : Buffer.from(nameOrJson, 'utf8');
  return analyzeConversation(bytes, id);
}

function codes(nameOrJson: string): string[] {
  return [...new Set(analyze(nameOrJson).findings.map((f) => `${f.severity}:${f.code}`))].sort();
}

function messages(nameOrJson: string, code: string): string[] {
  return analyze(nameOrJson)
    .findings.filter((f) => f.code === code)
    .map((f) => f.message);
}

/** A minimal valid document with the given steps (numbers and ts), for targeted cases. */
function docWith(steps: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: ID,
    status: 'active',
    steps: steps.map((s) => ({ role: 'user', content: 'x', ts: '2025-12-13T10:00:00.000Z', ...s })),
    updated_at: '2025-12-13T11:00:00.000Z',
    ...extra,
  });
}

const numbered = (...numbers: number[]) => numbers.map((step) => ({ step }));

describe('sha256Checksum', () => {
  it('is sha256 of the exact bytes, prefixed', () => {
    expect(sha256Checksum(Buffer.alloc(0))).toBe(
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('is the same for byte-identical inputs and differs for one extra space', () => {
    const a = fixture('valid.json');
    expect(sha256Checksum(Buffer.from(a))).toBe(sha256Checksum(a));
    expect(sha256Checksum(Buffer.concat([a, Buffer.from(' ')]))).not.toBe(sha256Checksum(a));
  });
});

describe('canonicalNumber', () => {
  it.each([
    ['1e2', '100'],
    ['1.0', '1'],
    ['1.50e1', '15'],
    ['100', '100'],
    ['-0', '0'],
    ['-0.0', '0'],
    ['0e10', '0'],
    ['1E-3', '0.001'],
    ['-12.500e-3', '-0.0125'],
    ['0.0000001', '1e-7'],
    ['1e21', '1e+21'],
    ['100000000000000000000', '100000000000000000000'],
    ['0.75', '0.75'],
    // Beyond a double: the exact value, where JSON.parse would round.
    ['12345678901234567891', '12345678901234567891'],
    ['9007199254740993', '9007199254740993'],
    ['123456789012345678901234567890', '1.2345678901234567890123456789e+29'],
    ['0.1000000000000000055511151231257827', '0.1000000000000000055511151231257827'],
    ['2.3e500', '2.3e+500'],
    ['2.30E+0500', '2.3e+500'],
    ['1e-400', '1e-400'],
    ['1e100000000000000000000', '1e+100000000000000000000'],
  ])('%s → %s', (literal, expected) => {
    expect(canonicalNumber(literal)).toBe(expected);
  });

  it('equals String(Number(x)) for every literal that round-trips through a double', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 5000; i++) {
      const magnitude = 10 ** Math.floor(random() * 60 - 30);
      const d = (random() - 0.5) * magnitude * (i % 7 === 0 ? 1 : 1e10);
      const js = String(d);
      expect(canonicalNumber(js)).toBe(js);
      expect(canonicalNumber(d.toExponential())).toBe(js);
      const exp = d.toExponential();
      if (exp.includes('.')) expect(canonicalNumber(exp.replace('e', '000e'))).toBe(js);
    }
  });

  it('keeps different values apart even when a double cannot', () => {
    const pairs = [
      ['12345678901234567891', '12345678901234567890'],
      ['0.1', '0.1000000000000000055511151231257827'],
      ['1e-400', '0'],
      ['2.3e500', '2.4e500'],
    ];
    for (const [a = '', b = ''] of pairs) expect(canonicalNumber(a)).not.toBe(canonicalNumber(b));
  });

  it('refuses what is not a JSON number', () => {
    expect(() => canonicalNumber('1.')).toThrow(SyntaxError);
    expect(() => canonicalNumber('NaN')).toThrow(SyntaxError);
  });
});

describe('contentHash and canonicalJson', () => {
  it('is the same for the copy Postgres hands back (real `state::text` output), while the checksum differs', () => {
    for (const name of ['valid', 'big-numbers', 'non-ascii', 'duplicate-keys']) {
      const original = fixture(`${name}.json`);
      const fromPostgres = fixture(`${name}.postgres.json`);
      expect(sha256Checksum(fromPostgres), name).not.toBe(sha256Checksum(original));
      expect(contentHash(fromPostgres), name).toBe(contentHash(original));
      expect(analyzeConversation(fromPostgres, ID).contentHash, name).toBe(
        analyzeConversation(original, ID).contentHash,
      );
    }
  });

  it('matches the jsonb simulation used by other tests, and the simulation matches real Postgres', () => {
    for (const name of ['valid', 'big-numbers', 'non-ascii', 'duplicate-keys']) {
      expect(jsonbText(fixture(`${name}.json`).toString('utf8'))).toBe(
        fixture(`${name}.postgres.json`).toString('utf8'),
      );
    }
    const doc = makeConversation(ID, 6);
    expect(contentHash(jsonbText(doc))).toBe(contentHash(doc));
  });

  it('ignores key order, whitespace, string escaping and number spelling', () => {
    const a = '{"b":[1,2.0,{"y":"é","x":null}],"a":"c/d","n":1e2}';
    const variants = [
      ' {\n  "n" : 100 ,\t"a" : "c\\/d",\r\n "b": [ 1 , 2 , { "x" : null , "y" : "\\u00e9" } ] }\n',
      '{"a":"\\u0063/d","n":100.0,"b":[1,20e-1,{"x":null,"y":"\\u00E9"}]}',
    ];
    for (const v of variants) {
      expect(sha256Checksum(Buffer.from(v))).not.toBe(sha256Checksum(Buffer.from(a)));
      expect(contentHash(v)).toBe(contentHash(a));
    }
    expect(canonicalJson(a)).toBe('{"a":"c/d","b":[1,2,{"x":null,"y":"é"}],"n":100}');
  });

  it('sorts keys by UTF-16 code unit, recursively', () => {
    expect(canonicalJson('{"ｚ":6,"😀":5,"é":4,"b":{"d":1,"c":2},"a":2,"B":3}')).toBe(
      '{"B":3,"a":2,"b":{"c":2,"d":1},"é":4,"😀":5,"ｚ":6}',
    );
  });

  it('is what JSON.stringify gives with sorted keys for ordinary documents', () => {
    const sortDeep = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(sortDeep);
      if (v && typeof v === 'object') {
        return Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]),
        );
      }
      return v;
    };
    const doc = makeConversation(ID, 5, { ratio: 0.1, flags: [true, false, null], note: 'a\u0001b\u2028' });
    expect(canonicalJson(doc)).toBe(JSON.stringify(sortDeep(JSON.parse(doc))));
  });

  it('changes when any value changes', () => {
    const base = '{"id":"c-1","status":"active","n":1,"list":[1,2],"o":{},"s":"x","f":false}';
    const changed = [
      '{"id":"c-1","status":"paused","n":1,"list":[1,2],"o":{},"s":"x","f":false}',
      '{"id":"c-1","status":"active","n":1.5,"list":[1,2],"o":{},"s":"x","f":false}',
      '{"id":"c-1","status":"active","n":"1","list":[1,2],"o":{},"s":"x","f":false}',
      '{"id":"c-1","status":"active","n":1,"list":[2,1],"o":{},"s":"x","f":false}',
      '{"id":"c-1","status":"active","n":1,"list":[1,2],"o":[],"s":"x","f":false}',
      '{"id":"c-1","status":"active","n":1,"list":[1,2],"o":{},"s":"x ","f":false}',
      '{"id":"c-1","status":"active","n":1,"list":[1,2],"o":{},"s":"x","f":null}',
      '{"id":"c-1","status":"active","n":1,"list":[1,2],"o":{},"s":"x","g":false}',
      '{"id":"c-1","status":"active","n":1,"list":[1,2],"o":{},"s":"x","f":false,"extra":null}',
    ];
    const hashes = new Set([contentHash(base), ...changed.map((c) => contentHash(c))]);
    expect(hashes.size).toBe(changed.length + 1);
  });

  it('tells 12345678901234567891 from 12345678901234567890, which JSON.parse cannot', () => {
    const a = '{"trace_id":12345678901234567891}';
    const b = '{"trace_id":12345678901234567890}';
    expect(JSON.stringify(JSON.parse(a))).toBe(JSON.stringify(JSON.parse(b)));
    expect(contentHash(a)).not.toBe(contentHash(b));
    const fixtureText = fixture('big-numbers.json').toString('utf8');
    const edited = fixtureText.replace('12345678901234567891', '12345678901234567890');
    expect(edited).not.toBe(fixtureText);
    expect(analyze(edited).contentHash).not.toBe(analyze('big-numbers.json').contentHash);
  });

  it('treats a "__proto__" key as an ordinary field', () => {
    const a = '{"__proto__":{"status":"x"},"id":"c-1"}';
    const b = '{"__proto__":{"status":"y"},"id":"c-1"}';
    expect(canonicalJson(a)).toBe('{"__proto__":{"status":"x"},"id":"c-1"}');
    expect(contentHash(a)).not.toBe(contentHash(b));
  });

  it('keeps the last of duplicate keys, as jsonb does', () => {
    expect(canonicalJson('{"a":1,"a":2}')).toBe('{"a":2}');
  });

  it('throws SyntaxError on invalid JSON', () => {
    expect(() => contentHash('{"a":')).toThrow(SyntaxError);
    expect(() => contentHash(Buffer.from([0x22, 0xff, 0x22]))).toThrow(SyntaxError);
    expect(() => contentHash(`${'['.repeat(5000)}${']'.repeat(5000)}`)).toThrow(SyntaxError);
  });
});

describe('compareTimestamps', () => {
  it('compares instants, honouring zones and sub-millisecond digits', () => {
    expect(compareTimestamps('2025-12-13T11:00:00+01:00', '2025-12-13T10:00:00Z')).toBe(0);
    expect(compareTimestamps('2025-12-13T10:00:00.123456Z', '2025-12-13T10:00:00.123457Z')).toBe(-1);
    expect(compareTimestamps('2025-12-13T10:00:00.5Z', '2025-12-13T10:00:00.499999Z')).toBe(1);
    expect(compareTimestamps('0099-01-01T00:00:00Z', '1999-01-01T00:00:00Z')).toBe(-1);
  });

  it('returns null for what is not a timestamp', () => {
    for (const bad of [
      'yesterday',
      '2025-12-13T10:00:00',
      '2025-02-29T10:00:00Z',
      '2025-13-01T10:00:00Z',
      '2025-12-13T24:00:00Z',
      '2025-12-13 10:00:00Z',
    ]) {
      expect(compareTimestamps(bad, '2025-12-13T10:00:00Z'), bad).toBeNull();
    }
    expect(compareTimestamps('2024-02-29T10:00:00Z', '2024-02-29T10:00:00z')).toBe(0);
  });
});

describe('formatStepRanges', () => {
  it('compresses runs and elides after five ranges', () => {
    expect(formatStepRanges([4])).toBe('4');
    expect(formatStepRanges([6, 7, 8, 10])).toBe('6–8, 10');
    expect(formatStepRanges([1, 3, 5, 7, 9, 11, 13])).toBe('1, 3, 5, 7, 9, …');
  });
});

describe('analyzeConversation', () => {
  it('summarises a valid copy, unknown fields and all', () => {
    const bytes = fixture('valid.json');
    const a = analyzeConversation(bytes, ID);
    expect(a).toMatchObject({
      bytes: bytes.length,
      checksum: sha256Checksum(bytes),
      contentHash: contentHash(bytes),
      parsed: true,
      valid: true,
      findings: [],
      status: 'paused',
      stepCount: 4,
      lastStepAt: '2025-12-13T10:00:12.000Z',
      checkpoint: 3,
      updatedAt: '2025-12-13T10:00:13.000Z',
    });
    expect(a.steps?.map((s) => [s.step, s.role, s.ts])).toEqual([
      [1, 'user', '2025-12-13T10:00:00.000Z'],
      [2, 'assistant', '2025-12-13T10:00:04.000Z'],
      [3, 'user', '2025-12-13T10:00:08.000Z'],
      [4, 'tool', '2025-12-13T10:00:12.000Z'],
    ]);
    for (const s of a.steps ?? []) expect(s.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(new Set(a.steps?.map((s) => s.hash)).size).toBe(4);
  });

  it('gives each step a hash that ignores formatting but not content', () => {
    const original = analyzeConversation(fixture('valid.json'), ID);
    const fromPostgres = analyzeConversation(fixture('valid.postgres.json'), ID);
    expect(fromPostgres.steps).toEqual(original.steps);

    const doc = makeConversation(ID, 5);
    const edited = doc.replace('"answer 4"', '"answer 4!"');
    const before = analyze(doc).steps ?? [];
    const after = analyze(edited).steps ?? [];
    expect(after.map((s, i) => s.hash === before[i]?.hash)).toEqual([true, true, true, false, true]);
  });

  it('accepts what makeConversation builds, at any size', () => {
    for (const n of [0, 1, 2, 9]) {
      const a = analyze(makeConversation(ID, n));
      expect(a.findings, `${n} steps`).toEqual([]);
      expect(a.stepCount).toBe(n);
      expect(a.checkpoint).toBe(n);
      expect(a.lastStepAt).toBe(n === 0 ? null : a.steps?.[n - 1]?.ts);
    }
  });

  // Every fixture in the folder, with exactly the findings it must produce.
  const expectations: Record<string, string[]> = {
    'valid.json': [],
    'valid.postgres.json': [],
    'unknown-fields.json': [],
    'deeply-nested-unknown.json': [],
    'big-numbers.json': [],
    'big-numbers.postgres.json': [],
    'non-ascii.json': [],
    'non-ascii.postgres.json': [],
    'python-timestamps.json': [],
    'duplicate-keys.json': ['warning:duplicate_key'],
    'duplicate-keys.postgres.json': [],
    'empty.json': ['error:empty'],
    'array.json': ['error:not_object'],
    'corrupt-truncated.json': ['error:invalid_json'],
    'corrupt-trailing-comma.json': ['error:invalid_json'],
    'bom.json': ['error:invalid_json'],
    'invalid-utf8.json': ['error:invalid_utf8'],
    'too-deep.json': ['error:too_deep'],
    'id-mismatch.json': ['error:id_mismatch'],
    'id-missing.json': ['error:id_missing'],
    'status-invalid.json': ['error:status_invalid'],
    'steps-missing.json': ['error:steps_missing'],
    'steps-not-array.json': ['error:steps_not_array'],
    'step-invalid.json': ['error:step_invalid'],
    'step-not-object.json': ['error:step_gap', 'error:step_invalid'],
    // Steps without a usable number leave no visible gap: only step 1 is numbered.
    'step-number-invalid.json': ['error:step_invalid'],
    'step-gap.json': ['error:step_gap'],
    'step-repeat.json': ['error:step_repeat'],
    'step-order.json': ['error:step_order'],
    'ts-decreasing.json': ['error:ts_decreasing'],
    'checkpoint-ahead.json': ['error:checkpoint_ahead'],
    'checkpoint-invalid.json': ['error:checkpoint_invalid'],
    'updated-at-invalid.json': ['error:updated_at_invalid'],
    'updated-at-before-last-step.json': ['error:updated_at_before_last_step'],
    'many-problems.json': [
      'error:checkpoint_ahead',
      'error:id_mismatch',
      'error:status_invalid',
      'error:step_gap',
      'error:ts_decreasing',
      'error:updated_at_before_last_step',
    ],
  };

  it('has an expectation for every fixture file', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && f !== 'biome.json');
    expect(files.sort()).toEqual(Object.keys(expectations).sort());
  });

  it.each(Object.entries(expectations))('%s → %j', (name, expected) => {
    const a = analyze(name);
    expect(codes(name)).toEqual(expected);
    expect(a.valid).toBe(!expected.some((c) => c.startsWith('error:')));
    for (const f of a.findings) expect(f.message.length).toBeGreaterThan(10);
  });

  it('triggers every documented finding code from some fixture', () => {
    const documented = [
      'empty',
      'invalid_json',
      'invalid_utf8',
      'too_deep',
      'not_object',
      'id_missing',
      'id_mismatch',
      'status_invalid',
      'steps_missing',
      'steps_not_array',
      'step_invalid',
      'step_gap',
      'step_repeat',
      'step_order',
      'ts_decreasing',
      'checkpoint_invalid',
      'checkpoint_ahead',
      'updated_at_invalid',
      'updated_at_before_last_step',
      'duplicate_key',
    ];
    const seen = new Set(Object.values(expectations).flatMap((list) => list.map((c) => c.split(':')[1])));
    expect([...documented].filter((c) => !seen.has(c))).toEqual([]);
  });

  it('collects every problem instead of stopping at the first', () => {
    expect(analyze('many-problems.json').findings.map((f) => f.message)).toEqual([
      'id is "c-other" but the copy is stored under "c-7f3a9e" — this is another conversation\'s data or a mis-keyed write',
      'status is "archived" — expected one of active, paused, completed, failed',
      'steps[2]: step 4 follows step 2 — step 3 is missing',
      'steps[3] (step 5): ts "2025-12-13T10:00:08.000Z" is earlier than "2025-12-13T10:00:12.000Z" of steps[2] (step 4) — time goes backwards',
      'checkpoint is 7 but there are only 4 steps',
      'updated_at "2025-12-13T10:00:03.000Z" is earlier than the last step\'s ts "2025-12-13T10:00:08.000Z"',
    ]);
  });

  describe('unreadable copies', () => {
    it.each(['empty.json', 'corrupt-truncated.json', 'invalid-utf8.json', 'too-deep.json', 'bom.json'])(
      '%s: not parsed, no content hash, no steps, checksum still given',
      (name) => {
        const a = analyze(name);
        expect(a).toMatchObject({
          parsed: false,
          valid: false,
          contentHash: null,
          steps: null,
          stepCount: null,
        });
        expect(a.checksum).toBe(sha256Checksum(fixture(name)));
      },
    );

    it('says 0 bytes for an empty value', () => {
      expect(messages('empty.json', 'empty')).toEqual(['the stored value is empty (0 bytes)']);
    });

    it('points at the line, column and byte of a JSON error', () => {
      expect(messages('corrupt-trailing-comma.json', 'invalid_json')).toEqual([
        "not valid JSON at line 5, column 1 (byte 59): Quoted object key expected but got '}'",
      ]);
      expect(messages('corrupt-truncated.json', 'invalid_json')[0]).toMatch(
        /^not valid JSON at line \d+, column \d+ \(byte \d+\): /,
      );
    });

    it('names a byte-order mark', () => {
      expect(messages('bom.json', 'invalid_json')[0]).toContain('byte-order mark');
    });

    it('gives the offset of the first byte that is not UTF-8', () => {
      const bytes = fixture('invalid-utf8.json');
      expect(messages('invalid-utf8.json', 'invalid_utf8')).toEqual([
        `not valid UTF-8: the first bad byte is at byte ${bytes.indexOf(0xe9)}`,
      ]);
      for (const bad of [
        [0xc0, 0x80],
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
        [0xe2, 0x82],
      ]) {
        const a = analyzeConversation(Buffer.from([0x22, ...bad, 0x22]), ID);
        expect(a.findings[0]?.message, bad.join(',')).toBe(
          'not valid UTF-8: the first bad byte is at byte 1',
        );
      }
    });

    it('escapes control characters from the document in messages', () => {
      const message = analyze('{"id":"c-7f3a9e","x":"a\u0001b"}').findings[0]?.message ?? '';
      expect(message).toContain('\\u0001');
      expect(message).not.toContain('\u0001');
    });

    it('refuses absurd nesting without overflowing the stack', () => {
      const a = analyzeConversation(Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`), ID);
      expect(a.findings.map((f) => f.code)).toEqual(['too_deep']);
    });

    it('never throws, whatever the bytes', () => {
      let seed = 99;
      const random = () => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      };
      const base = fixture('valid.json');
      for (let i = 0; i < 500; i++) {
        const bytes = Buffer.from(base);
        for (let j = 0; j < 1 + (i % 5); j++)
          bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        const cut = i % 3 === 0 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
        expect(() => analyzeConversation(cut, ID)).not.toThrow();
      }
      for (const text of ['null', '0', '"x"', 'true', '{}', '[]', ' ', '\n']) {
        expect(() => analyze(text)).not.toThrow();
      }
    });
  });

  describe('top level', () => {
    it('names the JSON type of a non-object document, still fingerprinting it', () => {
      const a = analyze('array.json');
      expect(a.findings[0]?.message).toBe('the document is an array, not a JSON object');
      expect(a.parsed).toBe(true);
      expect(a.contentHash).toBe(contentHash(fixture('array.json')));
      expect(analyze('"c-7f3a9e"').findings[0]?.message).toBe('the document is a string, not a JSON object');
    });

    it('says which id the copy holds and which key it is under', () => {
      expect(messages('id-mismatch.json', 'id_mismatch')).toEqual([
        'id is "c-0000aa" but the copy is stored under "c-7f3a9e" — this is another conversation\'s data or a mis-keyed write',
      ]);
      expect(messages('id-missing.json', 'id_missing')).toEqual([
        '"id" is missing (the copy is stored under "c-7f3a9e")',
      ]);
      expect(messages(docWith(numbered(1), { id: 42 }), 'id_mismatch')[0]).toMatch(
        /^id is 42 \(a number\) but/,
      );
    });

    it('reports the stored status even when it is not a known one', () => {
      const a = analyze('status-invalid.json');
      expect(a.status).toBe('running');
      expect(a.findings[0]?.message).toBe(
        'status is "running" — expected one of active, paused, completed, failed',
      );
      expect(messages(docWith(numbered(1), { status: undefined }), 'status_invalid')).toEqual([
        '"status" is missing — expected one of active, paused, completed, failed',
      ]);
    });

    it('distinguishes missing steps from steps of the wrong type', () => {
      expect(messages('steps-missing.json', 'steps_missing')).toEqual(['"steps" is missing']);
      expect(messages('steps-not-array.json', 'steps_not_array')).toEqual([
        'steps is an object, not an array',
      ]);
      expect(analyze('steps-missing.json')).toMatchObject({ steps: null, stepCount: null, lastStepAt: null });
    });

    it('warns about duplicate keys, keeping the last value', () => {
      const a = analyze('duplicate-keys.json');
      expect(a.status).toBe('active');
      expect(a.steps?.[0]?.role).toBe('system');
      expect(a.findings.map((f) => f.message)).toEqual([
        'key "role" appears more than once (again at line 1, column 69 (byte 68)); the last value counts, as in Postgres',
        'key "status" appears more than once (again at line 1, column 133 (byte 132)); the last value counts, as in Postgres',
      ]);
    });

    it('lists many duplicate keys without slowing down', () => {
      const members = Array.from({ length: 20_000 }, (_, i) => `"k":${i}`).join(',');
      const started = performance.now();
      const a = analyze(docWith(numbered(1)).replace('{"id"', `{${members},"id"`));
      expect(performance.now() - started).toBeLessThan(2000);
      const dups = a.findings.filter((f) => f.code === 'duplicate_key');
      expect(dups).toHaveLength(21);
      expect(dups[20]?.message).toBe('…and 19979 more duplicate_key problems not listed');
      expect(a.valid).toBe(true);
    });

    it('warns about a very large document without failing it', () => {
      const doc = makeConversation(ID, 2, { blob: 'x'.repeat(LARGE_DOCUMENT_BYTES) });
      const a = analyze(doc);
      expect(a.valid).toBe(true);
      expect(a.findings.map((f) => `${f.severity}:${f.code}`)).toEqual(['warning:large_document']);
    });
  });

  describe('steps', () => {
    it('says exactly what is wrong with each step', () => {
      expect(messages('step-invalid.json', 'step_invalid')).toEqual([
        'steps[1] (step 2): role is "bot" — expected one of user, assistant, tool, system',
        'steps[2] (step 3): ts "yesterday" is not an ISO-8601 timestamp — expected e.g. 2025-12-13T10:00:00.000Z',
        'steps[3] (step 4): ts "2025-12-13T10:00:12" has no time zone — expected e.g. 2025-12-13T10:00:00.000Z',
        'steps[4] (step 5): "content" is missing',
        'steps[5] (step 6): "role" is missing',
        'steps[6] (step 7): ts is 1765620024000 (a number), not an ISO-8601 timestamp',
      ]);
      expect(messages('step-number-invalid.json', 'step_invalid')).toEqual([
        'steps[1]: step is "2" (a string), not a whole number',
        'steps[2]: step is 2.5, not a whole number',
        'steps[3]: "step" is missing',
      ]);
      expect(messages('step-not-object.json', 'step_invalid')).toEqual([
        'steps[1] is "step two" (a string), not an object',
      ]);
      expect(messages(docWith(numbered(0, 1)), 'step_invalid')).toEqual([
        'steps[0]: step is 0 — step numbers start at 1',
      ]);
    });

    it('accepts content of any type, including null, and a step number written 2.0', () => {
      const doc = docWith([
        { step: 1, content: null },
        { step: 2, content: [{ type: 'text', text: 'x' }] },
      ]).replace('"step":2', '"step":2.0');
      expect(analyze(doc).findings).toEqual([]);
    });

    it('leaves steps without a usable number out of the summaries but counts them', () => {
      const a = analyze('step-not-object.json');
      expect(a.stepCount).toBe(3);
      expect(a.steps?.map((s) => s.step)).toEqual([1, 3]);
    });

    it('describes gaps by what is missing and where', () => {
      expect(messages('step-gap.json', 'step_gap')).toEqual([
        'steps[3]: step 5 follows step 3 — step 4 is missing',
      ]);
      expect(messages(docWith(numbered(2, 3)), 'step_gap')).toEqual([
        'steps[0]: the first step is 2 — step 1 is missing',
      ]);
      expect(messages(docWith(numbered(1, 2, 6)), 'step_gap')).toEqual([
        'steps[2]: step 6 follows step 2 — steps 3–5 are missing',
      ]);
      expect(messages(docWith(numbered(1, 10, 4, 7)), 'step_gap')).toEqual([
        'steps[1]: step 10 follows step 1 — 6 steps are missing (2–3, 5–6, 8–9)',
      ]);
      expect(messages(docWith(numbered(1, 1e15)), 'step_gap')).toEqual([
        'steps[1]: step 1000000000000000 follows step 1 — steps 2–999999999999999 are missing',
      ]);
    });

    it('describes repeats and order', () => {
      expect(messages('step-repeat.json', 'step_repeat')).toEqual([
        'steps[3]: step 3 appears again (first at steps[2])',
      ]);
      expect(messages('step-order.json', 'step_order')).toEqual([
        'steps[2]: step 2 comes after step 3 — steps are out of order',
      ]);
      // A step that shows up late is out of order, not missing.
      expect(codes(docWith(numbered(1, 4, 2, 3)))).toEqual(['error:step_order']);
    });

    it('caps each kind of finding so a shredded copy stays readable', () => {
      const odd = Array.from({ length: 100 }, (_, i) => ({ step: 2 * i + 1 }));
      const gaps = analyze(docWith(odd)).findings.filter((f) => f.code === 'step_gap');
      expect(gaps).toHaveLength(21);
      expect(gaps[20]?.message).toBe('…and 79 more step_gap problems not listed');
    });

    it('checks that time never goes backwards, with zones and microseconds', () => {
      expect(messages('ts-decreasing.json', 'ts_decreasing')).toEqual([
        'steps[2] (step 3): ts "2025-12-13T10:00:00.000Z" is earlier than "2025-12-13T10:00:04.000Z" of steps[1] (step 2) — time goes backwards',
      ]);
      const micro = docWith([
        { step: 1, ts: '2025-12-13T10:00:00.123457+00:00' },
        { step: 2, ts: '2025-12-13T11:00:00.123456+01:00' },
      ]);
      expect(codes(micro)).toEqual(['error:ts_decreasing']);
      const equal = docWith([
        { step: 1, ts: '2025-12-13T10:00:00Z' },
        { step: 2, ts: '2025-12-13T10:00:00.000Z' },
      ]);
      expect(codes(equal)).toEqual([]);
    });
  });

  describe('checkpoint and updated_at', () => {
    it('checks the checkpoint', () => {
      expect(messages('checkpoint-ahead.json', 'checkpoint_ahead')).toEqual([
        'checkpoint is 9 but there are only 4 steps',
      ]);
      expect(messages('checkpoint-invalid.json', 'checkpoint_invalid')).toEqual([
        'checkpoint is -1 — expected a whole number ≥ 0',
      ]);
      expect(messages(docWith(numbered(1), { checkpoint: '1' }), 'checkpoint_invalid')).toEqual([
        'checkpoint is "1" (a string) — expected a whole number ≥ 0',
      ]);
      expect(analyze('checkpoint-ahead.json').checkpoint).toBe(9);
    });

    it('treats a missing or null checkpoint as none, and 0..n as fine', () => {
      for (const checkpoint of [undefined, null, 0, 2]) {
        const a = analyze(docWith(numbered(1, 2), { checkpoint }));
        expect(a.findings, String(checkpoint)).toEqual([]);
        expect(a.checkpoint).toBe(checkpoint ?? null);
      }
    });

    it('checks updated_at', () => {
      expect(messages('updated-at-invalid.json', 'updated_at_invalid')).toEqual([
        'updated_at "last tuesday" is not an ISO-8601 timestamp — expected e.g. 2025-12-13T10:00:00.000Z',
      ]);
      expect(messages(docWith(numbered(1), { updated_at: undefined }), 'updated_at_invalid')).toEqual([
        '"updated_at" is missing',
      ]);
      expect(messages('updated-at-before-last-step.json', 'updated_at_before_last_step')).toEqual([
        'updated_at "2025-12-13T10:00:05.000Z" is earlier than the last step\'s ts "2025-12-13T10:00:12.000Z"',
      ]);
      const a = analyze('updated-at-invalid.json');
      expect(a.updatedAt).toBe('last tuesday');
    });
  });
});
