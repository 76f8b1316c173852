"""boto3 end to end: register, submit with overrides, poll to SUCCEEDED, read the log, array job,
retry with evaluateOnExit, ListJobs paginator. Prints JSON facts for the calling test."""
import json, sys, time
import boto3

url = sys.argv[1]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
batch = boto3.client("batch", **kw)
logs = boto3.client("logs", **kw)

jd = batch.register_job_definition(
    jobDefinitionName="pulse-retrodiction-training-poc",
    type="container",
    containerProperties={
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/pulse-retrodiction",
        "command": ["sh", "-c", "echo default"],
        "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "256"}],
        "environment": [{"name": "DASK_MEMORY_LIMIT", "value": "4GB"}],
    },
    retryStrategy={"attempts": 2, "evaluateOnExit": [{"onStatusReason": "Host EC2*", "action": "RETRY"}, {"onReason": "*", "action": "EXIT"}]},
)
job = batch.submit_job(
    jobName="pulse-retrodiction-custom",
    jobQueue="default",
    jobDefinition="pulse-retrodiction-training-poc",
    containerOverrides={
        "command": ["sh", "-c", "echo training with $DASK_MEMORY_LIMIT; echo variables spx_close us_10y_yield"],
        "environment": [{"name": "DASK_MEMORY_LIMIT", "value": "12GB"}],
    },
)
jid = job["jobId"]
deadline = time.time() + 30
while True:
    d = batch.describe_jobs(jobs=[jid])["jobs"][0]
    if d["status"] in ("SUCCEEDED", "FAILED") or time.time() > deadline:
        break
    time.sleep(0.1)
stream = d["container"]["logStreamName"]
events = logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream, startFromHead=True)["events"]

arr = batch.submit_job(jobName="fanout", jobQueue="default", jobDefinition=jd["jobDefinitionArn"],
                       arrayProperties={"size": 5}, containerOverrides={"command": ["sh", "-c", "echo $AWS_BATCH_JOB_ARRAY_INDEX"]})
deadline = time.time() + 30
while True:
    p = batch.describe_jobs(jobs=[arr["jobId"]])["jobs"][0]
    if p["status"] in ("SUCCEEDED", "FAILED") or time.time() > deadline:
        break
    time.sleep(0.1)
pages = batch.get_paginator("list_jobs").paginate(arrayJobId=arr["jobId"], jobStatus="SUCCEEDED", PaginationConfig={"PageSize": 2})
children = [s["jobId"] for page in pages for s in page["jobSummaryList"]]
try:
    batch.submit_job(jobName="bad", jobQueue="default", jobDefinition="does-not-exist")
    err = None
except batch.exceptions.ClientException as e:
    err = e.response["Error"]
print(json.dumps({
    "status": d["status"], "statusReason": d.get("statusReason"), "exitCode": d["container"].get("exitCode"),
    "messages": [e["message"] for e in events], "stream": stream, "jdRevision": jd["revision"],
    "arrayStatus": p["status"], "summary": p["arrayProperties"]["statusSummary"], "children": sorted(children),
    "error": err,
}))
