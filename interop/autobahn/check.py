"""Fail unless every case in an Autobahn index.json is OK, NON-STRICT or
INFORMATIONAL (in both behavior and closing behavior)."""
import json
import sys
from collections import Counter

PASS = {"OK", "NON-STRICT", "INFORMATIONAL"}


def main(path):
    with open(path) as f:
        index = json.load(f)
    counts = Counter()
    bad = []
    for agent, cases in index.items():
        for case, result in cases.items():
            counts[result["behavior"]] += 1
            if result["behavior"] not in PASS or result.get("behaviorClose") not in PASS | {None}:
                bad.append((case, result["behavior"], result.get("behaviorClose")))
    total = sum(counts.values())
    summary = ", ".join("%s %d" % kv for kv in sorted(counts.items()))
    print("%s: %d cases: %s" % (path, total, summary))
    for case, b, c in sorted(bad, key=lambda x: [int(p) for p in x[0].split(".")]):
        print("  FAILED %s: behavior %s, close %s" % (case, b, c))
    return 1 if bad or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
