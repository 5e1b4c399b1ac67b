"""The filter-pattern conformance cases through the real API: boto3's test_metric_filter and filter_log_events
must agree with every case of Tests/SkylensCoreTests/Conformance/filter-patterns.json (and the test-metric-filter
cases of metric-filters.json)."""
import json
import pathlib
import time

import pytest
from botocore.exceptions import ClientError, ParamValidationError

CONFORMANCE = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "SkylensCoreTests" / "Conformance"
PATTERN_CASES = json.loads((CONFORMANCE / "filter-patterns.json").read_text())
METRIC_CASES = [c for c in json.loads((CONFORMANCE / "metric-filters.json").read_text()) if c["kind"] == "test-metric-filter"]


@pytest.mark.parametrize("case", PATTERN_CASES, ids=[c["id"] for c in PATTERN_CASES])
def test_filter_pattern_case(logs, case):
    # Events the API can carry: PutLogEvents and TestMetricFilter take non-empty messages.
    indexed = [(i, m) for i, m in enumerate(case["events"]) if m]
    if case.get("expect_error"):
        with pytest.raises(ClientError) as e:
            logs.test_metric_filter(filterPattern=case["pattern"], logEventMessages=["x"])
        assert e.value.response["Error"]["Code"] == "InvalidParameterException"
        return
    expected = [i for i in case["expect_match"] if case["events"][i]]

    tested = logs.test_metric_filter(filterPattern=case["pattern"], logEventMessages=[m for _, m in indexed])
    assert [indexed[m["eventNumber"] - 1][0] for m in tested["matches"]] == expected
    for want in case.get("expect_extracted") or []:
        got = next(m for m in tested["matches"] if indexed[m["eventNumber"] - 1][0] == want["event"])
        assert got["extractedValues"] == want["values"]

    group = f"/compat/pattern-{case['id']}-{time.time_ns()}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    base = int(time.time() * 1000) - 60_000
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": base + i, "message": m} for i, m in indexed])
    found = logs.filter_log_events(logGroupName=group, filterPattern=case["pattern"])["events"]
    assert sorted(e["timestamp"] - base for e in found) == expected
    logs.delete_log_group(logGroupName=group)


@pytest.mark.parametrize("case", METRIC_CASES, ids=[c["id"] for c in METRIC_CASES])
def test_test_metric_filter_case(logs, case):
    request = case["request"]
    if case.get("expect_error"):
        # botocore may refuse the request itself (an empty list breaks its length rule); else the service must.
        with pytest.raises((ClientError, ParamValidationError)) as e:
            logs.test_metric_filter(**request)
        if isinstance(e.value, ClientError):
            assert e.value.response["Error"]["Code"] in case["expect_error"]["code_any_of"]
        return
    got = logs.test_metric_filter(**request)["matches"]
    assert got == case["expect_response"]["matches"]
