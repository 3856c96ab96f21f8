#!/usr/bin/env python3
"""Generate a deterministic, deployment-like tree for file-backup benchmarks.

Two WSO2 server homes: jars and wars that do not compress (about half byte-identical
between the homes, as the shared OSGi bundles are), XML configs, logs, thousands of small
JS/CSS files. --scale 1 gives about 2 GB in about 25,000 files.

--small-files N gives N small text files instead (100 x 100 directories at 1,000,000; 200 B
to 3.5 KB each, so each takes one 4 KiB block): the many-small-files case of a registry or a
mail spool, where per-file costs dominate.

usage: generate_tree.py DIR [--scale S] [--seed N]
       generate_tree.py DIR --small-files N [--seed N]
       generate_tree.py DIR --mutate PCT [--seed N]   (change about PCT% of the files)
"""
import argparse, hashlib, os, random

BLOCK = 1 << 20


def random_bytes(seed: bytes, size: int) -> bytes:
    """Incompressible, deterministic bytes: SHAKE-256 of a per-file seed (fast in C)."""
    return hashlib.shake_256(seed).digest(size)


def text_block(rng: random.Random, size: int, kind: str) -> bytes:
    words = ["consent", "token", "account", "payment", "binding", "scope", "tenant", "carbon",
             "synapse", "handler", "endpoint", "sequence", "throttle", "gateway", "registry"]
    out, n = [], 0
    i = 0
    while n < size:
        if kind == "log":
            line = "TID: [-1234] [] [2026-11-%02d %02d:%02d:%02d,%03d]  INFO {org.wso2.carbon.%s} - %s %s %d\n" % (
                rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999),
                rng.choice(words), rng.choice(words), rng.choice(words), rng.randint(0, 10**6))
        elif kind == "xml":
            line = '  <%s name="%s-%d" enabled="%s">%s</%s>\n' % (
                rng.choice(words), rng.choice(words), i, rng.choice(["true", "false"]), rng.choice(words), "x")
        else:
            line = "function %s_%d(a, b) { return a.%s(b) + %d; }\n" % (rng.choice(words), i, rng.choice(words), i)
        out.append(line)
        n += len(line)
        i += 1
    return "".join(out).encode()[:size]


def write(path: str, data: bytes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def generate(root: str, scale: float, seed: int):
    rng = random.Random(seed)
    homes = ["wso2-obkm-1.5.0", "wso2-obam-1.5.0"]
    n_jars = int(900 * scale) + 2
    n_wars = int(12 * scale) + 1
    n_xml = int(400 * scale) + 2
    n_js = int(10500 * scale) + 4
    n_logs = max(1, int(4 * scale))
    # shared bundles: identical in both homes
    jar_specs = []
    for i in range(n_jars):
        size = int(min(5_000_000, max(20_000, rng.lognormvariate(12.2, 1.0))))
        shared = rng.random() < 0.5
        jar_specs.append(("org.wso2.carbon.bundle%04d_4.4.35.jar" % i, size, shared))
    for h, home in enumerate(homes):
        base = os.path.join(root, home)
        for name, size, shared in jar_specs:
            key = ("jar-%s" % name if shared else "jar-%s-%d" % (name, h)).encode() + str(seed).encode()
            write(os.path.join(base, "repository/components/plugins", name), random_bytes(key, size))
        for i in range(n_wars):
            size = rng.randint(5_000_000, 60_000_000)
            write(os.path.join(base, "repository/deployment/server/webapps", "webapp%02d.war" % i),
                  random_bytes(("war-%d-%d-%d" % (h, i, seed)).encode(), size))
        for i in range(n_xml):
            size = rng.randint(2_000, 50_000)
            sub = rng.choice(["conf", "conf/identity", "conf/datasources", "deployment/server/synapse-configs/default/api"])
            write(os.path.join(base, "repository", sub, "config%04d.xml" % i), text_block(rng, size, "xml"))
        for i in range(n_logs):
            size = rng.randint(10_000_000, 100_000_000) if scale >= 0.5 else rng.randint(1_000_000, 5_000_000)
            write(os.path.join(base, "repository/logs", "wso2carbon%d.log" % i), text_block(rng, size, "log"))
        for i in range(n_js):
            size = rng.randint(1_000, 30_000)
            app = rng.choice(["store", "publisher", "admin", "consentmgt", "ccportal"])
            write(os.path.join(base, "repository/deployment/server/jaggeryapps", app, "js/module%05d.js" % i),
                  text_block(rng, size, "js"))


def generate_small_files(root: str, count: int, seed: int):
    """count files, 100 per directory, directories 100 per parent: d00/d00/f00.xml ..."""
    rng = random.Random(seed)
    per_dir = 100
    dirs = (count + per_dir - 1) // per_dir
    for d in range(dirs):
        directory = os.path.join(root, "d%02d" % (d // 100), "d%02d" % (d % 100))
        os.makedirs(directory, exist_ok=True)
        for f in range(min(per_dir, count - d * per_dir)):
            size = int(min(3_500, max(200, rng.lognormvariate(7.0, 0.7))))
            with open(os.path.join(directory, "f%02d.xml" % f), "wb") as out:
                out.write(text_block(rng, size, "xml"))


def mutate(root: str, percent: float, seed: int):
    rng = random.Random(seed * 7919 + 1)
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
    chosen = rng.sample(files, max(1, int(len(files) * percent / 100)))
    for path in chosen:
        if path.endswith(".log"):
            with open(path, "ab") as f:
                f.write(text_block(rng, 200_000, "log"))
        elif path.endswith((".jar", ".war")):
            size = os.path.getsize(path)
            with open(path, "r+b") as f:
                f.seek(rng.randrange(max(1, size - 100)))
                f.write(random_bytes(path.encode() + b"edit", 64))
        else:
            write(path, text_block(rng, rng.randint(1_000, 30_000), "xml"))
    for i in range(5):
        write(os.path.join(root, "wso2-obam-1.5.0/repository/deployment/server/synapse-configs/default/api",
                           "added-%d-%d.xml" % (seed, i)), text_block(rng, 5_000, "xml"))
    for path in rng.sample(files, 3):
        if os.path.exists(path) and path not in chosen:
            os.remove(path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mutate", type=float)
    parser.add_argument("--small-files", type=int)
    args = parser.parse_args()
    if args.mutate is not None:
        mutate(args.dir, args.mutate, args.seed)
    elif args.small_files is not None:
        generate_small_files(args.dir, args.small_files, args.seed)
    else:
        generate(args.dir, args.scale, args.seed)


main()
