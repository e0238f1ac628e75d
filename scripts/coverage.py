#!/usr/bin/env python3
"""Line coverage of loom's sources per folder, from a --coverage build that
has run its tests (`make coverage` does both).

Runs gcov (JSON output, GCC 12) on every .gcda file under BUILD, merges the
lines of each source file over all objects that compiled it (a line counts
as covered when any object ran it), and prints lines, covered lines and the
percentage per folder of the source tree, tests and build folders left out.

    python3 scripts/coverage.py BUILD [--root SRC] [--files]
"""

import argparse
import collections
import json
import os
import subprocess
import sys


def gcov_json(gcda):
    """The gcov JSON documents for one .gcda file (one per source)."""
    out = subprocess.run(["gcov", "-t", "-j", "-o", os.path.dirname(gcda), gcda],
                         cwd=os.path.dirname(gcda), capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write("coverage.py: gcov failed on %s: %s" % (gcda, out.stderr))
        return []
    docs = []
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            docs.append(json.loads(line))
    return docs


def collect(build, root):
    """{source path: {line: covered}} over every .gcda under build."""
    lines = collections.defaultdict(dict)
    for dirpath, _, names in os.walk(build):
        for name in names:
            if not name.endswith(".gcda"):
                continue
            for doc in gcov_json(os.path.join(dirpath, name)):
                for f in doc.get("files", []):
                    path = os.path.normpath(os.path.join(doc.get("current_working_directory", ""),
                                                         f["file"]))
                    rel = os.path.relpath(path, root)
                    if rel.startswith("..") or rel.split(os.sep)[0] in ("tests", "build") \
                            or rel.startswith("build"):
                        continue
                    per = lines[rel]
                    for ln in f["lines"]:
                        n = ln["line_number"]
                        per[n] = per.get(n, False) or ln["count"] > 0
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--files", action="store_true", help="also print every file")
    args = ap.parse_args()
    lines = collect(os.path.abspath(args.build), os.path.abspath(args.root))
    if not lines:
        sys.exit("coverage.py: no coverage data under %s (build with --coverage and run "
                 "the tests first)" % args.build)
    folders = collections.defaultdict(lambda: [0, 0])
    for rel, per in lines.items():
        folder = os.path.dirname(rel) or "."
        folders[folder][0] += len(per)
        folders[folder][1] += sum(per.values())
        if args.files:
            print("%-50s %6d %6d %6.1f%%" % (rel, len(per), sum(per.values()),
                                              100.0 * sum(per.values()) / max(len(per), 1)))
    print("%-24s %7s %7s %7s" % ("folder", "lines", "covered", "percent"))
    total = [0, 0]
    for folder in sorted(folders):
        n, c = folders[folder]
        total[0] += n
        total[1] += c
        flag = "" if c >= 0.8 * n else "  < 80%"
        print("%-24s %7d %7d %6.1f%%%s" % (folder, n, c, 100.0 * c / max(n, 1), flag))
    print("%-24s %7d %7d %6.1f%%" % ("all", total[0], total[1], 100.0 * total[1] / total[0]))


if __name__ == "__main__":
    main()
