#!/usr/bin/env python3
"""Lists a bucket's objects or its unfinished multipart uploads, for tests, independently of
obkeep: one SigV4-signed GET with the standard library only.

usage: s3_list.py http://HOST:PORT BUCKET objects|uploads|versions PREFIX
Credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the region from AWS_REGION.
Prints one key a line (objects), "KEY UPLOAD_ID" a line (uploads) or "KEY VERSION_ID" a
line for every stored version and "KEY VERSION_ID delete-marker" for every delete marker (versions). Fails on a truncated
answer: tests list a few objects, not thousands."""
import sys
import xml.etree.ElementTree as ET

from s3_request import signed_request


def signed_get(endpoint, bucket, query):
    status, _, body = signed_request("GET", endpoint + "/" + bucket, query)
    if status != 200:
        sys.exit("s3_list.py: GET %s/%s answered %d: %s" % (endpoint, bucket, status, body.decode(errors="replace")))
    return ET.fromstring(body)


def main():
    endpoint, bucket, what, prefix = sys.argv[1:5]
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    if what == "objects":
        root = signed_get(endpoint, bucket, {"list-type": "2", "prefix": prefix})
        rows = [c.findtext(ns + "Key") for c in root.iter(ns + "Contents")]
    elif what == "versions":
        root = signed_get(endpoint, bucket, {"versions": "", "prefix": prefix})
        rows = ["%s %s" % (v.findtext(ns + "Key"), v.findtext(ns + "VersionId")) for v in root.iter(ns + "Version")]
        rows += ["%s %s delete-marker" % (m.findtext(ns + "Key"), m.findtext(ns + "VersionId"))
                 for m in root.iter(ns + "DeleteMarker")]
    else:
        root = signed_get(endpoint, bucket, {"uploads": "", "prefix": prefix})
        rows = ["%s %s" % (u.findtext(ns + "Key"), u.findtext(ns + "UploadId")) for u in root.iter(ns + "Upload")]
    if root.findtext(ns + "IsTruncated") == "true":
        sys.exit("s3_list.py: the listing of %s/%s is truncated" % (bucket, prefix))
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
