"""CloudWatch metrics through boto3, unchanged, in smithy-rpc-v2-cbor (botocore's default), AWS JSON 1.0 and the query protocol (form-encoded requests, XML responses).
The protocol is chosen by giving botocore a copy of its own service model with only that protocol listed."""
import copy
import datetime
import json
import os

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError

PROTOCOLS = ["smithy-rpc-v2-cbor", "json", "query"]


def cloudwatch_client(endpoint, protocol, models):
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    model = loader.load_service_model("cloudwatch", "service-2")
    model = copy.deepcopy(model)
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    api_version = model["metadata"]["apiVersion"]
    root = models
    os.makedirs(os.path.join(root, "cloudwatch", api_version))
    with open(os.path.join(root, "cloudwatch", api_version, "service-2.json"), "w") as f:
        json.dump(model, f)
    loader.search_paths.insert(0, root)
    return boto3.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="skylens", aws_secret_access_key="skylens")


@pytest.fixture(params=PROTOCOLS)
def cw(request, collector, tmp_path):
    # The client's service model, rewritten for the protocol, lives in pytest's own temporary directory.
    return cloudwatch_client(collector.endpoint, request.param, str(tmp_path))


def minute():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.replace(second=0, microsecond=0)


def test_put_then_get_statistics(cw):
    ns = f"Compat/{datetime.datetime.now().timestamp()}"
    t = minute()
    dims = [{"Name": "FunctionName", "Value": "orders"}]
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t, "Values": [10, 20, 30], "Counts": [1, 1, 2],
         "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t + datetime.timedelta(minutes=1),
         "StatisticValues": {"SampleCount": 4, "Sum": 8, "Minimum": 1, "Maximum": 3}, "Unit": "Milliseconds"},
    ])
    r = cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Dimensions=dims,
                                 StartTime=t - datetime.timedelta(minutes=1), EndTime=t + datetime.timedelta(minutes=2),
                                 Period=60, Statistics=["Sum", "SampleCount", "Average", "Minimum", "Maximum"])
    points = sorted(r["Datapoints"], key=lambda p: p["Timestamp"])
    assert [p["Sum"] for p in points] == [90, 8]
    assert [p["SampleCount"] for p in points] == [4, 4]
    assert points[0]["Average"] == 22.5 and points[0]["Minimum"] == 10 and points[0]["Maximum"] == 30
    assert all(p["Unit"] == "Milliseconds" for p in points)
    assert points[0]["Timestamp"] == t
    p = cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=t,
                                 EndTime=t + datetime.timedelta(minutes=1), Period=60, ExtendedStatistics=["p50", "p99"])
    ext = p["Datapoints"][0]["ExtendedStatistics"]
    assert abs(ext["p50"] - 20) <= 0.2 and abs(ext["p99"] - 30) <= 0.3
    # Dimension sets match exactly: no dimensions is another series.
    assert cw.get_metric_statistics(Namespace=ns, MetricName="Latency", StartTime=t, EndTime=t + datetime.timedelta(minutes=1),
                                    Period=60, Statistics=["Sum"])["Datapoints"] == []


def test_list_metrics_filters(cw):
    ns = f"Compat/{datetime.datetime.now().timestamp()}"
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "A", "Dimensions": [{"Name": "k", "Value": "1"}], "Value": 1},
        {"MetricName": "A", "Dimensions": [{"Name": "k", "Value": "2"}], "Value": 1},
        {"MetricName": "B", "Value": 1},
    ])
    assert len(cw.list_metrics(Namespace=ns)["Metrics"]) == 3
    assert [m["Dimensions"] for m in cw.list_metrics(Namespace=ns, MetricName="A", Dimensions=[{"Name": "k", "Value": "2"}])["Metrics"]] \
        == [[{"Name": "k", "Value": "2"}]]
    assert len(cw.list_metrics(Namespace=ns, RecentlyActive="PT3H")["Metrics"]) == 3
    pages = list(cw.get_paginator("list_metrics").paginate(Namespace=ns))
    assert sum(len(p["Metrics"]) for p in pages) == 3


def test_large_put_is_gzipped_and_accepted(cw):
    ns = f"Compat/{datetime.datetime.now().timestamp()}"
    t = minute()
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Big", "Timestamp": t, "Value": float(i)} for i in range(1000)])
    r = cw.get_metric_statistics(Namespace=ns, MetricName="Big", StartTime=t, EndTime=t + datetime.timedelta(minutes=1),
                                 Period=60, Statistics=["Sum", "SampleCount"])
    assert r["Datapoints"][0]["Sum"] == 499500 and r["Datapoints"][0]["SampleCount"] == 1000


@pytest.mark.parametrize("kwargs,code", [
    ({"Namespace": "AWS/Lambda", "MetricData": [{"MetricName": "x", "Value": 1}]}, "InvalidParameterValue"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "x", "Value": 1, "StatisticValues":
        {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}]}, "InvalidParameterCombination"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "x", "Values": [1, 2], "Counts": [1]}]}, "InvalidParameterValue"),
])
def test_put_metric_data_errors(cw, kwargs, code):
    with pytest.raises(ClientError) as e:
        cw.put_metric_data(**kwargs)
    assert e.value.response["Error"]["Code"] == code


