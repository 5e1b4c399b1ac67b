"""CloudWatch Logs through boto3, unchanged, against Skylens: every operation, its pagination and its errors."""
import time

import pytest
from botocore.exceptions import ClientError


def now_ms():
    return int(time.time() * 1000)


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def put(logs, group, stream, messages, start=None):
    start = now_ms() - len(messages) if start is None else start
    return logs.put_log_events(logGroupName=group, logStreamName=stream,
                               logEvents=[{"timestamp": start + i, "message": m} for i, m in enumerate(messages)])


def test_group_lifecycle_and_errors(logs, group):
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName=group)
    assert error_code(e) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="has space")
    assert error_code(e) == "InvalidParameterException"
    logs.delete_log_group(logGroupName=group)
    with pytest.raises(ClientError) as e:
        logs.delete_log_group(logGroupName=group)
    assert error_code(e) == "ResourceNotFoundException"


def test_describe_log_groups_paginates(logs):
    prefix = f"/compat/paged-{now_ms()}/"
    names = [f"{prefix}{i:02d}" for i in range(7)]
    for n in names:
        logs.create_log_group(logGroupName=n)
    seen = []
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix,
                                                                   PaginationConfig={"PageSize": 3}):
        assert len(page["logGroups"]) <= 3
        seen += [g["logGroupName"] for g in page["logGroups"]]
    assert seen == names
    g = logs.describe_log_groups(logGroupNamePrefix=names[0])["logGroups"][0]
    assert g["arn"].endswith(":log-group:" + names[0] + ":*")
    assert g["storedBytes"] == 0
    found = logs.describe_log_groups(logGroupNamePattern=prefix.upper()[-8:])["logGroups"]
    assert len(found) == 7
    with pytest.raises(ClientError) as e:
        logs.describe_log_groups(logGroupNamePrefix="/a", logGroupNamePattern="b")
    assert error_code(e) == "InvalidParameterException"


def test_streams_lifecycle_order_and_pagination(logs, group):
    for s in ["b", "a", "c"]:
        logs.create_log_stream(logGroupName=group, logStreamName=s)
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName=group, logStreamName="a")
    assert error_code(e) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName="/compat/missing-group", logStreamName="a")
    assert error_code(e) == "ResourceNotFoundException"
    put(logs, group, "c", ["older"], start=now_ms() - 5000)
    put(logs, group, "a", ["newer"])
    by_time = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)["logStreams"]
    assert [s["logStreamName"] for s in by_time] == ["a", "c", "b"]
    assert by_time[0]["lastEventTimestamp"] >= by_time[1]["lastEventTimestamp"]
    pages = list(logs.get_paginator("describe_log_streams").paginate(logGroupName=group, PaginationConfig={"PageSize": 2}))
    assert [s["logStreamName"] for p in pages for s in p["logStreams"]] == ["a", "b", "c"]
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="b")["logStreams"]] == ["b"]
    with pytest.raises(ClientError) as e:
        logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="a")
    assert error_code(e) == "InvalidParameterException"
    logs.delete_log_stream(logGroupName=group, logStreamName="b")
    with pytest.raises(ClientError) as e:
        logs.delete_log_stream(logGroupName=group, logStreamName="b")
    assert error_code(e) == "ResourceNotFoundException"


def test_put_log_events_limits_and_rejections(logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    r = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now - 14 * 86_400_000 - 3_600_000, "message": "too old"},
        {"timestamp": now - 14 * 86_400_000 + 60_000, "message": "kept"}])
    assert r["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0}
    r = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now, "message": "ok"}, {"timestamp": now + 3 * 3_600_000, "message": "too new"}])
    assert r["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    for events in ([{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}],  # out of order
                   [{"timestamp": now - 25 * 3_600_000, "message": "a"}, {"timestamp": now, "message": "b"}],  # > 24 h
                   [{"timestamp": now, "message": "x" * 262_119}],  # one event over 256 KiB with overhead
                   [{"timestamp": now, "message": "x" * 1000}] * 1100):  # over 1 MiB in total
        with pytest.raises(ClientError) as e:
            logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
        assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName=group, logStreamName="nope", logEvents=[{"timestamp": now, "message": "m"}])
    assert error_code(e) == "ResourceNotFoundException"
    events = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["kept", "ok"]


def test_put_log_events_accepts_ten_thousand_events(logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    start = now_ms() - 20_000
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": start + i, "message": f"e{i}"} for i in range(10_000)])
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName=group, logStreamName="s",
                            logEvents=[{"timestamp": start, "message": "e"}] * 10_001)
    assert error_code(e) == "InvalidParameterException"


