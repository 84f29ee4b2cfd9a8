"""Golden-check helper: lets Weir's tests ask botocore itself how it reads Weir's wire formats.

Reads JSON lines on stdin and writes one JSON line per input line on stdout:
  {"service": "ec2"|"sts", "operation": "...", "status": 200, "body": "<xml…>"}
      -> {"ok": true, "result": <botocore's parsed response>}
         (ResponseMetadata keeps only RequestId; for an error status the result holds
          botocore's "Error": {"Code", "Message", ...})
  {"mode": "serialize", "service": "ec2", "operation": "...", "params": {...}}
      -> {"ok": true, "body": "<urlencoded form body botocore would send>"}
A line botocore rejects answers {"ok": false, "error": "..."} so one bad case does not end the batch.
Run by src/api/botocore-golden.test.ts; needs only botocore.
"""
import base64
import datetime
import json
import sys
from urllib.parse import urlencode

import botocore.parsers
import botocore.serialize
import botocore.session

SESSION = botocore.session.get_session()
MODELS = {}


def service_model(name):
    if name not in MODELS:
        MODELS[name] = SESSION.get_service_model(name)
    return MODELS[name]


def to_json(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return str(value)


def parse(req):
    model = service_model(req["service"])
    op = model.operation_model(req["operation"])
    parser = botocore.parsers.create_parser(model.protocol)
    response = {
        "status_code": req.get("status", 200),
        "headers": {},
        "body": req["body"].encode("utf-8"),
    }
    parsed = parser.parse(response, op.output_shape)
    meta = parsed.pop("ResponseMetadata", {})
    if "RequestId" in meta:
        parsed["ResponseMetadata"] = {"RequestId": meta["RequestId"]}
    return {"ok": True, "result": parsed}


def serialize(req):
    model = service_model(req["service"])
    op = model.operation_model(req["operation"])
    serializer = botocore.serialize.create_serializer(model.protocol, include_validation=True)
    request = serializer.serialize_to_request(req["params"], op)
    # The same encoding botocore's AWSPreparedRequest applies to a dict body.
    return {"ok": True, "body": urlencode(list(request["body"].items()), doseq=True)}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            out = serialize(req) if req.get("mode") == "serialize" else parse(req)
        except Exception as e:  # reported per line; the test shows it
            out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out, default=to_json) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