def test_get_metric_statistics_errors(cw):
    t = minute()
    for kwargs, code in [
        ({"Period": 90, "Statistics": ["Sum"]}, "InvalidParameterValue"),
        ({"Period": 60}, "InvalidParameterCombination"),
        ({"Period": 1, "Statistics": ["Sum"], "EndTime": t + datetime.timedelta(hours=2)}, "InvalidParameterCombination"),
    ]:
        args = {"Namespace": "A", "MetricName": "x", "StartTime": t, "EndTime": t + datetime.timedelta(minutes=1)}
        args.update(kwargs)
        with pytest.raises(ClientError) as e:
            cw.get_metric_statistics(**args)
        assert e.value.response["Error"]["Code"] == code


def test_metric_filter_closes_the_loop(logs, cw):
    """A log line, through a metric filter created with boto3, becomes a datapoint read back with boto3."""
    group = f"/compat/loop-{datetime.datetime.now().timestamp()}"
    ns = f"Loop/{datetime.datetime.now().timestamp()}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_metric_filter(logGroupName=group, filterName="latency", filterPattern="{ $.latency = * }",
                           metricTransformations=[{"metricName": "Latency", "metricNamespace": ns, "metricValue": "$.latency",
                                                   "unit": "Milliseconds", "dimensions": {"route": "$.route"}}])
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]] == ["latency"]
    t = minute()
    base = int(t.timestamp() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": base + i, "message": json.dumps({"latency": v, "route": "/orders"})} for i, v in enumerate([10, 30, 20])])
    r = cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Dimensions=[{"Name": "route", "Value": "/orders"}],
                                 StartTime=t, EndTime=t + datetime.timedelta(minutes=1), Period=60,
                                 Statistics=["Sum", "SampleCount", "Maximum"])
    assert [(p["Sum"], p["SampleCount"], p["Maximum"], p["Unit"]) for p in r["Datapoints"]] == [(60, 3, 30, "Milliseconds")]
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(logGroupName=group, filterName="bad", filterPattern="ERROR",
                               metricTransformations=[{"metricName": "M", "metricNamespace": ns, "metricValue": "1",
                                                       "dimensions": {"a": "$a"}}])
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    logs.delete_metric_filter(logGroupName=group, filterName="latency")
    assert logs.describe_metric_filters(logGroupName=group)["metricFilters"] == []


def test_get_metric_data_with_metric_math(cw):
    ns = f"Compat/{datetime.datetime.now().timestamp()}"
    t = minute() - datetime.timedelta(minutes=5)
    data = []
    for k in range(5):
        ts = t + datetime.timedelta(minutes=k)
        data.append({"MetricName": "Requests", "Dimensions": [{"Name": "fn", "Value": "a"}], "Timestamp": ts, "Value": 10.0 * (k + 1)})
        data.append({"MetricName": "Requests", "Dimensions": [{"Name": "fn", "Value": "b"}], "Timestamp": ts, "Value": 1.0})
        if k != 2:
            data.append({"MetricName": "Errors", "Dimensions": [{"Name": "fn", "Value": "a"}], "Timestamp": ts, "Value": 1.0})
    cw.put_metric_data(Namespace=ns, MetricData=data)
    def stat(id, name, fn, ret=False):
        return {"Id": id, "ReturnData": ret, "MetricStat": {"Metric": {"Namespace": ns, "MetricName": name,
                "Dimensions": [{"Name": "fn", "Value": fn}]}, "Period": 60, "Stat": "Sum"}}
    r = cw.get_metric_data(
        MetricDataQueries=[
            stat("ra", "Requests", "a"), stat("rb", "Requests", "b"), stat("ea", "Errors", "a", ret=True),
            {"Id": "rate", "Expression": "100 * FILL(ea, 0) / ra", "Label": "error rate"},
            {"Id": "total", "Expression": "SUM(METRICS())"},
            {"Id": "busy", "Expression": "IF(ra > 25, ra, 0)"},
        ],
        StartTime=t, EndTime=t + datetime.timedelta(minutes=5), ScanBy="TimestampAscending")
    results = {x["Id"]: x for x in r["MetricDataResults"]}
    assert set(results) == {"ea", "rate", "total", "busy"}
    assert results["ea"]["Values"] == [1, 1, 1, 1]
    assert results["rate"]["Label"] == "error rate"
    assert [round(v, 6) for v in results["rate"]["Values"]] == [10.0, 5.0, 0.0, 2.5, 2.0]
    assert results["total"]["Values"] == [12, 22, 31, 42, 52]
    assert results["busy"]["Values"] == [0, 0, 30, 40, 50]
    assert [ts.replace(tzinfo=None) for ts in results["rate"]["Timestamps"]] == \
        [(t + datetime.timedelta(minutes=k)).replace(tzinfo=None) for k in range(5)]
    with pytest.raises(ClientError) as e:
        cw.get_metric_data(MetricDataQueries=[{"Id": "x", "Expression": "y * 2"}], StartTime=t,
                           EndTime=t + datetime.timedelta(minutes=5))
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_get_metric_data_pages_with_next_token(cw):
    """MaxDatapoints splits the answer into pages; boto3's paginator follows NextToken and loses nothing."""
    ns = f"Compat/{datetime.datetime.now().timestamp()}"
    t = minute() - datetime.timedelta(minutes=10)
    data = [{"MetricName": "N", "Dimensions": [{"Name": "k", "Value": k}], "Timestamp": t + datetime.timedelta(minutes=m),
             "Value": float(m)} for k in ("a", "b", "c") for m in range(7)]
    cw.put_metric_data(Namespace=ns, MetricData=data)
    queries = [{"Id": f"m{k}", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "N",
                "Dimensions": [{"Name": "k", "Value": k}]}, "Period": 60, "Stat": "Sum"}} for k in ("a", "b", "c")]
    pages = list(cw.get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries, StartTime=t, EndTime=t + datetime.timedelta(minutes=10), MaxDatapoints=5,
        ScanBy="TimestampAscending"))
    assert len(pages) == 5
    assert all(sum(len(x["Values"]) for x in p["MetricDataResults"]) <= 5 for p in pages)
    got = {}
    for p in pages:
        for x in p["MetricDataResults"]:
            got.setdefault(x["Id"], []).extend(x["Values"])
    assert got == {f"m{k}": [float(m) for m in range(7)] for k in ("a", "b", "c")}
    assert pages[0]["MetricDataResults"][-1]["StatusCode"] == "PartialData"
    assert "NextToken" not in pages[-1] and pages[-1]["MetricDataResults"][-1]["StatusCode"] == "Complete"
    with pytest.raises(ClientError) as e:
        cw.get_metric_data(MetricDataQueries=queries, StartTime=t, EndTime=t + datetime.timedelta(minutes=10), NextToken="bogus")
    assert e.value.response["Error"]["Code"] == "InvalidNextToken"


