"""X-Ray with the real aws-xray-sdk: two services (frontend calls backend over HTTP with the propagated header; the
backend streams its subsegments one by one and faults), sampling rules polled from the daemon port, plus boto3's
PutTraceSegments; then BatchGetTraces, GetTraceSummaries filter expressions and GetServiceGraph read the result."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
import pytest

from conftest import ROOT, Collector

SERVICE = ROOT / "compat" / "xray" / "service.py"

SAMPLING_RULES = """\
Resources:
  SampleEverything:
    Type: AWS::XRay::SamplingRule
    Properties:
      SamplingRule:
        RuleName: compat-all
        Priority: 1
        FixedRate: 1.0
        ReservoirSize: 10
        ServiceName: "*"
        ServiceType: "*"
        Host: "*"
        HTTPMethod: "*"
        URLPath: "*"
        ResourceARN: "*"
        Version: 1
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(what, check, timeout=30):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())
    except OSError:
        return None


@pytest.fixture(scope="module")
def xray_collector():
    rules = tempfile.mkdtemp(prefix="skylens-xray-rules-")
    with open(os.path.join(rules, "sampling.yaml"), "w") as f:
        f.write(SAMPLING_RULES)
    c = Collector(rules_dir=rules)
    yield c
    c.stop()
    shutil.rmtree(rules, ignore_errors=True)


@pytest.fixture(scope="module")
def services(xray_collector):
    daemon = f"127.0.0.1:{xray_collector.xray_port}"
    backend_port, frontend_port = free_port(), free_port()
    env = dict(os.environ, AWS_XRAY_DAEMON_ADDRESS=daemon)
    env.pop("AWS_ENDPOINT_URL", None)
    procs = [
        subprocess.Popen([sys.executable, str(SERVICE), "--name", "backend", "--port", str(backend_port), "--daemon", daemon,
                          "--fail", "--subsegments", "3"], env=env),
        subprocess.Popen([sys.executable, str(SERVICE), "--name", "frontend", "--port", str(frontend_port), "--daemon", daemon,
                          "--downstream", f"http://127.0.0.1:{backend_port}/work"], env=env),
    ]
    try:
        for port in (backend_port, frontend_port):
            eventually(f"service on {port}", lambda: get_json(f"http://127.0.0.1:{port}/ready"))
        yield f"http://127.0.0.1:{frontend_port}"
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)


@pytest.fixture(scope="module")
def xray(xray_collector):
    return boto3.client("xray", endpoint_url=xray_collector.endpoint, region_name="us-east-1",
                        aws_access_key_id="skylens", aws_secret_access_key="skylens")


@pytest.fixture(scope="module")
def trace_id(services, xray):
    # The SDK's centralized sampler starts polling the daemon port at its first sampling decision; once it has the
    # rules, the frontend samples with them.
    get_json(services + "/work")
    rules = eventually("the SDK polls the sampling rules", lambda: (get_json(services + "/rules") or {}).get("rules"))
    assert "compat-all" in rules and "Default" in rules
    answer = get_json(services + "/work")
    assert answer["sampled"] is True
    tid = answer["trace_id"]

    def complete():
        traces = xray.batch_get_traces(TraceIds=[tid])["Traces"]
        if not traces:
            return None
        docs = [json.loads(s["Document"]) for s in traces[0]["Segments"]]
        names = {d["name"] for d in docs}
        streamed = [d for d in docs if d.get("type") == "subsegment"]
        return docs if {"frontend", "backend"} <= names and len(streamed) >= 3 else None

    eventually("both services' segments and the streamed subsegments", complete)
    return tid


def test_batch_get_traces_returns_one_stitched_trace(trace_id, xray):
    result = xray.batch_get_traces(TraceIds=[trace_id])
    assert result["UnprocessedTraceIds"] == []
    [trace] = result["Traces"]
    docs = {d["id"]: d for d in (json.loads(s["Document"]) for s in trace["Segments"])}
    frontend = next(d for d in docs.values() if d["name"] == "frontend")
    backend = next(d for d in docs.values() if d["name"] == "backend")
    # The downstream segment's parent is the frontend's remote subsegment for the HTTP call.
    call = next(s for s in frontend.get("subsegments", []) if s["id"] == backend["parent_id"])
    assert call["namespace"] == "remote"
    # The backend's subsegments arrived as independent documents under the backend segment.
    streamed = [d for d in docs.values() if d.get("type") == "subsegment"]
    assert {d["parent_id"] for d in streamed} == {backend["id"]}
    assert trace["Duration"] > 0


def summaries(xray, expression):
    now = time.time()
    pages = xray.get_paginator("get_trace_summaries").paginate(
        StartTime=now - 300, EndTime=now + 60, FilterExpression=expression)
    return [s for page in pages for s in page["TraceSummaries"]]


