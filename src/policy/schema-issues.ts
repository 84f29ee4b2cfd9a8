/**
 * @module policy/schema-issues — turns the schema's (zod's) issues about a policy document into
 * diagnostics a person can act on: the field's path in YAML terms, what was expected and what
 * was found, and a hint (the nearest known key or value, the nearest accepted name, or what the
 * field is for, as the schema describes it).
 */
import * as z from 'zod';
import { closest } from './diagnostics.js';
import type { DiagnosticCode, Severity } from './diagnostics.js';
import type { DataPath, SourceDocument } from './source.js';
import type { SourceLocation } from './types.js';

/** Where diagnostics go (the loader). */
export interface DiagnosticSink {
  report(
    loc: SourceLocation & { endLine?: number; endCol?: number },
    code: DiagnosticCode,
    message: string,
    extra?: { hint?: string | undefined; value?: unknown; severity?: Severity },
  ): void;
}

/**
 * For a name or ID its pattern refuses (`Bad_Name`, `Rule One`): the nearest spelling it accepts,
 * lower case with runs of other characters turned into `-`; undefined when that fails too.
 */
function nameLike(value: unknown, pattern: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  const guess = value
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  // zod reports the pattern as a regex literal: `/^[a-z0-9]…$/`.
  const literal = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  const accepts = literal !== null ? new RegExp(literal[1] ?? '', literal[2]) : new RegExp(pattern);
  return guess !== value && accepts.test(guess) ? guess : undefined;
}

/** Whether a YAML value is a mapping. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A data path as YAML reads it: `spec.rules[0].to`, or `the document` for the root. */
function pathText(path: DataPath): string {
  let s = '';
  for (const seg of path)
    s += typeof seg === 'number' ? `[${seg}]` : s === '' ? String(seg) : `.${String(seg)}`;
  return s === '' ? 'the document' : s;
}

/** What a YAML value is, for "must be X, not Y". */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** The schema of the value at `path`, as far as objects and arrays lead. */
function schemaAt(schema: z.ZodType, path: DataPath): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const seg of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(seg)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else return undefined;
  }
  return s;
}

/** The keys an object schema at `path` knows, for "did you mean" hints. */
function knownKeys(schema: z.ZodType, path: DataPath): string[] {
  const s = unwrap(schemaAt(schema, path));
  return s instanceof z.ZodObject ? Object.keys(s.shape as object) : [];
}

/** The description the schema gives the field at `path` (the same text editors show). */
function describeField(schema: z.ZodType, path: DataPath): string | undefined {
  let s = schemaAt(schema, path);
  while (s !== undefined) {
    const d = z.globalRegistry.get(s)?.description;
    if (d !== undefined) return d;
    s = s instanceof z.ZodOptional || s instanceof z.ZodDefault ? (s.unwrap() as z.ZodType) : undefined;
  }
  return undefined;
}

function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s;
}

/**
 * Reports the schema's issues with a document: unknown keys (with the nearest known one),
 * missing fields (with what they are for), wrong types and values, patterns not matched.
 */
export function reportSchemaIssues(
  sink: DiagnosticSink,
  doc: SourceDocument,
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
): void {
  const unknownKeys = new Map<string, string[]>();
  for (const i of issues) if (i.code === 'unrecognized_keys') unknownKeys.set(pathText(i.path), i.keys);
  for (const iss of issues) {
    // "exactly one of fqdn, cidr…" adds nothing to "unknown key 'fdqn'" at the same place.
    if (iss.code === 'custom' && unknownKeys.has(pathText(iss.path))) continue;
    const path = iss.path;
    const value = doc.valueAt(path);
    switch (iss.code) {
      case 'unrecognized_keys': {
        const known = knownKeys(schema, path);
        for (const key of iss.keys) {
          const guess = closest(key, known);
          const where = path.length === 0 ? ' at the top level' : ` in ${pathText(path)}`;
          sink.report(doc.locate([...path, key], 'key'), 'unknown-key', `unknown key '${key}'${where}`, {
            hint: guess !== undefined ? `did you mean '${guess}'?` : `known keys here: ${known.join(', ')}`,
          });
        }
        break;
      }
      case 'invalid_type': {
        const field = String(path[path.length - 1] ?? '');
        if (value === undefined) {
          const parent = path.slice(0, -1);
          // `metdata` is reported as an unknown key with the hint 'metadata'; once is enough.
          if ((unknownKeys.get(pathText(parent)) ?? []).some((k) => closest(k, [field]) !== undefined)) break;
          const about = describeField(schema, path);
          sink.report(
            doc.locate(path),
            'missing-field',
            `missing required field '${field}'${parent.length > 0 ? ` in ${pathText(parent)}` : ''}`,
            { hint: `add ${field}:${about !== undefined ? ` (${about})` : ''}` },
          );
          break;
        }
        const expected = EXPECTED[iss.expected] ?? iss.expected;
        const scalar = typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string';
        let quote: string | undefined;
        if (iss.expected === 'string' && scalar) quote = `quote it: '${String(value)}'`;
        else if (iss.expected === 'array' && scalar) quote = `write a list: [${String(value)}]`;
        else quote = describeField(schema, path);
        sink.report(
          doc.locate(path),
          'invalid-type',
          `${pathText(path)} must be ${expected}, not ${typeName(value)}`,
          {
            value,
            hint: quote,
          },
        );
        break;
      }
      case 'invalid_value': {
        const values = iss.values.map(String);
        const guess = typeof value === 'string' ? closest(value, values) : undefined;
        sink.report(
          doc.locate(path),
          'invalid-value',
          `${pathText(path)} must be one of ${values.join(', ')}`,
          {
            value,
            hint: guess !== undefined ? `did you mean '${guess}'?` : undefined,
          },
        );
        break;
      }
      case 'invalid_union':
        sink.report(doc.locate(path), 'invalid-type', `${pathText(path)}: ${iss.message}`, { value });
        break;
      default: {
        const pattern = iss.code === 'invalid_format' ? iss.pattern : undefined;
        const guess = pattern !== undefined ? nameLike(value, pattern) : undefined;
        sink.report(doc.locate(path), 'invalid-value', `${pathText(path)} ${iss.message}`, {
          value,
          // Else what the field is for, as the invalid-type hint says it.
          hint: guess !== undefined ? `did you mean '${guess}'?` : describeField(schema, path),
        });
      }
    }
  }
}
