"""SNS topics and alarm notifications through boto3 and a loopback HTTP receiver: Subscribe sends a
SubscriptionConfirmation first, visiting its SubscribeURL confirms, Publish and alarm state changes arrive as
Notification messages whose SHA256withRSA signature verifies against the certificate served at SigningCertURL."""
import base64
import datetime
import http.server
import json
import queue
import threading
import time
import urllib.request

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records every POST (headers and body)."""

    def __init__(self):
        self.messages = queue.Queue()
        self.status = 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                outer.messages.put((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def next(self, timeout=20):
        return self.messages.get(timeout=timeout)

    def stop(self):
        self.server.shutdown()


def string_to_sign(m):
    keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] if m["Type"] == "Notification" else \
        ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{k}\n{m[k]}\n" for k in sorted(keys) if k in m)


def verify(m):
    assert m["SignatureVersion"] == "2"
    pem = urllib.request.urlopen(m["SigningCertURL"], timeout=10).read()
    certificate = x509.load_pem_x509_certificate(pem)
    certificate.public_key().verify(base64.b64decode(m["Signature"]), string_to_sign(m).encode(),
                                    padding.PKCS1v15(), hashes.SHA256())


def test_subscribe_confirm_publish_and_alarm_transitions(collector):
    sns = boto3.client("sns", endpoint_url=collector.endpoint, region_name="us-east-1",
                       aws_access_key_id="skylens", aws_secret_access_key="skylens")
    cw = boto3.client("cloudwatch", endpoint_url=collector.endpoint, region_name="us-east-1",
                      aws_access_key_id="skylens", aws_secret_access_key="skylens")
    receiver = Receiver()
    try:
        topic = sns.create_topic(Name=f"ops-{int(time.time() * 1000)}")["TopicArn"]
        assert sns.create_topic(Name=topic.split(":")[-1])["TopicArn"] == topic
        assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=receiver.url)["SubscriptionArn"] == "pending confirmation"

        headers, body = receiver.next()
        assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
        assert headers["Content-Type"] == "text/plain; charset=UTF-8"
        confirmation = json.loads(body)
        verify(confirmation)
        assert confirmation["TopicArn"] == topic and confirmation["Token"]
        assert b"<ConfirmSubscriptionResult>" in urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10).read()
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert len(subs) == 1 and subs[0]["SubscriptionArn"].startswith(topic + ":")

        sns.publish(TopicArn=topic, Message="hello", Subject="greeting")
        headers, body = receiver.next()
        message = json.loads(body)
        assert headers["x-amz-sns-message-type"] == "Notification"
        assert headers["x-amz-sns-subscription-arn"] == subs[0]["SubscriptionArn"]
        assert (message["Message"], message["Subject"], message["Type"]) == ("hello", "greeting", "Notification")
        verify(message)

        # An alarm with a 10-second period: INSUFFICIENT_DATA -> ALARM -> OK from PutMetricData, each change once.
        name = f"errors-{int(time.time() * 1000)}"
        ns = "Compat/SNS"
        cw.put_metric_alarm(AlarmName=name, Namespace=ns, MetricName="Errors", Statistic="Maximum", Period=10,
                            EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold",
                            AlarmActions=[topic], OKActions=[topic], TreatMissingData="ignore")
        seen = []
        for value, state in [(9, "ALARM"), (1, "OK")]:
            deadline = time.time() + 40
            while time.time() < deadline:
                now = datetime.datetime.now(datetime.timezone.utc)
                cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Errors", "Value": value, "Timestamp": now,
                                                              "StorageResolution": 1}])
                try:
                    headers, body = receiver.next(timeout=3)
                except queue.Empty:
                    continue
                message = json.loads(body)
                verify(message)
                alarm = json.loads(message["Message"])
                seen.append(alarm["NewStateValue"])
                assert message["Subject"] == f'{state}: "{name}" in US East (N. Virginia)'
                assert alarm["AlarmName"] == name and alarm["Trigger"]["Statistic"] == "MAXIMUM"
                assert alarm["Trigger"]["Dimensions"] == [] and alarm["Region"] == "US East (N. Virginia)"
                break
        assert seen == ["ALARM", "OK"]
        history = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate",
                                            ScanBy="TimestampAscending")["AlarmHistoryItems"]
        assert [h["HistorySummary"] for h in history] == ["Alarm updated from INSUFFICIENT_DATA to ALARM",
                                                          "Alarm updated from ALARM to OK"]
        actions = cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]
        assert len(actions) == 2 and all(a["HistorySummary"].startswith("Successfully executed action") for a in actions)
        assert receiver.messages.empty()
    finally:
        receiver.stop()


def test_dead_letters_listed_and_replayed_with_the_cli(collector):
    """A receiver that refuses a notification for good (HTTP 400) sends it to the dead-letter queue; `skylens dlq
    list` shows it and `skylens dlq replay` delivers it once the receiver accepts again."""
    import subprocess
    from conftest import BINARY

    sns = boto3.client("sns", endpoint_url=collector.endpoint, region_name="us-east-1",
                       aws_access_key_id="skylens", aws_secret_access_key="skylens")
    receiver = Receiver()
    try:
        topic = sns.create_topic(Name=f"dlq-{int(time.time() * 1000)}")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=receiver.url)
        confirmation = json.loads(receiver.next()[1])
        sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
        receiver.status = 400
        message_id = sns.publish(TopicArn=topic, Message="refused")["MessageId"]
        assert receiver.next()[0]["x-amz-sns-message-id"] == message_id

        def dlq(*args):
            r = subprocess.run([str(BINARY), "dlq", *args, "--endpoint", collector.endpoint, "--output", "json"],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stderr
            return r.stdout

        deadline = time.time() + 20
        letters = []
        while time.time() < deadline and not letters:
            letters = [json.loads(line) for line in dlq("list").splitlines() if json.loads(line)["messageId"] == message_id]
        assert letters and letters[0]["lastError"] == "HTTP 400" and letters[0]["attempts"] == 1
        receiver.status = 200
        assert dlq("replay", letters[0]["id"]).strip() == "replayed 1 delivery"
        headers, body = receiver.next()
        assert headers["x-amz-sns-message-id"] == message_id and json.loads(body)["Message"] == "refused"
    finally:
        receiver.stop()
