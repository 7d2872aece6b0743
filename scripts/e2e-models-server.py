#!/usr/bin/env python3
"""A loopback OpenAI-compatible server for scripts/e2e-models-tmux.sh.

Standard library only. It serves
  GET  /v1/models             the models named on the command line;
  POST /v1/chat/completions   a streamed reply (SSE, HTTP/1.1 chunked),
                              "Reply #N from MODEL at NAME.", N counting this
                              server's chat requests, then a usage chunk and
                              [DONE].
Every chat request's "model" field is appended to --log, one line each,
before the reply starts, so the script can check which model spindle asked
for. A model the server does not list gets a 404, as real servers answer.

It listens on 127.0.0.1 on a port the kernel picks and writes that port to
--port-file once it is listening. It stops on SIGTERM.

    python3 scripts/e2e-models-server.py --name main --log m.log \
        --port-file m.port alpha-1 beta-2 gamma-3
"""

import argparse
import http.server
import json
import os
import signal
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True, help="the endpoint's name, said in each reply")
    ap.add_argument("--log", required=True, help="file that gets each chat request's model")
    ap.add_argument("--port-file", required=True, help="file that gets the port")
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()
    log_lock = threading.Lock()
    served = [0]  # chat requests so far, under log_lock

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # keep the terminal quiet
            pass

        def send_json(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.rstrip("/") != "/v1/models":
                self.send_json(404, {"error": {"message": "no such path", "type": "invalid_request_error"}})
                return
            data = [{"id": m, "object": "model", "created": 0, "owned_by": args.name} for m in args.models]
            self.send_json(200, {"object": "list", "data": data})

        def chunk(self, data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def event(self, obj):
            self.chunk(b"data: " + json.dumps(obj).encode() + b"\n\n")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self.send_json(404, {"error": {"message": "no such path", "type": "invalid_request_error"}})
                return
            try:
                req = json.loads(raw)
            except ValueError:
                self.send_json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                return
            model = str(req.get("model", ""))
            with log_lock, open(args.log, "a") as f:
                f.write(model + "\n")
                served[0] += 1
                n = served[0]
            if model not in args.models:
                self.send_json(404, {"error": {"message": "model %s does not exist" % model, "type": "invalid_request_error"}})
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            base = {"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": 0, "model": model}
            words = ["Reply ", "#%d " % n, "from ", model, " at ", args.name + "."]
            for i, w in enumerate(words):
                delta = {"content": w}
                if i == 0:
                    delta["role"] = "assistant"
                self.event(dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": None}]))
            self.event(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))
            self.event(dict(base, choices=[], usage={"prompt_tokens": 12, "completion_tokens": len(words), "total_tokens": 12 + len(words)}))
            self.chunk(b"data: [DONE]\n\n")
            self.chunk(b"")

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, args.port_file)
    srv.serve_forever()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
