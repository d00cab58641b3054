#!/usr/bin/env python3
"""A stand-in for slurmrestd's ping, on 127.0.0.1 only, for runfs login's
token check: 200 for the token given as argv[2], HTTP 500 with
error_number -1 for any other (as slurmrestd answers a bad token), 401
without the headers. Prints its port, serves until killed."""
import http.server
import json
import sys

GOOD = sys.argv[2]


class Ping(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        user = self.headers.get("X-SLURM-USER-NAME")
        token = self.headers.get("X-SLURM-USER-TOKEN")
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

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ping)
print(server.server_address[1], flush=True)
server.serve_forever()
