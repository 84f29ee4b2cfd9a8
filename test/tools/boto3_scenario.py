"""boto3 scenario against a running Weir: run by test/api-boto3.test.ts.

Environment: WEIR_ENDPOINT (the server URL), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION. Performs one end-to-end security-group scenario with boto3 and prints a
single JSON object on stdout; the test asserts on it. A step that raises is reported in the
JSON ("crashed") rather than as a traceback only, so the test shows which step failed.
"""
import json
import os
import sys
import traceback

import boto3
import botocore.exceptions
from botocore.config import Config

ENDPOINT = os.environ["WEIR_ENDPOINT"]
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"})

ec2 = boto3.client("ec2", endpoint_url=ENDPOINT, region_name=REGION, config=CONFIG)
sts = boto3.client("sts", endpoint_url=ENDPOINT, region_name=REGION, config=CONFIG)

out = {}


def strip(resp):
    """A response without ResponseMetadata (request IDs and headers vary)."""
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def error_of(fn, **kwargs):
    """Calls fn, expecting a ClientError; returns its code and message (or 'no error')."""
    try:
        fn(**kwargs)
    except botocore.exceptions.ClientError as e:
        return {
            "code": e.response["Error"]["Code"],
            "message": e.response["Error"].get("Message", ""),
            "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
        }
    return {"code": "no error"}


def group_rules(group_id, page_size=None):
    """Every rule of a group through the paginator, and how many pages it took."""
    pager = ec2.get_paginator("describe_security_group_rules")
    config = {"PageSize": page_size} if page_size else {}
    rules, pages = [], 0
    for page in pager.paginate(
        Filters=[{"Name": "group-id", "Values": [group_id]}], PaginationConfig=config
    ):
        pages += 1
        rules.extend(page["SecurityGroupRules"])
    return rules, pages


