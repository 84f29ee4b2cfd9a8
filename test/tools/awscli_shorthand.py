"""Cross-check helper: asks the installed AWS CLI (v1, awscli) how it reads parameter values.

Reads JSON lines on stdin and writes one JSON line per input line on stdout:
  {"kind": "shorthand", "input": "..."}
      -> awscli.shorthand.ShorthandParser().parse(input), model-free
  {"kind": "json", "input": "..."}
      -> json.loads(input, object_pairs_hook=OrderedDict), as argprocess does
  {"kind": "param", "command": "authorize-security-group-egress", "param": "ip-permissions",
   "value": "..." | ["...", ...]}
      -> the whole CLI path: the load-cli-arg event (file:// and fileb://), then shorthand or
         JSON chosen by the first character, the model-aware BackCompatVisitor, unpack_cli_arg
Each answer is {"ok": true, "value": ...} or {"ok": false, "error": "<exception class>",
"message": "<str(exception)>"}. Bytes (fileb://) come back as {"$bytes": "<base64>"}, NaN and the
infinities as {"$float": "nan"|"inf"|"-inf"}.

awscli 1.45's ShorthandParseSyntaxError forgets to interpolate the caret picture into its message
(it prints the literal text "{self._error_location()}"). This helper restores the intended message
-- the one AWS CLI v2 prints -- so the comparison is about the parser, not that typo.
Run by test/cli-ec2-shorthand-awscli.test.ts; exits 3 when awscli cannot be imported.
"""
import base64
import json
import sys
from argparse import Namespace
from collections import OrderedDict

try:
    from awscli import shorthand
    from awscli.clidriver import create_clidriver
    from awscli.paramfile import register_uri_param_handler
except ImportError as exc:  # pragma: no cover - reported to the test, which skips
    print(f"awscli not importable: {exc}", file=sys.stderr)
    sys.exit(3)


def _intended_msg(self):
    return (
        f"Expected: '{self.expected}', received: '{self.actual}' for input:\n"
        f"{self._error_location()}"
    )


shorthand.ShorthandParseSyntaxError._construct_msg = _intended_msg

_DRIVER = None
_OPS = {}


def operation(command):
    global _DRIVER
    if _DRIVER is None:
        _DRIVER = create_clidriver()
        # The CLI registers its file:// handler when it emits session-initialized in main().
        register_uri_param_handler(_DRIVER.session)
    if command not in _OPS:
        ec2 = _DRIVER._get_command_table()["ec2"]
        _OPS[command] = ec2._get_command_table()[command]
    return _OPS[command]


def plain(value):
    """Non-finite floats as {"$float": "nan"|"inf"|"-inf"}: JSON has no literal for them."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return {"$float": repr(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def to_json(value):
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(value).decode()}
    raise TypeError(f"cannot encode {type(value).__name__}")


def run(req):
    kind = req["kind"]
    if kind == "shorthand":
        return shorthand.ShorthandParser().parse(req["input"])
    if kind == "json":
        return json.loads(req["input"], object_pairs_hook=OrderedDict)
    if kind == "param":
        op = operation(req["command"])
        arg = op.arg_table[req["param"]]
        globals_ = Namespace(v2_debug=False)
        value = op._unpack_arg(arg, req["value"], globals_)
        params = {}
        arg.add_to_params(params, value)
        return params.get(arg._serialized_name)
    raise ValueError(f"unknown kind {kind}")


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            answer = {"ok": True, "value": plain(run(req))}
        except Exception as exc:  # every failure is an answer, so one bad case does not end the batch
            answer = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
        sys.stdout.write(json.dumps(answer, default=to_json) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
