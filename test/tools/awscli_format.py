"""Cross-check helper: prints what the AWS CLI's output formatters print for a parsed response.

Reads JSON lines on stdin and writes one JSON line per input line on stdout:
  {"operation": "DescribeSecurityGroups", "response": {...}, "output": "json|text|table|yaml|yaml-stream",
   "query": "<JMESPath>" (optional), "color": false (optional),
   "pages": [{...}, ...], "resultKeys": ["SecurityGroups"] (optional: a paginated call)}
      -> {"ok": true, "stdout": "<exactly what the formatter wrote>"}
         or {"ok": false, "error": "<exception class>", "message": "..."}

json, text and table go through awscli.formatter.get_formatter with an args namespace shaped like the
CLI's parsed globals, as awscli/clidriver.py calls it; pages go through a real botocore PageIterator,
so text and table see what `aws` shows for a paginated operation. `--color on` runs with stdout
swapped for a buffer, because colorama's autoreset wraps sys.stdout and adds a reset after each
write, and that is what the CLI prints.

The installed awscli is v1, which has no YAML output. For yaml and yaml-stream this helper rebuilds
AWS CLI v2's YAML formatter from its documented behaviour: ruamel.yaml YAML(typ='safe') with
default_flow_style False (libyaml's emitter when ruamel.yaml.clib is present, as in the v2
installers), JSON scalars dumped as JSON, an empty dict printing nothing, and yaml-stream wrapping
each page in a one-element list. It reports {"ok": false, "error": "NoRuamel"} when ruamel.yaml
cannot be imported (it also looks in Debian's dist-packages, where apt's python3-ruamel.yaml puts it).
Exits 3 when awscli cannot be imported.
"""
import io
import json
import sys
from argparse import Namespace

try:
    import jmespath
    from awscli.formatter import get_formatter
    from awscli.utils import json_encoder
    from botocore.paginate import PageIterator
except ImportError as exc:  # pragma: no cover - reported to the test, which skips
    print(f"awscli not importable: {exc}", file=sys.stderr)
    sys.exit(3)


def load_ruamel():
    try:
        from ruamel.yaml import YAML
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            from ruamel.yaml import YAML
        except ImportError:
            return None
    return YAML


YAML_CLASS = load_ruamel()


class V2YAMLDumper:
    def __init__(self):
        self._yaml = YAML_CLASS(typ="safe")
        self._yaml.default_flow_style = False

    def dump(self, value, stream):
        if value is None or isinstance(value, (str, bool, int, float)):
            json.dump(value, stream, ensure_ascii=False)
            stream.write("\n")
        else:
            self._yaml.dump(value, stream)


def make_pages(pages, result_keys):
    def method(**kwargs):
        token = kwargs.get("NextToken")
        index = 0 if token is None else int(token)
        return json.loads(json.dumps(pages[index]))

    # The helper's own token is the page index; the responses keep their own NextToken values only
    # for the formatter's eyes, so rewrite them to indexes.
    for i, page in enumerate(pages):
        if i + 1 < len(pages):
            page["NextToken"] = str(i + 1)
        else:
            page.pop("NextToken", None)
    return PageIterator(
        method,
        ["NextToken"],
        [jmespath.compile("NextToken")],
        None,
        [jmespath.compile(k) for k in result_keys],
        [],
        "MaxResults",
        None,
        None,
        None,
        {},
    )


class NoRuamel(Exception):
    pass


def format_yaml(req, query):
    if YAML_CLASS is None:
        raise NoRuamel("ruamel.yaml is not importable")
    dumper = V2YAMLDumper()
    out = io.StringIO()
    if req["output"] == "yaml":
        if "pages" in req:
            response = make_pages(req["pages"], req["resultKeys"]).build_full_result()
        else:
            response = req["response"]
        if isinstance(response, dict):
            response.pop("ResponseMetadata", None)
        if query is not None:
            response = query.search(response)
        if response != {}:
            dumper.dump(response, out)
        return out.getvalue()
    pages = req["pages"] if "pages" in req else [req["response"]]
    for page in pages:
        if isinstance(page, dict):
            page.pop("ResponseMetadata", None)
        if query is not None:
            page = query.search(page)
        dumper.dump([page], out)
    return out.getvalue()


def run(req):
    query = jmespath.compile(req["query"]) if req.get("query") else None
    if req["output"] in ("yaml", "yaml-stream"):
        return format_yaml(req, query)
    color = "on" if req.get("color") else "off"
    args = Namespace(query=query, color=color, output=req["output"])
    response = make_pages(req["pages"], req["resultKeys"]) if "pages" in req else req["response"]
    if color == "on":
        real = sys.stdout
        buf = io.StringIO()
        sys.stdout = buf
        try:
            import colorama

            formatter = get_formatter(req["output"], args)
            formatter(req["operation"], response)
        finally:
            colorama.deinit()
            sys.stdout = real
        return buf.getvalue()
    out = io.StringIO()
    get_formatter(req["output"], args)(req["operation"], response, out)
    return out.getvalue()


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            answer = {"ok": True, "stdout": run(req)}
        except Exception as exc:  # every failure is an answer, so one bad case does not end the batch
            answer = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
        sys.stdout.write(json.dumps(answer, default=json_encoder) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