def test_get_log_events_tokens(logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    start = now_ms() - 1000
    put(logs, group, "s", [f"event {i}" for i in range(25)], start=start)
    # Forward from the head, 10 at a time, until the token comes back unchanged.
    seen, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {"startFromHead": True}
        r = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10, **kwargs)
        seen += [e["message"] for e in r["events"]]
        if r["nextForwardToken"] == token:
            assert r["events"] == []
            break
        token = r["nextForwardToken"]
    assert seen == [f"event {i}" for i in range(25)]
    # Without startFromHead the newest come first; the backward token pages back in time.
    r = logs.get_log_events(logGroupName=group, logStreamName="s", limit=5)
    assert [e["message"] for e in r["events"]] == [f"event {i}" for i in range(20, 25)]
    back = logs.get_log_events(logGroupName=group, logStreamName="s", limit=5, nextToken=r["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == [f"event {i}" for i in range(15, 20)]
    # The time window is start-inclusive and end-exclusive.
    w = logs.get_log_events(logGroupName=group, logStreamName="s", startTime=start + 3, endTime=start + 6, startFromHead=True)
    assert [e["message"] for e in w["events"]] == ["event 3", "event 4", "event 5"]
    with pytest.raises(ClientError) as e:
        logs.get_log_events(logGroupName=group, logStreamName="s", nextToken="not-a-token")
    assert error_code(e) == "InvalidParameterException"


def test_filter_log_events_patterns_and_pagination(logs, group):
    for s in ["s1", "s2"]:
        logs.create_log_stream(logGroupName=group, logStreamName=s)
    start = now_ms() - 10_000
    put(logs, group, "s1", [("ERROR " if i % 3 == 0 else "INFO ") + f"one {i}" for i in range(30)], start=start)
    put(logs, group, "s2", [("ERROR " if i % 3 == 0 else "INFO ") + f"two {i}" for i in range(30)], start=start)
    pages = list(logs.get_paginator("filter_log_events").paginate(logGroupName=group, filterPattern="ERROR",
                                                                  PaginationConfig={"PageSize": 7}))
    messages = [e["message"] for p in pages for e in p["events"]]
    assert len(pages) >= 3
    assert len(messages) == 20 and len(set(messages)) == 20
    timestamps = [e["timestamp"] for p in pages for e in p["events"]]
    assert timestamps == sorted(timestamps)
    ids = [e["eventId"] for p in pages for e in p["events"]]
    assert all(isinstance(i, str) for i in ids) and len(set(ids)) == 20
    r = logs.filter_log_events(logGroupName=group, logStreamNames=["s2"], filterPattern='"two 1"')
    assert [e["message"] for e in r["events"]] == [("ERROR " if i % 3 == 0 else "INFO ") + f"two {i}"
                                                    for i in [1] + list(range(10, 20))]
    r = logs.filter_log_events(logGroupName=group, filterPattern="?nomatch ?\"one 29\"")
    assert [e["message"] for e in r["events"]] == ["INFO one 29"]
    r = logs.filter_log_events(logGroupName=group, startTime=start + 5, endTime=start + 7, logStreamNamePrefix="s1")
    assert [e["message"] for e in r["events"]] == ["INFO one 5", "ERROR one 6"]
    assert len(logs.filter_log_events(logGroupName=group)["events"]) == 60
    for bad in ["ERR*", "{ $.level = null }", "{ $.a IS NOT NULL }", "[ip, ip]", "%ERR(OR)%", "\"open", "{ $.n > \"x\" }"]:
        with pytest.raises(ClientError) as e:
            logs.filter_log_events(logGroupName=group, filterPattern=bad)
        assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName="/compat/none", filterPattern="x")
    assert error_code(e) == "ResourceNotFoundException"


def test_retention_and_tags(logs, group):
    logs.put_retention_policy(logGroupName=group, retentionInDays=30)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] == 30
    with pytest.raises(ClientError) as e:
        logs.put_retention_policy(logGroupName=group, retentionInDays=2)
    assert error_code(e) == "InvalidParameterException"
    logs.delete_retention_policy(logGroupName=group)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"team": "payments", "env": "dev"})
    logs.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "payments"}
    with pytest.raises(ClientError) as e:
        logs.list_tags_for_resource(resourceArn=arn + "-missing")
    assert error_code(e) == "ResourceNotFoundException"


def test_group_identifier_arn_is_accepted(logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    put(logs, group, "s", ["by arn"])
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["arn"]
    assert [e["message"] for e in logs.filter_log_events(logGroupIdentifier=arn)["events"]] == ["by arn"]
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupIdentifier=arn)["logStreams"]] == ["s"]


def test_stored_bytes_grow_with_data(logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    put(logs, group, "s", ["x" * 200] * 500)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"] > 0