def scenario():
    out["identity"] = strip(sts.get_caller_identity())

    # A VPC with an Amazon-provided IPv6 block, and two groups in it.
    vpc = ec2.create_vpc(
        CidrBlock="10.40.0.0/16",
        AmazonProvidedIpv6CidrBlock=True,
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "boto3"}]}],
    )["Vpc"]
    vpc_id = vpc["VpcId"]
    out["vpc"] = vpc
    out["describeVpc"] = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]

    app = ec2.create_security_group(
        GroupName="app",
        Description="app servers",
        VpcId=vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "team", "Value": "web"}]}],
    )
    db = ec2.create_security_group(GroupName="db", Description="databases", VpcId=vpc_id)
    app_id, db_id = app["GroupId"], db["GroupId"]
    out["app"] = strip(app)
    out["dbId"] = db_id
    out["defaultRules"], _ = group_rules(app_id)

    # A customer-managed prefix list to send traffic to.
    pl = ec2.create_managed_prefix_list(
        PrefixListName="partners",
        AddressFamily="IPv4",
        MaxEntries=5,
        Entries=[{"Cidr": "203.0.113.0/24", "Description": "partner A"}],
    )["PrefixList"]
    pl_id = pl["PrefixListId"]
    out["prefixListId"] = pl_id

    # One Authorize with every destination kind.
    auth = ec2.authorize_security_group_egress(
        GroupId=app_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "internal https"}],
                "Ipv6Ranges": [{"CidrIpv6": "2001:db8:1234:1a00::/64"}],
                "PrefixListIds": [{"PrefixListId": pl_id, "Description": "partners"}],
                "UserIdGroupPairs": [{"GroupId": db_id, "Description": "to db"}],
            },
            {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.0.0.2/32"}]},
            {"IpProtocol": "icmp", "FromPort": 3, "ToPort": 4, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
            {"IpProtocol": "icmpv6", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        ],
        TagSpecifications=[
            {"ResourceType": "security-group-rule", "Tags": [{"Key": "owner", "Value": "boto3"}]}
        ],
    )
    out["authorize"] = strip(auth)

    # Describe: by paginator with a small page, and the folded IpPermissionsEgress view.
    rules, pages = group_rules(app_id, page_size=5)
    out["rulesPaged"] = rules
    out["rulesPages"] = pages
    out["rulesUnpaged"], _ = group_rules(app_id)
    groups = []
    for page in ec2.get_paginator("describe_security_groups").paginate(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}], PaginationConfig={"PageSize": 5}
    ):
        groups.extend(page["SecurityGroups"])
    out["groupsInVpc"] = groups
    out["byEgressFilter"] = [
        g["GroupId"]
        for g in ec2.describe_security_groups(
            Filters=[{"Name": "egress.ip-permission.prefix-list-id", "Values": [pl_id]}]
        )["SecurityGroups"]
    ]

    # Tags on a rule.
    rule_ids = [r["SecurityGroupRuleId"] for r in auth["SecurityGroupRules"]]
    first = rule_ids[0]
    ec2.create_tags(Resources=[first], Tags=[{"Key": "env", "Value": "prod"}])
    out["tagsAfterCreate"] = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [first]}])["Tags"]
    out["byTag"] = [
        r["SecurityGroupRuleId"]
        for r in ec2.describe_security_group_rules(Filters=[{"Name": "tag:env", "Values": ["prod"]}])[
            "SecurityGroupRules"
        ]
    ]
    ec2.delete_tags(Resources=[first], Tags=[{"Key": "env"}])
    out["tagsAfterDelete"] = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [first]}])["Tags"]

    # Modify one rule (the udp/53 one) in place, then update a description by permission.
    udp = next(r for r in auth["SecurityGroupRules"] if r["IpProtocol"] == "udp")
    out["modify"] = strip(
        ec2.modify_security_group_rules(
            GroupId=app_id,
            SecurityGroupRules=[
                {
                    "SecurityGroupRuleId": udp["SecurityGroupRuleId"],
                    "SecurityGroupRule": {
                        "IpProtocol": "udp",
                        "FromPort": 53,
                        "ToPort": 53,
                        "CidrIpv4": "10.0.0.3/32",
                        "Description": "resolver",
                    },
                }
            ],
        )
    )
    out["modified"] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[udp["SecurityGroupRuleId"]])[
        "SecurityGroupRules"
    ][0]
    out["updateDescriptions"] = strip(
        ec2.update_security_group_rule_descriptions_egress(
            GroupId=app_id,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "renamed"}],
                }
            ],
        )
    )
    out["afterUpdate"] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[first])["SecurityGroupRules"][0]

    # Errors, each as botocore.exceptions.ClientError with e.response['Error']['Code'].
    errors = {}
    errors["duplicate"] = error_of(
        ec2.authorize_security_group_egress,
        GroupId=app_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}],
    )
    # Canonicalisation: a non-canonical CIDR is the same rule as its canonical form.
    errors["duplicateNonCanonical"] = error_of(
        ec2.authorize_security_group_egress,
        GroupId=app_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.9.9/16"}]}],
    )
    errors["groupNotFound"] = error_of(
        ec2.authorize_security_group_egress,
        GroupId="sg-0123456789abcdef0",
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
    )
    errors["referencedGroupNotFound"] = error_of(
        ec2.authorize_security_group_egress,
        GroupId=app_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "UserIdGroupPairs": [{"GroupId": "sg-0123456789abcdef0"}]}
        ],
    )
    errors["prefixListNotFound"] = error_of(
        ec2.authorize_security_group_egress,
        GroupId=app_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "PrefixListIds": [{"PrefixListId": "pl-0123456789abcdef0"}]}
        ],
    )
    errors["badPort"] = error_of(
        ec2.authorize_security_group_egress,
        GroupId=app_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 70000, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
    )
    errors["badCidr"] = error_of(
        ec2.authorize_security_group_egress,
        GroupId=app_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "10.0.0.0/33"}]}],
    )
    errors["noDestination"] = error_of(
        ec2.authorize_security_group_egress,
        GroupId=app_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1}],
    )
    errors["dryRun"] = error_of(
        ec2.authorize_security_group_egress,
        GroupId=app_id,
        DryRun=True,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 2, "ToPort": 2, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
    )
    errors["revokeUnknown"] = error_of(
        ec2.revoke_security_group_egress,
        GroupId=app_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 9, "ToPort": 9, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
    )
    errors["revokeUnknownId"] = error_of(
        ec2.revoke_security_group_egress, GroupId=app_id, SecurityGroupRuleIds=["sgr-0123456789abcdef0"]
    )
    errors["describeUnknownId"] = error_of(
        ec2.describe_security_group_rules, SecurityGroupRuleIds=["sgr-0123456789abcdef0"]
    )
    errors["deleteReferenced"] = error_of(ec2.delete_security_group, GroupId=db_id)
    errors["deletePrefixListInUse"] = error_of(ec2.delete_managed_prefix_list, PrefixListId=pl_id)
    errors["badNextToken"] = error_of(ec2.describe_security_group_rules, MaxResults=5, NextToken="bogus")
    out["errors"] = errors
    # None of the failed calls may have written anything.
    out["rulesAfterErrors"], _ = group_rules(app_id)

    # Revoke: by IpPermissions (group and prefix list), then by rule ID (the rest but defaults).
    out["revokeByPermission"] = strip(
        ec2.revoke_security_group_egress(
            GroupId=app_id,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "UserIdGroupPairs": [{"GroupId": db_id}],
                    "PrefixListIds": [{"PrefixListId": pl_id}],
                }
            ],
        )
    )
    remaining, _ = group_rules(app_id)
    default_ids = {r["SecurityGroupRuleId"] for r in out["defaultRules"]}
    to_revoke = [r["SecurityGroupRuleId"] for r in remaining if r["SecurityGroupRuleId"] not in default_ids]
    out["revokeById"] = strip(ec2.revoke_security_group_egress(GroupId=app_id, SecurityGroupRuleIds=to_revoke))
    out["rulesAtEnd"], _ = group_rules(app_id)

    # The resource API's classic "revoke what Describe shows" round trip: the described
    # IpPermissionsEgress (descriptions, owner IDs, empty lists included) revokes every rule.
    res = boto3.resource("ec2", endpoint_url=ENDPOINT, region_name=REGION, config=CONFIG)
    sg = res.SecurityGroup(db_id)
    sg.authorize_egress(
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5433,
                "IpRanges": [{"CidrIp": "10.1.0.0/16", "Description": "replica"}],
                "UserIdGroupPairs": [{"GroupId": app_id, "Description": "back to app"}],
            }
        ]
    )
    sg.reload()
    out["resourceEgressBefore"] = sg.ip_permissions_egress
    out["resourceRevoke"] = strip(sg.revoke_egress(IpPermissions=sg.ip_permissions_egress))
    sg.reload()
    out["resourceEgressAfter"] = sg.ip_permissions_egress

    # With the references gone, the group and the prefix list can be deleted.
    out["deleteDb"] = strip(ec2.delete_security_group(GroupId=db_id))
    out["deletePrefixList"] = ec2.delete_managed_prefix_list(PrefixListId=pl_id)["PrefixList"]["State"]


try:
    scenario()
except Exception as e:  # noqa: BLE001 - the test wants every failure in the JSON
    out["crashed"] = f"{type(e).__name__}: {e}"
    traceback.print_exc(file=sys.stderr)

json.dump(out, sys.stdout, default=str)
sys.stdout.write("\n")