def test_query_protocol_answers_in_xml(collector):
    """A raw form-encoded request (what botocore's query serializer sends) gets an XML document, errors included."""
    import urllib.error
    import urllib.request

    def post(form):
        request = urllib.request.Request(collector.endpoint + "/", data=form.encode(),
                                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, r.headers["Content-Type"], r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers["Content-Type"], e.read().decode()

    status, kind, body = post("Action=PutMetricData&Version=2010-08-01&Namespace=Raw%2FQuery"
                              "&MetricData.member.1.MetricName=A&MetricData.member.1.Value=1.5")
    assert (status, kind) == (200, "text/xml")
    assert body.startswith('<PutMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">')
    status, kind, body = post("Action=PutMetricData&Version=2010-08-01&Namespace=Raw&MetricData.member.1.MetricName=A"
                              "&MetricData.member.1.Value=x")
    assert status == 400 and "<Code>InvalidParameterValue</Code>" in body and "<Type>Sender</Type>" in body


def test_alarms_put_describe_set_state_history_delete(cw):
    """The alarm API through boto3: a new alarm starts in INSUFFICIENT_DATA, SetAlarmState moves it, the history
    shows it, bad configurations are rejected with CloudWatch's codes."""
    name = f"compat-{datetime.datetime.now().timestamp()}"
    ns = "Compat/Alarms"
    cw.put_metric_alarm(AlarmName=name, Namespace=ns, MetricName="Errors", Dimensions=[{"Name": "Fn", "Value": "a"}],
                        Statistic="Sum", Period=60, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=5,
                        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
                        AlarmActions=["arn:aws:sns:us-east-1:000000000000:ops"], AlarmDescription="errors high")
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm["StateValue"] in ("INSUFFICIENT_DATA", "OK")
    assert alarm["Threshold"] == 5 and alarm["DatapointsToAlarm"] == 2 and alarm["Statistic"] == "Sum"
    assert alarm["Dimensions"] == [{"Name": "Fn", "Value": "a"}]
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:000000000000:ops"]
    assert alarm["AlarmArn"].endswith(f":alarm:{name}")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing")
    alarm = cw.describe_alarms(AlarmNamePrefix=name, StateValue="ALARM")["MetricAlarms"][0]
    assert alarm["StateReason"] == "testing"
    found = cw.describe_alarms_for_metric(Namespace=ns, MetricName="Errors", Dimensions=[{"Name": "Fn", "Value": "a"}])
    assert name in [a["AlarmName"] for a in found["MetricAlarms"]]
    items = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert items and items[0]["HistorySummary"].endswith("to ALARM")
    assert json.loads(items[0]["HistoryData"])["newState"]["stateValue"] == "ALARM"
    cw.disable_alarm_actions(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["ActionsEnabled"] is False
    for bad in [dict(Period=45), dict(Period=60, EvaluationPeriods=1441)]:
        with pytest.raises(ClientError) as e:
            args = dict(AlarmName=name + "-bad", Namespace=ns, MetricName="Errors", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
            args.update(bad)
            cw.put_metric_alarm(**args)
        assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    cw.delete_alarms(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
