"""Start the client's HealthServer on 127.0.0.1:argv[1], check /health
answers, then call stop() and print how long it took. Upstream 0.6.0rc1
blocks in stop() for ever; the caller's timeout is the verdict then."""
import json
import sys
import time
import urllib.request

from pywats_client.service.health_server import HealthServer

port = int(sys.argv[1])
server = HealthServer(port=port, host="127.0.0.1")
assert server.start(), "health server did not start"
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(f"http://127.0.0.1:{port}/health", timeout=5) as reply:
    status = reply.status
began = time.monotonic()
server.stop()
print(json.dumps({"health": status, "stop_seconds": time.monotonic() - began}))
