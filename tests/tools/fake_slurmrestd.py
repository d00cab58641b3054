#!/usr/bin/env python3
"""A stand-in for slurmrestd on 127.0.0.1, for what a real one will not do
on demand. Usage: fake_slurmrestd.py PORT TOKEN [MODE] [CERT KEY]

/ping: 200 for TOKEN, HTTP 500 with error_number -1 for any other token
(as slurmrestd answers a bad or expired one), 401 without the headers.
Any other request is answered as MODE says:
  garbage  HTTP 200 that is not JSON
  hang     no answer for 60 s
  noauth   401, as for a request without user and token
  purge    a submit is taken (job ids from 100), but GET /jobs lists no
           job: as if Slurm had purged them
  (none)   404
With CERT and KEY it serves https. Prints its port, serves until killed."""
import http.server
import itertools
import json
import ssl
import sys
import time

GOOD = sys.argv[2]
MODE = sys.argv[3] if len(sys.argv) > 3 else ""
JOB_IDS = itertools.count(100)


class Fake(http.server.BaseHTTPRequestHandler):
    def reply(self, code, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        user = self.headers.get("X-SLURM-USER-NAME")
        token = self.headers.get("X-SLURM-USER-TOKEN")
        if self.path.endswith("/ping"):
            if not user or not token:
                self.reply(401, {"errors": [{"error": "Authentication failure"}]})
            elif token != GOOD:
                self.reply(500, {"errors": [{"error_number": -1, "error": "Unspecified error"}]})
            else:
                self.reply(200, {"pings": [{"hostname": "localhost", "ping": "UP"}], "errors": []})
        elif MODE == "garbage":
            self.reply(200, b"<html>this is not JSON</html>")
        elif MODE == "hang":
            time.sleep(60)
        elif MODE == "noauth":
            self.reply(401, {"errors": [{"error": "Authentication failure"}]})
        elif MODE == "purge" and self.path.endswith("/job/submit"):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.reply(200, {"job_id": next(JOB_IDS), "errors": []})
        elif MODE == "purge" and "/jobs" in self.path:
            self.reply(200, {"jobs": [], "errors": []})
        else:
            self.reply(404, {"errors": [{"error_number": 404}]})

    do_POST = do_GET
    do_DELETE = do_GET

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Fake)
if len(sys.argv) > 5:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[4], sys.argv[5])
    server.socket = tls.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
