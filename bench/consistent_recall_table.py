#!/usr/bin/env python3
"""Markdown tables from consistent_recall_study's JSON lines (one file per
seed or data set): consistency overlap@15 per source and K, and held-out
click recall@K overall, in the least popular half (deciles 1-5) and per
decile, coverage and mean popularity. Several files: mean over them, with
the spread (max - min) in parentheses.

usage: consistent_recall_table.py STUDY.jsonl [...]"""
import json
import sys
from collections import defaultdict


def cell(values, fmt="%.3f"):
    mean = sum(values) / len(values)
    return fmt % mean if len(values) == 1 else (fmt + " (%s)") % (mean, fmt % (max(values) - min(values)))


def name(source):  # "consistent+causal0.30000001192092896" (older runs) -> "consistent+causal 0.3"
    prefix = "consistent+causal"
    return source if not source.startswith(prefix) else "%s %g" % (prefix, float(source[len(prefix):]))


consistency = defaultdict(list)  # (source, k) -> overlaps
heldout = defaultdict(lambda: defaultdict(list))  # source -> field -> values
order, korder, k = [], [], 50
for path in sys.argv[1:]:
    for line in open(path):
        row = json.loads(line)
        row["variant" if "variant" in row else "source"] = name(row.get("variant", row.get("source")))
        if row["table"] == "consistency":
            for r in row["rows"]:
                source = row["variant"] if r["source"] == "consistent" else r["source"]
                if source not in order:
                    order.append(source)
                if r["k"] not in korder:
                    korder.append(r["k"])
                # The graph sources repeat in every variant's line: count them once per file.
                if source == row["variant"] or row["variant"] == "consistent":
                    consistency[(source, r["k"])].append(r["overlap"])
        else:
            h = heldout[row["source"]]
            for field in ("recall", "recall_tail", "coverage", "mean_popularity"):
                h[field].append(row[field])
            for q, v in enumerate(row["recall_by_decile"]):
                h["d%d" % (q + 1)].append(v)
            k = row["k"]

print("| source | " + " | ".join("overlap@15, K = %d" % k for k in korder) + " |")
print("|---|" + "---|" * len(korder))
for source in order:
    print("| %s | %s |" % (source, " | ".join(cell(consistency[(source, k)]) for k in korder)))
print()
print("| source | recall@%d | deciles 1-5 | " % k + " | ".join("d%d" % q for q in range(1, 11)) +
      " | coverage | mean popularity |")
print("|---|---|---|" + "---|" * 10 + "---|---|")
for source, h in heldout.items():
    print("| %s | %s | %s | %s | %s | %s |" % (
        source, cell(h["recall"]), cell(h["recall_tail"]),
        " | ".join(cell(h["d%d" % q], "%.2f") for q in range(1, 11)), cell(h["coverage"]),
        cell(h["mean_popularity"], "%.1f")))
