/**
 * @module ec2-model — botocore's EC2 model (the subset Weir serves, `ec2-model.json`, written by
 * `scripts/extract-ec2-model.py`): the one source of wire names and shapes for the API server
 * (query decoder, XML serializer) and `weir ec2` (parameters, output). Imports only the model.
 */
export {
  EC2_API_VERSION,
  EC2_MODEL_SOURCE,
  EC2_OPERATIONS,
  EC2_XML_NAMESPACE,
  getOperation,
  hasOperation,
  shape,
} from './ec2-model.js';
export type {
  ListShape,
  Operation,
  ScalarShape,
  ScalarType,
  Shape,
  ShapeRef,
  StructureShape,
} from './ec2-model.js';
