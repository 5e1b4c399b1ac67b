"""Starts the real `skylens serve` (built by `swift build`) on a free port with a temporary data directory."""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import threading

import boto3
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = ROOT / ".build" / "debug" / "skylens"


class Collector:
    def __init__(self, rules_dir=None):
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is missing: run `swift build` first")
        self.data_dir = tempfile.mkdtemp(prefix="skylens-compat-")
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--port", "0", "--xray-port", "0", "--data-dir", self.data_dir, "--log-level", "info"]
            + (["--rules-dir", str(rules_dir)] if rules_dir else []),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.port = None
        self.xray_port = None
        for line in self.process.stderr:
            # The start-up line names the X-Ray daemon port; the HTTP server then reports the port it bound (the
            # daemon port's TCP side reports its own, which is skipped).
            match = re.search(r"xray\.address=[^ ]*:(\d+)", line)
            if match:
                self.xray_port = int(match.group(1))
            match = re.search(r"listening on [^ ]*:(\d+)", line)
            if match and int(match.group(1)) != self.xray_port:
                self.port = int(match.group(1))
                break
        if self.port is None:
            raise RuntimeError(f"skylens serve exited with {self.process.wait()}")
        # Keep draining stderr so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.process.stderr], daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def env(self):
        env = dict(os.environ)
        env.update(AWS_ENDPOINT_URL=self.endpoint, AWS_ACCESS_KEY_ID="skylens", AWS_SECRET_ACCESS_KEY="skylens",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        return env

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def collector():
    c = Collector()
    yield c
    c.stop()


@pytest.fixture()
def logs(collector):
    return boto3.client("logs", endpoint_url=collector.endpoint, region_name="us-east-1",
                        aws_access_key_id="skylens", aws_secret_access_key="skylens")


_counter = [0]


@pytest.fixture()
def group(logs):
    """A fresh log group per test."""
    _counter[0] += 1
    name = f"/compat/group-{os.getpid()}-{_counter[0]}"
    logs.create_log_group(logGroupName=name)
    return name
