"""The aws CLI, unchanged, against Skylens through AWS_ENDPOINT_URL."""
import json
import subprocess
import time


def aws(collector, *args, check=True):
    r = subprocess.run(["aws", "logs", *args, "--output", "json"], env=collector.env(), capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError(r.stderr)
    return r


def test_cli_round_trip(collector):
    group = f"/compat/cli-{int(time.time() * 1000)}"
    aws(collector, "create-log-group", "--log-group-name", group)
    aws(collector, "create-log-stream", "--log-group-name", group, "--log-stream-name", "s")
    now = int(time.time() * 1000)
    events = json.dumps([{"timestamp": now + i, "message": f"{'ERROR' if i % 2 else 'INFO'} cli {i}"} for i in range(6)])
    aws(collector, "put-log-events", "--log-group-name", group, "--log-stream-name", "s", "--log-events", events)
    got = json.loads(aws(collector, "get-log-events", "--log-group-name", group, "--log-stream-name", "s",
                         "--start-from-head").stdout)
    assert [e["message"] for e in got["events"]] == [f"{'ERROR' if i % 2 else 'INFO'} cli {i}" for i in range(6)]
    filtered = json.loads(aws(collector, "filter-log-events", "--log-group-name", group, "--filter-pattern", "ERROR").stdout)
    assert [e["message"] for e in filtered["events"]] == ["ERROR cli 1", "ERROR cli 3", "ERROR cli 5"]
    # The CLI's own pagination (--page-size) walks nextToken to the end.
    paged = json.loads(aws(collector, "filter-log-events", "--log-group-name", group, "--page-size", "2").stdout)
    assert len(paged["events"]) == 6
    groups = json.loads(aws(collector, "describe-log-groups", "--log-group-name-prefix", group).stdout)
    assert [g["logGroupName"] for g in groups["logGroups"]] == [group]


def test_cli_reports_aws_errors(collector):
    r = aws(collector, "describe-log-streams", "--log-group-name", "/compat/cli-missing", check=False)
    assert r.returncode != 0
    assert "ResourceNotFoundException" in r.stderr
    r = aws(collector, "filter-log-events", "--log-group-name", "/compat/cli-missing", "--filter-pattern", "ERR*", check=False)
    assert "InvalidParameterException" in r.stderr or "ResourceNotFoundException" in r.stderr
