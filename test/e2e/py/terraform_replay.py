"""Replay the Terraform AWS provider's Batch call sequences (terraform-provider.md §2) with boto3
and check the provider's read-back rules. Usage: terraform_replay.py <endpoint-url>.
Prints OK and exits 0 on success; any failed check raises (non-zero exit, traceback on stderr)."""
import sys
import time

import boto3
from botocore.exceptions import ClientError

URL = sys.argv[1]
c = boto3.client(
    "batch",
    endpoint_url=URL,
    region_name="us-east-1",
    aws_access_key_id="openbatch",
    aws_secret_access_key="openbatch",
)
ACCT = "arn:aws:batch:us-east-1:123456789012"


def wait(refresh, pending, target, timeout=20.0):
    """retry.StateChangeConf: refresh() returns (item or None); target [] = wait for absence."""
    deadline = time.time() + timeout
    while True:
        item = refresh()
        if item is None or (not target and item.get("status") in ("DELETED", "INACTIVE")):
            if not target:
                return None
        else:
            st = item["status"]
            if st in target:
                return item
            assert st in pending, f"unexpected state {st} (reason {item.get('statusReason')}); pending={pending} target={target}"
        assert time.time() < deadline, f"timed out waiting for {target or 'absence'}"
        time.sleep(0.05)


def ce_by_name(name):
    out = c.describe_compute_environments(computeEnvironments=[name])["computeEnvironments"]
    assert len(out) <= 1
    return out[0] if out else None


def jq_by_arn(arn):
    items = []
    for page in c.get_paginator("describe_job_queues").paginate(jobQueues=[arn]):
        items.extend(page["jobQueues"])
    assert len(items) <= 1
    return items[0] if items else None


def jd_by_arn(arn):
    out = c.describe_job_definitions(jobDefinitions=[arn])["jobDefinitions"]
    assert len(out) <= 1
    return out[0] if out else None


def expect_client_error(fn, contains):
    try:
        fn()
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ClientException", e.response
        assert contains in e.response["Error"]["Message"], e.response["Error"]["Message"]
        return
    raise AssertionError("expected a ClientException")


EMPTY_EQUIV = ["command", "environment", "mountPoints", "resourceRequirements", "secrets", "ulimits", "volumes"]


def reduce_container(cp):
    """equivalentContainerPropertiesJSON reduction [CP:25-107]."""
    cp = dict(cp)
    env = [e for e in cp.get("environment", []) if e.get("value")]
    cp["environment"] = sorted(env, key=lambda e: e["name"])
    for k in EMPTY_EQUIV:
        if not cp.get(k):
            cp.pop(k, None)
    if cp.get("fargatePlatformConfiguration") == {"platformVersion": "LATEST"}:
        cp.pop("fargatePlatformConfiguration")
    return cp


# ---- aws_batch_scheduling_policy ------------------------------------------------------------
fair = {"computeReservation": 0, "shareDecaySeconds": 0, "shareDistribution": [{"shareIdentifier": "A1", "weightFactor": 0.5}]}
sp = c.create_scheduling_policy(name="tf-policy", tags={"Env": "test"}, fairsharePolicy=fair)
sp_arn = sp["arn"]
assert sp_arn == f"{ACCT}:scheduling-policy/tf-policy", sp_arn
got = c.describe_scheduling_policies(arns=[sp_arn])["schedulingPolicies"]
assert len(got) == 1 and got[0]["fairsharePolicy"] == fair and got[0]["tags"] == {"Env": "test"}, got

