"""Writes src/api/ec2-model.json: the subset of botocore's EC2 model (2016-11-15) that Weir serves.

The botocore model installed with this machine's Python is the reference for every name, shape
and wire format. Weir's query parser and XML serializer are driven by this subset, so a
response is shaped exactly as botocore expects it. Documentation strings are dropped.
Run: python3 scripts/extract-ec2-model.py
"""
import gzip, json, os
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
]

path = os.path.join(os.path.dirname(botocore.__file__), "data/ec2/2016-11-15/service-2.json.gz")
model = json.load(gzip.open(path))
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
dest = os.path.join(os.path.dirname(__file__), "..", "src", "api", "ec2-model.json")
with open(dest, "w") as f:
    json.dump(out, f, indent=1, sort_keys=False)
    f.write("\n")
print(f"wrote {dest}: {len(ops)} operations, {len(keep)} shapes")
