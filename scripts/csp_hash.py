#!/usr/bin/env python3
"""Trunk post_build hook: allow Trunk's inline loader script by hash in the Content-Security-Policy.

index.html carries a strict policy whose script-src holds the placeholder 'sha256-TRUNK_LOADER_HASH'.
Trunk writes an inline <script type="module"> that imports the hashed JS glue; its text is only known
after the build. This hook hashes every inline script in the staged index.html, puts the hashes in the
policy, and writes the same policy as HTTP headers for static hosts (dist/_headers, dist/csp.txt).
"""
import base64
import hashlib
import os
import re
import sys

PLACEHOLDER = "'sha256-TRUNK_LOADER_HASH'"

staging = os.environ.get("TRUNK_STAGING_DIR") or (sys.argv[1] if len(sys.argv) > 1 else None)
if not staging:
    sys.exit("csp_hash.py: TRUNK_STAGING_DIR is not set (run me as a Trunk post_build hook)")
index = os.path.join(staging, "index.html")
with open(index, encoding="utf-8") as f:
    html = f.read()

inline = re.findall(r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", html, flags=re.S | re.I)
hashes = [
    "'sha256-%s'" % base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
    for body in inline
]
if PLACEHOLDER not in html:
    sys.exit("csp_hash.py: the CSP placeholder %s is missing from index.html" % PLACEHOLDER)
html = html.replace(PLACEHOLDER, " ".join(hashes) if hashes else "")
with open(index, "w", encoding="utf-8") as f:
    f.write(html)

m = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', html)
if not m:
    sys.exit("csp_hash.py: no Content-Security-Policy meta tag in index.html")
policy = m.group(1)
# Headers can say what a meta tag cannot: who may frame the app.
header_policy = policy.rstrip("; ") + "; frame-ancestors 'none'"
with open(os.path.join(staging, "csp.txt"), "w", encoding="utf-8") as f:
    f.write(header_policy + "\n")
with open(os.path.join(staging, "_headers"), "w", encoding="utf-8") as f:
    f.write(
        "/*\n"
        f"  Content-Security-Policy: {header_policy}\n"
        "  Referrer-Policy: no-referrer\n"
        "  X-Content-Type-Options: nosniff\n"
        "  Cross-Origin-Opener-Policy: same-origin\n"
        "  Permissions-Policy: camera=(), microphone=(), geolocation=()\n"
    )
print(f"csp_hash.py: {len(hashes)} inline script(s) allowed by hash")