# ---- aws_batch_compute_environment (ID = name) ------------------------------------------------
ce_name = "tf-ce"
out = c.create_compute_environment(
    computeEnvironmentName=ce_name,
    serviceRole="",
    tags={"Env": "test"},
    type="MANAGED",
    state="ENABLED",
    computeResources={
        "type": "EC2",
        "maxvCpus": 16,
        "minvCpus": 0,
        "instanceRole": "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole",
        "instanceTypes": ["optimal"],
        "securityGroupIds": ["sg-00000000"],
        "subnets": ["subnet-00000000"],
        "tags": {"Name": "node"},
    },
)
assert out["computeEnvironmentName"] == ce_name
ce_arn = out["computeEnvironmentArn"]
wait(lambda: ce_by_name(ce_name), ["CREATING"], ["VALID"])
# update_policy set → UpdateComputeEnvironment then UPDATING → VALID
c.update_compute_environment(computeEnvironment=ce_name, updatePolicy={"jobExecutionTimeoutMinutes": 30, "terminateJobsOnUpdate": False})
wait(lambda: ce_by_name(ce_name), ["UPDATING"], ["VALID"])
ce = ce_by_name(ce_name)
cr = ce["computeResources"]
assert "allocationStrategy" not in cr and "bidPercentage" not in cr, cr
assert cr["tags"] == {"Name": "node"} and ce["tags"] == {"Env": "test"}, ce
assert cr["instanceTypes"] == ["optimal"] and cr["minvCpus"] == 0 and cr["maxvCpus"] == 16
assert ce["ecsClusterArn"] and ce["status"] == "VALID" and ce["statusReason"] and ce["serviceRole"]
assert ce["state"] == "ENABLED" and ce["type"] == "MANAGED"
assert ce["updatePolicy"] == {"jobExecutionTimeoutMinutes": 30, "terminateJobsOnUpdate": False}

# ---- aws_batch_job_queue (ID = ARN) -----------------------------------------------------------
jq = c.create_job_queue(
    jobQueueName="tf-queue",
    priority=1,
    state="ENABLED",
    tags={"Env": "test"},
    computeEnvironmentOrder=[{"computeEnvironment": ce_arn, "order": 1}],
    jobStateTimeLimitActions=[],
    schedulingPolicyArn=sp_arn,
)
jq_arn = jq["jobQueueArn"]
assert jq_arn == f"{ACCT}:job-queue/tf-queue"
wait(lambda: jq_by_arn(jq_arn), ["CREATING", "UPDATING"], ["VALID"])
fifo = c.create_job_queue(jobQueueName="tf-fifo", priority=2, state="ENABLED", computeEnvironmentOrder=[{"computeEnvironment": ce_arn, "order": 0}])
wait(lambda: jq_by_arn(fifo["jobQueueArn"]), ["CREATING", "UPDATING"], ["VALID"])
q = jq_by_arn(jq_arn)
assert q["computeEnvironmentOrder"] == [{"computeEnvironment": ce_arn, "order": 1}], q
assert q["schedulingPolicyArn"] == sp_arn and q["priority"] == 1 and q["state"] == "ENABLED" and q["tags"] == {"Env": "test"}
f = jq_by_arn(fifo["jobQueueArn"])
assert "schedulingPolicyArn" not in f, f  # never ""
assert f["computeEnvironmentOrder"] == [{"computeEnvironment": ce_arn, "order": 0}]

# ---- aws_batch_job_definition (ID = versioned ARN) ---------------------------------------------
container = {
    "image": "busybox:latest",
    "command": ["echo", "hello"],
    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "512"}],
    "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
    "jobRoleArn": "arn:aws:iam::123456789012:role/job",
}
jd = c.register_job_definition(jobDefinitionName="tf-jd", type="container", propagateTags=False, tags={"Env": "test"}, containerProperties=container)
jd_arn = jd["jobDefinitionArn"]
assert jd_arn.endswith(f":{jd['revision']}") and jd["revision"] == 1
got = jd_by_arn(jd_arn)  # read-after-write
assert got["status"] == "ACTIVE" and got["tags"] == {"Env": "test"} and got["propagateTags"] is False
for k in ("retryStrategy", "timeout", "platformCapabilities", "schedulingPriority"):
    assert k not in got, (k, got)
assert got["parameters"] == {}
assert reduce_container(got["containerProperties"]) == reduce_container(container), got["containerProperties"]
assert got["containerProperties"]["resourceRequirements"] == container["resourceRequirements"]  # order kept
for k in ("privileged", "vcpus", "memory", "readonlyRootFilesystem"):
    assert k not in got["containerProperties"], k
assert jd_arn[: -len(":1")] == f"{ACCT}:job-definition/tf-jd"  # arn_prefix

