"""boto3 round-trip of every control-plane kind through botocore's paginators.
Usage: paginators.py <endpoint-url>. Prints a JSON summary."""
import json
import sys

import boto3

c = boto3.client("batch", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="openbatch", aws_secret_access_key="openbatch")
N = 5
for i in range(N):
    c.create_compute_environment(computeEnvironmentName=f"py-ce-{i}", type="UNMANAGED", unmanagedvCpus=4)
    c.create_job_queue(jobQueueName=f"py-q-{i}", priority=i, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": f"py-ce-{i}"}])
    c.register_job_definition(jobDefinitionName="py-jd", type="container", containerProperties={"image": "busybox", "vcpus": 1, "memory": 64})
    c.create_scheduling_policy(name=f"py-sp-{i}", fairsharePolicy={"shareDecaySeconds": i})
    c.create_consumable_resource(consumableResourceName=f"py-cr-{i}", totalQuantity=i)
    c.create_service_environment(serviceEnvironmentName=f"py-se-{i}", serviceEnvironmentType="SAGEMAKER_TRAINING", capacityLimits=[{"maxCapacity": 1, "capacityUnit": "NUM_INSTANCES"}])


def collect(op, key, **kw):
    items, pages, tokens = [], 0, []
    for page in c.get_paginator(op).paginate(PaginationConfig={"PageSize": 2}, **kw):
        pages += 1
        items.extend(page[key])
        if "nextToken" in page:
            tokens.append(page["nextToken"])
    assert len(tokens) == len(set(tokens)), "repeated token"
    return items, pages


summary = {}
for op, key, kw, name in [
    ("describe_compute_environments", "computeEnvironments", {}, "computeEnvironmentName"),
    ("describe_job_queues", "jobQueues", {}, "jobQueueName"),
    ("describe_job_definitions", "jobDefinitions", {"jobDefinitionName": "py-jd"}, "revision"),
    ("list_scheduling_policies", "schedulingPolicies", {}, "arn"),
    ("list_consumable_resources", "consumableResources", {}, "consumableResourceName"),
    ("describe_service_environments", "serviceEnvironments", {}, "serviceEnvironmentName"),
]:
    items, pages = collect(op, key, **kw)
    summary[op] = {"count": len(items), "pages": pages, "names": [it[name] for it in items]}
d = c.describe_consumable_resource(consumableResource="py-cr-3")
summary["consumable"] = {k: d[k] for k in ("totalQuantity", "inUseQuantity", "availableQuantity", "resourceType")}
print(json.dumps(summary))
