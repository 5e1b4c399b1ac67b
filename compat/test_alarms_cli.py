"""`skylens alarms list|history|set-state` against the running collector, with the alarm created by boto3."""
import datetime
import json
import subprocess

import boto3

from conftest import BINARY


def skylens(collector, *args):
    r = subprocess.run([str(BINARY), *args, "--endpoint", collector.endpoint], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_alarm_commands(collector):
    cw = boto3.client("cloudwatch", endpoint_url=collector.endpoint, region_name="us-east-1",
                      aws_access_key_id="skylens", aws_secret_access_key="skylens")
    name = f"cli-{datetime.datetime.now().timestamp()}"
    cw.put_metric_alarm(AlarmName=name, Namespace="Cli", MetricName="Errors", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
    listed = [json.loads(line) for line in skylens(collector, "alarms", "list", "--prefix", name, "--output", "json").splitlines()]
    assert [(a["name"], a["state"]) for a in listed] == [(name, "INSUFFICIENT_DATA")]
    assert listed[0]["rule"] == "Sum >= 1.0 for 1 of 1 × 60s"
    assert skylens(collector, "alarms", "set-state", name, "ALARM", "--reason", "pager test").strip() == f"{name}: ALARM"
    text = skylens(collector, "alarms", "list", "--state", "ALARM")
    assert any(line.startswith("ALARM") and name in line for line in text.splitlines())
    history = skylens(collector, "alarms", "history", name, "--type", "StateUpdate")
    assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in history and "pager test" in history
    bad = subprocess.run([str(BINARY), "alarms", "set-state", name, "RED", "--endpoint", collector.endpoint],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "OK, ALARM or INSUFFICIENT_DATA" in bad.stderr
