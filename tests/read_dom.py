#!/usr/bin/env python3
"""Reads figures back from a page's rendered DOM (chromium --dump-dom): prints a JSON object
with, for the status page, each objective row's data attributes, each chart's point count
and drawn paths, each drill row; for a drill report, the figures, the timeline's bars and
the step rows. usage: read_dom.py DOM_FILE"""
import html.parser
import json
import sys


class Reader(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.out = {"objectives": [], "charts": [], "drills": [], "failures": 0, "timeline_bars": [],
                    "steps": [], "figures": {}, "paths": 0, "title": ""}
        self.in_title = False
        self.chart = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "title":
            self.in_title = True
        if tag == "tr" and "objective" in classes:
            self.out["objectives"].append({k[5:]: v for k, v in a.items() if k.startswith("data-")})
        if tag == "tr" and "drill" in classes:
            self.out["drills"].append({k[5:]: v for k, v in a.items() if k.startswith("data-")})
        if tag == "tr" and "failure" in classes:
            self.out["failures"] += 1
        if tag == "tr" and "step" in classes:
            self.out["steps"].append({k[5:]: v for k, v in a.items() if k.startswith("data-")})
        if tag == "div" and "chart" in classes and "data-key" in a:
            self.chart = {"key": a["data-key"], "points": int(a.get("data-points", "0")), "paths": 0}
            self.out["charts"].append(self.chart)
        if tag == "path":
            self.out["paths"] += 1
            if self.chart is not None:
                self.chart["paths"] += 1
        if tag == "rect" and "step" in classes:
            self.out["timeline_bars"].append({k[5:]: v for k, v in a.items() if k.startswith("data-")})
        if tag == "td" and a.get("id"):
            self.out["figures"][a["id"]] = a.get("data-seconds")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag == "svg":
            self.chart = None

    def handle_data(self, data):
        if self.in_title:
            self.out["title"] += data


reader = Reader()
reader.feed(open(sys.argv[1], encoding="utf-8").read())
print(json.dumps(reader.out))
