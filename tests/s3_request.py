#!/usr/bin/env python3
"""Sends one SigV4-signed S3 request, for tests, independently of obkeep (standard library
only), and prints the HTTP status, then the answer's headers ("name: value", lower-case
names), then a blank line and the body.

usage: s3_request.py METHOD http://HOST:PORT/BUCKET[/KEY] [QUERY] [HEADER:VALUE]...
QUERY is "name=value&name2" (raw, not encoded); "-" for none. Credentials from
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the region from AWS_REGION. Exits 0 whatever
the status: the test reads it."""
import datetime
import hashlib
import hmac
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


def encode(text, safe="-_.~"):
    return urllib.parse.quote(text, safe=safe)


def signed_request(method, url, query=None, extra_headers=None, body=b""):
    """Returns (status, headers as a dict of lower-case names, body bytes)."""
    query = query or {}
    access, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    region = os.environ.get("AWS_REGION", "us-east-1")
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    parts = urllib.parse.urlsplit(url)
    path = encode(parts.path, safe="-_.~/")
    canonical_query = "&".join("%s=%s" % (encode(k), encode(v)) for k, v in sorted(query.items()))
    payload = hashlib.sha256(body).hexdigest()
    headers = {"host": parts.netloc, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    headers.update({k.lower(): v for k, v in (extra_headers or {}).items()})
    signed = ";".join(sorted(headers))
    canonical = "\n".join([method, path, canonical_query,
                           "".join("%s:%s\n" % (k, headers[k].strip()) for k in sorted(headers)), signed, payload])
    scope = "%s/%s/s3/aws4_request" % (day, region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        access, scope, signed, signature)
    del headers["host"]
    address = "%s://%s%s" % (parts.scheme, parts.netloc, path) + ("?" + canonical_query if canonical_query else "")
    request = urllib.request.Request(address, data=body if method in ("PUT", "POST") else None, headers=headers,
                                     method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def main():
    method, url = sys.argv[1:3]
    query = {}
    if len(sys.argv) > 3 and sys.argv[3] != "-":
        for item in sys.argv[3].split("&"):
            name, _, value = item.partition("=")
            query[name] = value
    headers = dict(h.split(":", 1) for h in sys.argv[4:])
    status, answer_headers, body = signed_request(method, url, query, headers)
    print(status)
    for name, value in sorted(answer_headers.items()):
        print("%s: %s" % (name, value))
    print()
    sys.stdout.write(body.decode(errors="replace"))


if __name__ == "__main__":
    main()
