/**
 * @module policy/source — reads YAML text into documents that remember where every value came
 * from, so a finding about `spec.rules[2].ports[0]` can point at its line and column.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, visit } from 'yaml';
import type { Document, ErrorCode, Node } from 'yaml';
import type { Diagnostic } from './diagnostics.js';
import type { SourceLocation } from './types.js';

/** A position range, 1-based. */
export interface Span extends SourceLocation {
  readonly endLine: number;
  readonly endCol: number;
}

/** A path into a document's data, as zod reports it. */
export type DataPath = readonly PropertyKey[];

/** One parsed YAML document with its data and a way back from data paths to positions. */
export class SourceDocument {
  readonly file: string;
  /** The document's data as plain JavaScript (YAML core schema: dates stay strings). */
  readonly data: unknown;
  readonly #doc: Document.Parsed;
  readonly #lines: LineCounter;

  /** @throws whatever yaml's `toJS` throws (an unresolved alias, too many aliases). */
  constructor(file: string, doc: Document.Parsed, lines: LineCounter) {
    this.file = file;
    this.#doc = doc;
    this.#lines = lines;
    // A bounded alias count stops a "billion laughs" document from exhausting memory.
    this.data = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  }

  /**
   * Where `path` is written. `part: 'key'` points at the key of the last map entry (for unknown
   * keys); otherwise at its value. A path that does not exist (a missing field) points at the
   * deepest part of it that does.
   */
  locate(path: DataPath, part: 'key' | 'value' = 'value'): Span {
    let node: unknown = this.#doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.#doc);
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
        );
        if (pair === undefined) break;
        keyNode = pair.key;
        node = pair.value ?? pair.key;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        keyNode = undefined;
        node = node.items[seg];
      } else {
        break;
      }
    }
    const target = (part === 'key' && keyNode !== undefined ? keyNode : node) as Node | null | undefined;
    return this.span(target?.range ?? this.#doc.range);
  }

  /** The data at `path`, or undefined. */
  valueAt(path: DataPath): unknown {
    let v: unknown = this.data;
    for (const seg of path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<PropertyKey, unknown>)[seg];
    }
    return v;
  }

  /** Converts a byte range of the text to a span. */
  span(range: readonly [number, number, ...number[]]): Span {
    const start = this.#lines.linePos(range[0]);
    const end = this.#lines.linePos(range[1]);
    return { file: this.file, line: start.line, col: start.col, endLine: end.line, endCol: end.col };
  }
}

/**
 * Parses every document of a YAML file. Documents with syntax errors come back as diagnostics
 * only: checking a half-parsed document against the schema would bury the one real mistake
 * under follow-on noise.
 */
export function parseYaml(file: string, text: string): { docs: SourceDocument[]; diagnostics: Diagnostic[] } {
  const lines = new LineCounter();
  // The core schema keeps `2027-06-30` a string and refuses YAML 1.1 surprises (`on` → true).
  const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, schema: 'core' });
  const docs: SourceDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  if ('empty' in parsed) {
    // An empty stream may still carry errors (e.g. a stray directive).
    for (const e of parsed.errors) diagnostics.push(yamlDiagnostic(file, lines, e.pos, e.message, e.code));
    return { docs, diagnostics };
  }
  for (const doc of parsed) {
    const problems = [...doc.errors, ...doc.warnings];
    for (const e of problems) {
      const d = yamlDiagnostic(file, lines, e.pos, e.message, e.code);
      diagnostics.push(e.code === 'DUPLICATE_KEY' ? explainDuplicateKey(d, doc, e.pos[0], lines) : d);
    }
    if (problems.length > 0 || doc.contents === null) continue;
    try {
      docs.push(new SourceDocument(file, doc, lines));
    } catch (err) {
      diagnostics.push(
        yamlDiagnostic(file, lines, aliasRange(doc) ?? [0, 0], String((err as Error).message)),
      );
    }
  }
  return { docs, diagnostics };
}

/**
 * yaml says only "map keys must be unique": name the key and where it was first given, since
 * which of the two values wins is not what the author meant either way.
 */
function explainDuplicateKey(
  d: Diagnostic,
  doc: Document.Parsed,
  at: number,
  lines: LineCounter,
): Diagnostic {
  let found: { key: string; firstLine: number } | undefined;
  visit(doc, {
    Map(_key, map) {
      const dup = map.items.find((p) => isScalar(p.key) && p.key.range?.[0] === at);
      if (dup === undefined || !isScalar(dup.key)) return undefined;
      const key = String(dup.key.value);
      const first = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      const start = isScalar(first?.key) ? first.key.range?.[0] : undefined;
      found = { key, firstLine: lines.linePos(start ?? at).line };
      return visit.BREAK;
    },
  });
  if (found === undefined) return d;
  return {
    ...d,
    message: `duplicate key '${found.key}' in one mapping`,
    hint: `'${found.key}' is first given at line ${found.firstLine}; keep one of the two (merge their values if both are needed)`,
  };
}

/** Where the first alias without an anchor is, for the error `toJS` throws about it. */
function aliasRange(doc: Document.Parsed): [number, number] | undefined {
  let range: [number, number] | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) !== undefined || !node.range) return undefined;
      range = [node.range[0], node.range[1]];
      return visit.BREAK;
    },
  });
  return range;
}

/** A fix for the YAML mistakes people make in hand-written files, by the parser's error code. */
const YAML_HINTS: Partial<Record<ErrorCode, string>> = {
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs there',
  BAD_INDENT: 'line entries up with their siblings (spaces only), and close every [ and {',
  MISSING_CHAR: 'close the flow collection or quote: every [ needs a ], every { a }, every " a "',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line; check for a missing colon or quote above',
  BLOCK_AS_IMPLICIT_KEY: 'put a space after the colon of the line above, or quote the value',
  BAD_DQ_ESCAPE: 'in double quotes a backslash starts an escape; for a literal backslash use single quotes',
};

function yamlDiagnostic(
  file: string,
  lines: LineCounter,
  pos: [number, number],
  message: string,
  code?: ErrorCode,
): Diagnostic {
  const start = lines.linePos(pos[0]);
  const end = lines.linePos(pos[1]);
  const hint = code === undefined ? undefined : YAML_HINTS[code];
  return {
    file,
    line: start.line,
    col: start.col,
    endLine: end.line,
    endCol: end.col,
    severity: 'error',
    code: 'yaml-syntax',
    message: yamlMessage(message),
    ...(hint !== undefined ? { hint } : {}),
  };
}

/** yaml's messages end with a position and sometimes a source excerpt; ours carry both already. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  const trimmed = first.replace(/\s+at line \d+, column \d+:?\s*$/, '').trim();
  return trimmed.charAt(0).toLowerCase() + trimmed.slice(1);
}
