"""A small HTTP service instrumented with the real aws-xray-sdk, for the X-Ray compatibility tests.

    python service.py --name frontend --port 8001 --daemon 127.0.0.1:2000 --downstream http://127.0.0.1:8002/work
    python service.py --name backend --port 8002 --daemon 127.0.0.1:2000 --fail --subsegments 3

Each request to /work starts (or continues, from the X-Amzn-Trace-Id header) a segment, records an annotation,
optionally calls the downstream service (the SDK's `requests` patch records a remote subsegment and propagates
the header with it as Parent), optionally does a few subsegments of work (streamed to the daemon one by one: streaming threshold 0), and
answers 500 with a fault when --fail is given. /rules lists the sampling rules the SDK's centralized sampler
fetched from the daemon address, /ready answers when the server is up.
"""
import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from aws_xray_sdk.core import patch, xray_recorder
from aws_xray_sdk.core.models import http
from aws_xray_sdk.ext.util import calculate_sampling_decision, construct_xray_header

parser = argparse.ArgumentParser()
parser.add_argument("--name", required=True)
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--daemon", required=True)
parser.add_argument("--downstream")
parser.add_argument("--fail", action="store_true")
parser.add_argument("--subsegments", type=int, default=0)
args = parser.parse_args()

# Defaults otherwise: centralized sampling polled from the daemon address, UDP emitter to the daemon address.
xray_recorder.configure(service=args.name, daemon_address=args.daemon, context_missing="LOG_ERROR",
                        streaming_threshold=0 if args.subsegments else None)
patch(["requests"])


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ready":
            return self.reply(200, {"ready": True})
        if self.path == "/rules":
            return self.reply(200, {"rules": [r.name for r in xray_recorder.sampler._cache.rules]})
        header = construct_xray_header(dict(self.headers))
        sampling = calculate_sampling_decision(
            trace_header=header, recorder=xray_recorder,
            sampling_req={"host": self.headers.get("Host"), "method": "GET", "path": self.path, "service": args.name})
        segment = xray_recorder.begin_segment(name=args.name, traceid=header.root, parent_id=header.parent,
                                              sampling=sampling)
        segment.put_http_meta(http.URL, f"http://127.0.0.1:{args.port}{self.path}")
        segment.put_http_meta(http.METHOD, "GET")
        segment.put_annotation("service_role", args.name)
        if args.name == "frontend":
            segment.put_annotation("customer", "c42")
            segment.set_user("alice")
        status = 200
        try:
            if args.downstream:
                # A downstream fault is recorded on the remote subsegment; this service still answers 200.
                requests.get(args.downstream, timeout=10)
            for i in range(args.subsegments):
                with xray_recorder.in_subsegment(f"query-{i}") as sub:
                    sub.put_metadata("row", i)
            if args.fail:
                status = 500
                segment.add_fault_flag()
        finally:
            segment.put_http_meta(http.STATUS, status)
            trace_id = segment.trace_id
            xray_recorder.end_segment()
        self.reply(status, {"trace_id": trace_id, "sampled": bool(sampling)})


ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
