#!/usr/bin/env python3
"""Builds graphrec input files and ranker impressions from the Ciao data set.

Construction (README, "Ranking on real data"):
  follows       trust edges (truster -> trustee), no timestamps
  interactions  ratings dated before the ranker's period (the last
                --train-days + --validation-days + --test-days days), as
                "click" rows: the graph and the embeddings the features come
                from never hold a rating the ranker trains or is tested on
                (embeddings trained on a row's own click leak its label)
  impressions   every rating in the ranker's period is a clicked impression
                at its date; each gets
                --negatives unrated items drawn by popularity (training
                ratings) as non-clicked impressions at the same date;
                interacted = rating >= 4; dwell_ms = helpfulness x 1000 (the
                third task: a regression on helpfulness); negative feedback
                = rating <= 2 on rated items ('-': not recorded on the
                unrated ones); no profile visits, no videos
  split         the last --test-days days are the test set, the
                --validation-days before them validation (graphrec
                rank-train --test-days / --validation-days)

Only items rated before the ranker's period can appear (a ranker cannot
score an item the graph has never seen); later-only items are dropped and
counted.

usage: ciao_impressions.py CIAO_DERIVED_DIR OUT_DIR [--negatives 4] [--test-days 365]
                           [--validation-days 180] [--train-days 545] [--seed 1]
"""
import argparse
import bisect
import os
import random
import sys

DAY = 86400


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ciao_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--negatives", type=int, default=4)
    ap.add_argument("--test-days", type=int, default=365)
    ap.add_argument("--validation-days", type=int, default=180)
    ap.add_argument("--train-days", type=int, default=545)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    ratings = []  # (time, user, item, rating, helpfulness)
    with open(os.path.join(args.ciao_dir, "rating_with_timestamp.tsv")) as f:
        next(f)
        for line in f:
            user, item, _category, rating, helpful, ts = line.split()
            ratings.append((int(ts), int(user), int(item), int(rating), int(helpful)))
    ratings.sort()
    newest = ratings[-1][0]
    end_of_day = (newest // DAY + 1) * DAY
    ranker_start = end_of_day - (args.test_days + args.validation_days + args.train_days) * DAY

    train_ratings = [r for r in ratings if r[0] < ranker_start]  # the graph's

    popularity = {}
    for r in train_ratings:
        popularity[r[2]] = popularity.get(r[2], 0) + 1
    items = sorted(popularity)
    cumulative = []
    total = 0
    for item in items:
        total += popularity[item]
        cumulative.append(total)
    rated = {}
    for r in ratings:
        rated.setdefault(r[1], set()).add(r[2])

    with open(os.path.join(args.out_dir, "follows.tsv"), "w") as out:
        out.write("follower_id\tfollowee_id\n")
        with open(os.path.join(args.ciao_dir, "trustnetwork.tsv")) as f:
            next(f)
            for line in f:
                a, b = line.split()
                if a != b:
                    out.write(f"{a}\t{b}\n")
    with open(os.path.join(args.out_dir, "interactions.tsv"), "w") as out:
        out.write("account_id\tpost_id\ttype\ttimestamp\n")
        for ts, user, item, _rating, _helpful in train_ratings:
            out.write(f"{user}\t{item}\tclick\t{ts}\n")

    rng = random.Random(args.seed)
    dropped = 0
    rows = 0
    with open(os.path.join(args.out_dir, "impressions.tsv"), "w") as out:
        out.write("account_id\tpost_id\ttimestamp\tclicked\tinteracted\tdwell_ms\tnegative\tprofile_visit\tvideo_ms\tcompleted\n")
        for ts, user, item, rating, helpful in ratings:
            if ts < ranker_start:
                continue
            if item not in popularity:
                dropped += 1
                continue
            out.write(f"{user}\t{item}\t{ts}\t1\t{int(rating >= 4)}\t{helpful * 1000}\t{int(rating <= 2)}\t-\t0\t-\n")
            rows += 1
            seen = rated[user]
            for _ in range(args.negatives):
                for _attempt in range(20):
                    negative = items[bisect.bisect_right(cumulative, rng.randrange(total))]
                    if negative not in seen:
                        out.write(f"{user}\t{negative}\t{ts}\t0\t0\t0\t-\t-\t0\t-\n")
                        rows += 1
                        break
    print(f"ratings {len(ratings)}, in the graph {len(train_ratings)}, items known {len(items)}, "
          f"ratings of later-only items dropped {dropped}, impressions {rows}", file=sys.stderr)


if __name__ == "__main__":
    main()
