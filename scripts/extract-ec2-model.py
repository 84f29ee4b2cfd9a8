"""Writes src/ec2-model/ec2-model.json: the subset of botocore's EC2 model (2016-11-15) that Weir serves,
and src/cli/ec2/ec2-cli-data.json: what `weir ec2` needs besides: the paginators of those operations
(botocore's paginators-1.json) and their documentation as plain text, for `weir ec2 <command> help`.

The botocore model installed with this machine's Python is the reference for every name, shape
and wire format. Weir's query parser and XML serializer are driven by this subset, so a
response is shaped exactly as botocore expects it. Documentation strings are dropped.
Run: python3 scripts/extract-ec2-model.py
"""
import gzip, html, json, os, re
import botocore

OPERATIONS = [
    "CreateSecurityGroup", "DeleteSecurityGroup", "DescribeSecurityGroups",
    "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress",
    "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
    "DescribeSecurityGroupRules", "ModifySecurityGroupRules",
    "UpdateSecurityGroupRuleDescriptionsEgress", "UpdateSecurityGroupRuleDescriptionsIngress",
    "CreateTags", "DeleteTags", "DescribeTags",
    "CreateVpc", "DescribeVpcs", "DeleteVpc",
    "CreateManagedPrefixList", "DescribeManagedPrefixLists", "GetManagedPrefixListEntries",
    "ModifyManagedPrefixList", "DeleteManagedPrefixList", "DescribePrefixLists",
    "DescribeVpcAttribute", "ModifyVpcAttribute",
    "DescribeVpcClassicLink", "DescribeVpcClassicLinkDnsSupport",
]

data_dir = os.path.join(os.path.dirname(botocore.__file__), "data/ec2/2016-11-15")
model = json.load(gzip.open(os.path.join(data_dir, "service-2.json.gz")))
paginators = json.load(open(os.path.join(data_dir, "paginators-1.json")))["pagination"]
shapes = model["shapes"]
keep = {}

def strip(d):
    return {k: v for k, v in d.items() if k not in ("documentation",)}

def walk(name):
    if name in keep:
        return
    shape = strip(shapes[name])
    keep[name] = shape
    for k in ("member", "key", "value"):
        if k in shape:
            shape[k] = strip(shape[k])
            walk(shape[k]["shape"])
    if "members" in shape:
        shape["members"] = {m: strip(v) for m, v in shape["members"].items()}
        for v in shape["members"].values():
            walk(v["shape"])

ops = {}
for name in OPERATIONS:
    op = model["operations"][name]
    ops[name] = {k: op[k] for k in ("name", "input", "output") if k in op}
    for k in ("input", "output"):
        if k in op:
            walk(op[k]["shape"])

out = {
    "source": f"botocore {botocore.__version__} data/ec2/2016-11-15/service-2.json.gz",
    "metadata": {k: model["metadata"][k] for k in ("apiVersion", "xmlNamespace")},
    "operations": ops,
    "shapes": dict(sorted(keep.items())),
}
dest = os.path.join(os.path.dirname(__file__), "..", "src", "ec2-model", "ec2-model.json")
with open(dest, "w") as f:
    json.dump(out, f, indent=1, sort_keys=False)
    f.write("\n")
print(f"wrote {dest}: {len(ops)} operations, {len(keep)} shapes")


def text(doc):
    """The model's HTML documentation as plain paragraphs (blank-line separated, lists as `* `)."""
    if not doc:
        return ""
    doc = re.sub(r"\s+", " ", doc)
    doc = re.sub(r"<li>\s*", "\n\n* ", doc)
    doc = re.sub(r"<dt>\s*", "\n\n", doc)
    doc = re.sub(r"<dd>\s*", "\n\n  ", doc)
    doc = re.sub(r"<note>\s*", "\n\nNote: ", doc)
    doc = re.sub(r"<important>\s*", "\n\nImportant: ", doc)
    doc = re.sub(r"</?(p|ul|dl)>", "\n\n", doc)
    doc = re.sub(r"<code>(.*?)</code>", r"``\1``", doc)
    doc = re.sub(r"<[^>]+>", "", doc)
    doc = html.unescape(doc)
    paras = [re.sub(r"[ \t]+", " ", p).strip() for p in re.split(r"\n\s*\n", doc)]
    return "\n\n".join(p for p in paras if p)


cli = {
    "source": out["source"].replace("service-2.json.gz", "paginators-1.json and service-2.json.gz"),
    "paginators": {name: paginators[name] for name in OPERATIONS if name in paginators},
    "operations": {name: text(model["operations"][name].get("documentation")) for name in OPERATIONS},
    "shapes": {},
}
for name in keep:
    source = shapes[name]
    entry = {}
    if source.get("documentation"):
        entry["doc"] = text(source["documentation"])
    members = {m: text(v.get("documentation")) for m, v in source.get("members", {}).items()}
    if any(members.values()):
        entry["members"] = {m: d for m, d in members.items() if d}
    if entry:
        cli["shapes"][name] = entry
dest = os.path.join(os.path.dirname(__file__), "..", "src", "cli", "ec2", "ec2-cli-data.json")
with open(dest, "w") as f:
    json.dump(cli, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"wrote {dest}: {len(cli['paginators'])} paginators, documentation of {len(cli['shapes'])} shapes")