def test_trace_summaries_answer_filter_expressions(trace_id, xray):
    [summary] = [s for s in summaries(xray, 'annotation.customer = "c42"') if s["Id"] == trace_id]
    assert summary["HasFault"] is False  # the frontend handled the backend's fault
    assert summary["Http"]["HttpStatus"] == 200
    assert {s["Name"] for s in summary["ServiceIds"]} >= {"frontend", "backend"}
    assert summary["Users"][0]["UserName"] == "alice"
    assert [s["Name"] for s in summary["FaultRootCauses"][0]["Services"]][-1] == "backend"
    for expression, found in [
        ('service("backend") { fault }', True),
        ('edge("frontend", "backend") { fault }', True),
        ('service("frontend") { fault }', False),
        ("fault", False),
        ('rootcause.fault.service { name = "backend" AND last }', True),
        ('annotation.customer = "other"', False),
        ('http.url CONTAINS "/work" AND responsetime < 30', True),
    ]:
        ids = {s["Id"] for s in summaries(xray, expression)}
        assert (trace_id in ids) is found, expression
    with pytest.raises(xray.exceptions.InvalidRequestException):
        xray.get_trace_summaries(StartTime=time.time() - 60, EndTime=time.time(), FilterExpression="responsetime >")


def test_service_graph_shows_the_edge_with_its_faults(trace_id, xray):
    now = time.time()
    graph = xray.get_service_graph(StartTime=now - 600, EndTime=now + 60)
    services = {s["ReferenceId"]: s for s in graph["Services"]}
    frontend = next(s for s in services.values() if s["Name"] == "frontend")
    assert frontend["Root"] is True
    edge = next(e for e in frontend["Edges"] if services[e["ReferenceId"]]["Name"] == "backend")
    assert edge["SummaryStatistics"]["FaultStatistics"]["TotalCount"] >= 1
    assert edge["ResponseTimeHistogram"]


def test_put_trace_segments_with_boto3(xray_collector, xray):
    now = time.time()
    tid = "1-%08x-%s" % (int(now), os.urandom(12).hex())
    segment = {"trace_id": tid, "id": os.urandom(8).hex(), "name": "batch-job", "start_time": now - 1, "end_time": now,
               "annotations": {"job": "nightly"}}
    result = xray.put_trace_segments(TraceSegmentDocuments=[json.dumps(segment), json.dumps({"id": "nope"})])
    [unprocessed] = result["UnprocessedTraceSegments"]
    assert unprocessed["Id"] == "nope" and unprocessed["ErrorCode"]
    found = eventually("the boto3 segment", lambda: xray.batch_get_traces(TraceIds=[tid])["Traces"])
    assert json.loads(found[0]["Segments"][0]["Document"])["name"] == "batch-job"
    assert [s["Id"] for s in summaries(xray, 'annotation.job = "nightly"')] == [tid]


def skylens(collector, *args):
    result = subprocess.run([str(ROOT / ".build" / "debug" / "skylens"), *args, "--endpoint", collector.endpoint],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_cli_finds_shows_and_maps_traces(xray_collector, trace_id):
    found = skylens(xray_collector, "traces", "find", "--filter", 'service("backend") { fault }', "--since", "10m")
    assert trace_id in found
    # A Lambda-style REPORT line naming the trace links the log lines of that invocation to it.
    logs = boto3.client("logs", endpoint_url=xray_collector.endpoint, region_name="us-east-1",
                        aws_access_key_id="skylens", aws_secret_access_key="skylens")
    logs.create_log_group(logGroupName="/aws/lambda/backend")
    logs.create_log_stream(logGroupName="/aws/lambda/backend", logStreamName="2026/11/27/[$LATEST]abc")
    now = int(time.time() * 1000)
    lines = ["START RequestId: req-1 Version: $LATEST", "loading order req-1", "END RequestId: req-1",
             f"REPORT RequestId: req-1\tDuration: 2.00 ms\t\nXRAY TraceId: {trace_id}\tSegmentId: 0f910026178b71ec\tSampled: true"]
    logs.put_log_events(logGroupName="/aws/lambda/backend", logStreamName="2026/11/27/[$LATEST]abc",
                        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(lines)])
    shown = skylens(xray_collector, "traces", "show", trace_id)
    assert "frontend" in shown and "backend" in shown and "query-0" in shown and "fault" in shown
    assert "loading order req-1" in shown and "XRAY TraceId" in shown
    drawn = skylens(xray_collector, "traces", "map", "--since", "10m")
    assert "frontend" in drawn and "└─▶ backend" in drawn and "faults" in drawn
