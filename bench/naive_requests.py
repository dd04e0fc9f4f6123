#!/usr/bin/env python3
"""What a user would write instead of aircall-dest: a short Python `requests` script that POSTs
one JSON body per line of BODIES to URL, one after the other, without pacing or retries.

    python3 bench/naive_requests.py URL BODIES

It keeps one `requests.Session` (connection reuse), the usual way to write it. The Basic
credential comes from API_ID / API_TOKEN (default: the sandbox's test pair).
Prints one JSON object: sent, delivered (2xx), http_429, other, seconds.
"""

import json
import os
import sys
import time

import requests


def main() -> None:
    url, bodies = sys.argv[1], sys.argv[2]
    session = requests.Session()
    session.auth = (os.environ.get("API_ID", "sandbox-id"), os.environ.get("API_TOKEN", "sandbox-token"))
    counts = {"sent": 0, "delivered": 0, "http_429": 0, "other": 0}
    started = time.perf_counter()
    with open(bodies, "rb") as lines:
        for line in lines:
            body = line.rstrip(b"\n")
            try:
                status = session.post(url, data=body, headers={"Content-Type": "application/json"}).status_code
            except requests.RequestException:
                status = 0
            counts["sent"] += 1
            if 200 <= status < 300:
                counts["delivered"] += 1
            elif status == 429:
                counts["http_429"] += 1
            else:
                counts["other"] += 1
    counts["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
