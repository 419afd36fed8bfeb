"""Docker's HEALTHCHECK: exit 0 when /healthz answers 200 (the slim image has no curl).

/healthz is answered before the host and HTTPS checks (tickets/health.py), so a
plain request to the loopback address is enough.
"""

import os
import sys
import urllib.request

url = (
    os.environ.get("HEALTHCHECK_URL")
    or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"
)
# No proxy from the environment for a loopback request.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:
    print(f"{url}: {exc}", file=sys.stderr)
    sys.exit(1)
