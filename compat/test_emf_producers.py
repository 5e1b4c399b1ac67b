"""EMF documents made by the real producers, aws-embedded-metrics and Powertools Metrics, shipped as log events,
become the datapoints they describe."""
import asyncio
import contextlib
import datetime
import io
import json
import os
import time

import pytest


def put_and_read(logs, cw, messages, namespace, metric, dimensions, statistics=("Sum", "SampleCount")):
    group = f"/compat/emf-{time.time_ns()}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)])
    t = datetime.datetime.fromtimestamp(now / 1000, datetime.timezone.utc)
    r = cw.get_metric_statistics(Namespace=namespace, MetricName=metric, Dimensions=dimensions,
                                 StartTime=t - datetime.timedelta(minutes=2), EndTime=t + datetime.timedelta(minutes=2),
                                 Period=300, Statistics=list(statistics))
    return r["Datapoints"]


@pytest.fixture()
def cw(collector):
    import boto3
    return boto3.client("cloudwatch", endpoint_url=collector.endpoint, region_name="us-east-1",
                        aws_access_key_id="skylens", aws_secret_access_key="skylens")


def test_aws_embedded_metrics_document(logs, cw, monkeypatch):
    monkeypatch.setenv("AWS_EMF_ENVIRONMENT", "Local")
    monkeypatch.setenv("AWS_EMF_NAMESPACE", "EmfCompat")
    from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger

    async def emit():
        metrics = create_metrics_logger()
        metrics.set_dimensions({"Service": "orders"})
        metrics.put_metric("Latency", 120, "Milliseconds")
        metrics.put_metric("Latency", 80, "Milliseconds")
        metrics.set_property("RequestId", "abc")
        await metrics.flush()

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        asyncio.run(emit())
    documents = [line for line in out.getvalue().splitlines() if line.startswith("{")]
    assert documents and "_aws" in json.loads(documents[0])
    points = put_and_read(logs, cw, documents, "EmfCompat", "Latency", [{"Name": "Service", "Value": "orders"}])
    assert [(p["Sum"], p["SampleCount"], p["Unit"]) for p in points] == [(200, 2, "Milliseconds")]


def test_powertools_metrics_flush(logs, cw, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "PowertoolsCompat")
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = Metrics(service="payments")
    metrics.add_metric(name="Orders", unit=MetricUnit.Count, value=2)
    metrics.add_metric(name="Orders", unit=MetricUnit.Count, value=3)
    document = json.dumps(metrics.serialize_metric_set())
    points = put_and_read(logs, cw, [document], "PowertoolsCompat", "Orders", [{"Name": "service", "Value": "payments"}])
    assert [(p["Sum"], p["SampleCount"], p["Unit"]) for p in points] == [(5, 2, "Count")]
