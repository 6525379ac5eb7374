#!/usr/bin/python3
"""User -> artist recall on lastfm-hetrec2011-2k (standard library only).

prepare DATA_DIR OUT_DIR: holds out 20% of each user's artists (users with at
  least 5; seeded shuffle), and writes a graphrec world: follows.tsv = the
  friendships (both directions) plus user -> artist for the kept listens,
  posts.tsv = one post per artist (so artists are the "authors" the author
  index holds), users.txt = the evaluated users, heldout.tsv.
  Artists become accounts with id 1_000_000 + artistID.
score OUT_DIR RECALL.jsonl...: recall@10/@50 and hit-rate@10/@50 of each
  `graphrec recall --json` output against the held-out artists, plus the
  popularity baseline (artists with the most kept listeners, the user's kept
  artists excluded).
"""
import collections
import json
import random
import sys

ARTIST_BASE = 1_000_000
KS = (10, 50)


def prepare(data, out):
    listens = collections.defaultdict(list)
    with open(f"{data}/user_artists.dat") as f:
        next(f)
        for line in f:
            user, artist, _ = line.split()
            listens[int(user)].append(ARTIST_BASE + int(artist))
    rng = random.Random(1)
    kept, held = {}, {}
    for user in sorted(listens):
        artists = sorted(listens[user])
        if len(artists) < 5:
            kept[user] = artists
            continue
        rng.shuffle(artists)
        n_held = round(0.2 * len(artists))
        held[user], kept[user] = artists[:n_held], artists[n_held:]
    with open(f"{out}/follows.tsv", "w") as f:
        f.write("follower_id\tfollowee_id\n")
        with open(f"{data}/user_friends.dat") as friends:
            next(friends)
            for line in friends:
                a, b = line.split()
                f.write(f"{a}\t{b}\n")
        for user, artists in kept.items():
            for artist in artists:
                f.write(f"{user}\t{artist}\n")
    all_artists = sorted({a for artists in listens.values() for a in artists})
    with open(f"{out}/posts.tsv", "w") as f:
        f.write("post_id\tauthor_id\n")
        for artist in all_artists:
            f.write(f"{artist}\t{artist}\n")
    with open(f"{out}/users.txt", "w") as f:
        for user in sorted(held):
            f.write(f"{user}\n")
    with open(f"{out}/heldout.tsv", "w") as f:
        for user, artists in held.items():
            for artist in artists:
                f.write(f"{user}\t{artist}\n")
    print(f"{len(listens)} users, {len(all_artists)} artists; {len(held)} evaluated users, "
          f"{sum(map(len, held.values()))} held-out listens")


def metrics(ranked, held):
    out = {}
    for k in KS:
        recalls, hits = [], []
        for user, truth in held.items():
            top = set(ranked.get(user, [])[:k])
            found = len(top & truth)
            recalls.append(found / len(truth))
            hits.append(1.0 if found else 0.0)
        out[f"recall@{k}"] = sum(recalls) / len(recalls)
        out[f"hit@{k}"] = sum(hits) / len(hits)
    return out


def score(out, runs):
    held = collections.defaultdict(set)
    with open(f"{out}/heldout.tsv") as f:
        for line in f:
            user, artist = map(int, line.split())
            held[user].add(artist)
    kept = collections.defaultdict(set)
    listeners = collections.Counter()
    with open(f"{out}/follows.tsv") as f:
        next(f)
        for line in f:
            a, b = map(int, line.split())
            if b >= ARTIST_BASE:
                kept[a].add(b)
                listeners[b] += 1
    popular = [a for a, _ in listeners.most_common()]
    baseline = {u: [a for a in popular if a not in kept[u]][:max(KS)] for u in held}
    rows = [("popularity (most listeners)", metrics(baseline, held))]
    for run in runs:
        ranked = {}
        with open(run) as f:
            for line in f:
                r = json.loads(line)
                if "ids" in r:
                    ranked[int(r["query"])] = [int(i) for i in r["ids"]]  # ids are strings in JSON
        rows.append((run.split("/")[-1], metrics(ranked, held)))
    print(f"{'method':40s} " + " ".join(f"{m:>10s}" for m in rows[0][1]))
    for name, m in rows:
        print(f"{name:40s} " + " ".join(f"{v:10.4f}" for v in m.values()))


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    else:
        score(sys.argv[2], sys.argv[3:])
