#!/usr/bin/env python3
"""A stand-in for slurmrestd's ping, on 127.0.0.1 only, for runfs login's
token check: 200 for the token given as argv[2], HTTP 500 with
error_number -1 for any other (as slurmrestd answers a bad token), 401
without the headers. Any other request is answered as argv[3] says:
"garbage" (HTTP 200 that is not JSON), "hang" (no answer for 60 s), or
404 by default. Prints its port, serves until killed."""
import http.server
import json
import sys
import time

GOOD = sys.argv[2]
MODE = sys.argv[3] if len(sys.argv) > 3 else ""


class Ping(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        user = self.headers.get("X-SLURM-USER-NAME")
        token = self.headers.get("X-SLURM-USER-TOKEN")
        if not self.path.endswith("/ping") and MODE == "garbage":
            data = b"<html>this is not JSON</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if not self.path.endswith("/ping") and MODE == "hang":
            time.sleep(60)
            return
        if not self.path.endswith("/ping"):
            code, body = 404, {"errors": [{"error_number": 404}]}
        elif not user or not token:
            code, body = 401, {"errors": [{"error": "Authentication failure"}]}
        elif token != GOOD:
            code, body = 500, {"errors": [{"error_number": -1, "error": "Unspecified error"}]}
        else:
            code, body = 200, {"pings": [{"hostname": "localhost", "ping": "UP"}], "errors": []}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET
    do_DELETE = do_GET

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Ping)
print(server.server_address[1], flush=True)
server.serve_forever()