# update → new revision + deregister the old one
jd2 = c.register_job_definition(
    jobDefinitionName="tf-jd", type="container", tags={"Env": "test"}, containerProperties=dict(container, command=["echo", "bye"]),
    retryStrategy={"attempts": 2, "evaluateOnExit": [{"action": "RETRY", "onExitCode": "1"}, {"action": "EXIT", "onReason": "*"}]},
    timeout={"attemptDurationSeconds": 120},
)
assert jd2["revision"] == 2
c.deregister_job_definition(jobDefinition=jd_arn)
assert jd_by_arn(jd_arn)["status"] == "INACTIVE"
got2 = jd_by_arn(jd2["jobDefinitionArn"])
assert got2["retryStrategy"] == {"attempts": 2, "evaluateOnExit": [{"action": "RETRY", "onExitCode": "1"}, {"action": "EXIT", "onReason": "*"}]}
assert got2["timeout"] == {"attemptDurationSeconds": 120}
# tag-only change on the versioned ARN
c.untag_resource(resourceArn=jd2["jobDefinitionArn"], tagKeys=["Env"])
c.tag_resource(resourceArn=jd2["jobDefinitionArn"], tags={"Env": "prod", "Owner": "me"})
assert jd_by_arn(jd2["jobDefinitionArn"])["tags"] == {"Env": "prod", "Owner": "me"}
# a revision registered outside Terraform (CLI) is also destroyed later
c.register_job_definition(jobDefinitionName="tf-jd", type="container", containerProperties={"image": "busybox"})

# ---- updates ----------------------------------------------------------------------------------
c.update_compute_environment(computeEnvironment=ce_name, computeResources={"maxvCpus": 32, "minvCpus": 0, "desiredvCpus": 0})
wait(lambda: ce_by_name(ce_name), ["UPDATING"], ["VALID"])
assert ce_by_name(ce_name)["computeResources"]["maxvCpus"] == 32
c.update_job_queue(jobQueue="tf-queue", priority=5, schedulingPolicyArn=sp_arn)
wait(lambda: jq_by_arn(jq_arn), ["UPDATING"], ["VALID"])
assert jq_by_arn(jq_arn)["priority"] == 5
c.update_scheduling_policy(arn=sp_arn, fairsharePolicy=dict(fair, shareDecaySeconds=600))
assert c.describe_scheduling_policies(arns=[sp_arn])["schedulingPolicies"][0]["fairsharePolicy"]["shareDecaySeconds"] == 600

# ---- import: the same Describe calls by the import IDs ------------------------------------------
assert ce_by_name(ce_name)["computeEnvironmentArn"] == ce_arn
assert jq_by_arn(jq_arn)["jobQueueName"] == "tf-queue"
assert jd_by_arn(jd2["jobDefinitionArn"])["revision"] == 2

# ---- destroy ----------------------------------------------------------------------------------
for arn in (jq_arn, fifo["jobQueueArn"]):
    c.update_job_queue(jobQueue=arn, state="DISABLED")
    item = wait(lambda: jq_by_arn(arn), ["UPDATING"], ["VALID"])
    assert item["state"] == "DISABLED"
    c.delete_job_queue(jobQueue=arn)
    wait(lambda: jq_by_arn(arn), ["DELETING"], [])

actives = []
for page in c.get_paginator("describe_job_definitions").paginate(jobDefinitionName="tf-jd", status="ACTIVE", PaginationConfig={"PageSize": 1}):
    actives.extend(page["jobDefinitions"])
assert sorted(j["revision"] for j in actives) == [2, 3], actives
for j in actives:
    c.deregister_job_definition(jobDefinition=j["jobDefinitionArn"])
assert c.describe_job_definitions(jobDefinitionName="tf-jd", status="ACTIVE")["jobDefinitions"] == []
assert jd_by_arn(jd2["jobDefinitionArn"])["status"] == "INACTIVE"

c.update_compute_environment(computeEnvironment=ce_name, state="DISABLED")
wait(lambda: ce_by_name(ce_name), ["UPDATING"], ["VALID"])
c.delete_compute_environment(computeEnvironment=ce_name)
wait(lambda: ce_by_name(ce_name), ["DELETING"], [])
c.delete_scheduling_policy(arn=sp_arn)
assert c.describe_scheduling_policies(arns=[sp_arn])["schedulingPolicies"] == []

# destroy re-run: "does not exist" counts as already deleted
expect_client_error(lambda: c.update_job_queue(jobQueue=jq_arn, state="DISABLED"), "does not exist")
expect_client_error(lambda: c.update_compute_environment(computeEnvironment=ce_name, state="DISABLED"), "does not exist")
print("OK")
