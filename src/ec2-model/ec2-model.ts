/**
 * @module ec2-model/ec2-model — typed access to the subset of botocore's EC2 model (2016-11-15) that Weir
 * serves. The query decoder and the XML serializer are both driven by it, so wire names and
 * response element names come from the same source botocore and the AWS SDKs use.
 */
import { Ec2Error } from '../model/index.js';
import model from './ec2-model.json' with { type: 'json' };

/** A reference from a structure member, list element or operation to a named shape. */
export interface ShapeRef {
  readonly shape: string;
  /** XML element name on output; capitalized, it is the query name on input. */
  readonly locationName?: string;
  /** Overrides `locationName` on input (EC2 protocol only). */
  readonly queryName?: string;
  readonly idempotencyToken?: boolean;
}

/** A structure shape: named members, some of them required. */
export interface StructureShape {
  readonly type: 'structure';
  readonly members: Readonly<Record<string, ShapeRef>>;
  readonly required?: readonly string[];
}

/** A list shape. EC2 input lists are always flattened; output lists wrap `<item>` elements. */
export interface ListShape {
  readonly type: 'list';
  readonly member: ShapeRef;
  readonly flattened?: boolean;
  readonly min?: number;
  readonly max?: number;
}

/** The scalar type names that occur in botocore's EC2 model (it has no maps). */
export type ScalarType =
  'string' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'double' | 'float' | 'blob';

/** A scalar shape, with the constraints the model states for it. */
export interface ScalarShape {
  readonly type: ScalarType;
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
}

/** Any shape of the model. */
export type Shape = StructureShape | ListShape | ScalarShape;

/** One operation: its input and (for most) output structure. */
export interface Operation {
  readonly name: string;
  readonly input?: ShapeRef;
  readonly output?: ShapeRef;
}

interface ModelFile {
  readonly source: string;
  readonly metadata: { readonly apiVersion: string; readonly xmlNamespace: string };
  readonly operations: Readonly<Record<string, Operation>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}

const SHAPE_TYPES: ReadonlySet<string> = new Set([
  'structure',
  'list',
  'string',
  'integer',
  'long',
  'boolean',
  'timestamp',
  'double',
  'float',
  'blob',
]);

// The JSON is generated, so its inferred literal type is not the contract; check the parts the
// decoder and serializer rely on once at load, so a bad regeneration fails here and not per request.
function checkModel(data: ModelFile): ModelFile {
  const refs: ShapeRef[] = [];
  for (const op of Object.values(data.operations)) {
    if (op.input) refs.push(op.input);
    if (op.output) refs.push(op.output);
  }
  for (const [name, s] of Object.entries(data.shapes)) {
    if (!SHAPE_TYPES.has(s.type))
      throw new Error(`ec2-model.json: shape ${name} has unsupported type ${s.type}`);
    if (s.type === 'structure') refs.push(...Object.values(s.members));
    if (s.type === 'list') refs.push(s.member);
  }
  for (const ref of refs) {
    if (!Object.hasOwn(data.shapes, ref.shape)) throw new Error(`ec2-model.json: missing shape ${ref.shape}`);
  }
  return data;
}

const MODEL = checkModel(model as unknown as ModelFile);

/** The EC2 API version Weir serves, `2016-11-15`. */
export const EC2_API_VERSION: string = MODEL.metadata.apiVersion;

/**
 * The XML namespace of EC2 responses. The model says `http://ec2.amazonaws.com/doc/2016-11-15`;
 * EC2 itself answers with a trailing slash, and so do we.
 */
export const EC2_XML_NAMESPACE: string = MODEL.metadata.xmlNamespace.replace(/\/?$/, '/');

/** Names of every operation in the model, in model order. */
export const EC2_OPERATIONS: readonly string[] = Object.keys(MODEL.operations);

/** Where the model subset came from (botocore version and file). */
export const EC2_MODEL_SOURCE: string = MODEL.source;

/**
 * The operation named by an EC2 `Action`.
 * @throws Ec2Error `InvalidAction` when Weir does not serve that action.
 */
export function getOperation(action: string): Operation {
  if (!Object.hasOwn(MODEL.operations, action)) {
    throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
  }
  return MODEL.operations[action] as Operation;
}

/** Whether Weir serves `action`. */
export function hasOperation(action: string): boolean {
  return Object.hasOwn(MODEL.operations, action);
}

/**
 * The shape named `name`.
 * @throws Error when the model has no such shape (a programming error, not a client one).
 */
export function shape(name: string): Shape {
  if (!Object.hasOwn(MODEL.shapes, name)) throw new Error(`EC2 model has no shape ${name}`);
  return MODEL.shapes[name] as Shape;
}
