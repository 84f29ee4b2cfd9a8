/**
 * @module cli/ec2/python — the Python behaviour that shows through the AWS CLI's messages and
 * output, ported so Weir prints the same bytes: built-ins (`repr`, `str`, `int()`, `float()`,
 * `str.strip`, code-point lengths and ordering), the `json` module's `loads`/`dumps`,
 * `unicodedata.east_asian_width`, and the ruamel.yaml/libyaml emitter behind AWS CLI v2's YAML.
 */
export {
  PY_WHITESPACE_CLASS,
  PythonError,
  codePointLength,
  compareCodePoints,
  pyFloat,
  pyInt,
  pyLstrip,
  pyRepr,
  pyReprValue,
  pyRstrip,
  pyStr,
  pyStrip,
  pyTypeName,
} from './builtins.js';
export { textWidth } from './east-asian-width.js';
export { JsonDecodeError, pyJsonDumps, pyJsonLoads, setOwn } from './json.js';
export { dumpYaml } from './yaml.js';
