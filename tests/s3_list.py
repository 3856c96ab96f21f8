#!/usr/bin/env python3
"""Lists a bucket's objects or its unfinished multipart uploads, for tests, independently of
obkeep: one SigV4-signed GET with the standard library only.

usage: s3_list.py http://HOST:PORT BUCKET objects|uploads PREFIX
Credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the region from AWS_REGION.
Prints one key a line (objects) or "KEY UPLOAD_ID" a line (uploads). Fails on a truncated
answer: tests list a few objects, not thousands."""
import datetime
import hashlib
import hmac
import os
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET


def encode(text):
    return urllib.parse.quote(text, safe="-_.~")


def signed_get(endpoint, bucket, query):
    access, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    region = os.environ.get("AWS_REGION", "us-east-1")
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    host = urllib.parse.urlsplit(endpoint).netloc
    path = "/" + bucket
    canonical_query = "&".join("%s=%s" % (encode(k), encode(v)) for k, v in sorted(query.items()))
    payload = hashlib.sha256(b"").hexdigest()
    headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(["GET", path, canonical_query, "".join("%s:%s\n" % (k, headers[k]) for k in sorted(headers)),
                           signed, payload])
    scope = "%s/%s/s3/aws4_request" % (day, region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        access, scope, signed, signature)
    del headers["host"]
    request = urllib.request.Request(endpoint + path + "?" + canonical_query, headers=headers)
    return ET.fromstring(urllib.request.urlopen(request, timeout=30).read())


def main():
    endpoint, bucket, what, prefix = sys.argv[1:5]
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    if what == "objects":
        root = signed_get(endpoint, bucket, {"list-type": "2", "prefix": prefix})
        rows = [c.findtext(ns + "Key") for c in root.iter(ns + "Contents")]
    else:
        root = signed_get(endpoint, bucket, {"uploads": "", "prefix": prefix})
        rows = ["%s %s" % (u.findtext(ns + "Key"), u.findtext(ns + "UploadId")) for u in root.iter(ns + "Upload")]
    if root.findtext(ns + "IsTruncated") == "true":
        sys.exit("s3_list.py: the listing of %s/%s is truncated" % (bucket, prefix))
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
