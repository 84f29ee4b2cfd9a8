"""Runs AWS CLI commands in one Python process, so a test can interleave many `aws` calls with its
own without paying Python's and awscli's start-up each time.

Reads JSON lines on stdin: {"args": ["ec2", "describe-vpcs", ...], "env": {...}}, and for each runs
exactly what the `aws` entry point runs (awscli.clidriver.create_clidriver().main(args)) with
os.environ replaced by "env" and stdout/stderr captured, then writes one JSON line:
{"rc": <exit code>, "stdout": "...", "stderr": "..."}.

A fresh driver (and botocore session) per command, so environment and configuration files are read
anew each time, as separate `aws` processes would; AWS_DATA_PATH, which importing awscli sets, is
kept, and botocore's model loader is shared (parsing the model files is most of a command's start-up). argparse exits with SystemExit; its code is the rc.
Exits 3 when awscli cannot be imported.
"""
import contextlib
import io
import json
import os
import sys

try:
    import botocore.session
    from awscli.clidriver import create_clidriver
except ImportError as exc:  # pragma: no cover - reported to the test, which skips
    print(f"awscli not importable: {exc}", file=sys.stderr)
    sys.exit(3)

# Importing awscli put its data directory on AWS_DATA_PATH; every command needs it.
DATA_PATH = os.environ["AWS_DATA_PATH"]
# Model files are parsed once for the whole session rather than per command: botocore's loader only
# caches what it read (nothing in awscli or botocore edits loaded service data), and this is
# most of a command's start-up.
_loaders = {}
_create_loader = botocore.session.create_loader
botocore.session.create_loader = lambda search_path_string=None: _loaders.setdefault(
    search_path_string, _create_loader(search_path_string)
)
# argparse names the program after argv[0] in its errors (`aws: error: …`).
sys.argv[0] = "aws"

for line in sys.stdin:
    request = json.loads(line)
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["AWS_DATA_PATH"] = DATA_PATH
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = create_clidriver().main(request["args"])
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
    sys.__stdout__.write(json.dumps({"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\n")
    sys.__stdout__.flush()
