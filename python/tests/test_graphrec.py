"""The graphrec Python package against graphrec itself: the same graphs,
walks, vectors and answers as the C++ library, the CLI and the server."""
import os
import re
import signal
import subprocess
import time

import numpy as np
import pytest

import graphrec
from conftest import KARATE, MR_HI, graphrec_binary, run


def test_karate_embedding_separates_the_two_factions():
    g = graphrec.Graph.from_edge_list(KARATE)
    assert (g.num_vertices, g.directed) == (34, False)
    vectors = graphrec.embed(g, dimensions=16, epochs=5, workers=1)
    assert vectors.vectors.shape == (34, 16) and vectors.vectors.dtype == np.float32
    same = total = 0
    for member in range(1, 35):
        for key, _ in vectors.most_similar(member, topn=5):
            same += (int(key) in MR_HI) == (member in MR_HI)
            total += 1
    assert same / total >= 0.85, f"only {same} of {total} nearest neighbours share the member's faction"


def test_embedding_with_one_worker_is_reproducible_and_the_seed_matters():
    g = graphrec.Graph.from_edge_list(KARATE)
    a = graphrec.embed(g, dimensions=8, num_walks=2, workers=1, seed=3)
    b = graphrec.embed(g, dimensions=8, num_walks=2, workers=1, seed=3)
    c = graphrec.embed(g, dimensions=8, num_walks=2, workers=1, seed=4)
    assert np.array_equal(a.vectors, b.vectors)
    assert not np.array_equal(a.vectors, c.vectors)


def test_a_graph_from_arrays_is_the_graph_of_the_same_edge_list():
    edges = np.loadtxt(KARATE, dtype=np.uint64)
    from_file = graphrec.Graph.from_edge_list(KARATE)
    from_arrays = graphrec.Graph.from_arrays(edges[:, 0], edges[:, 1])
    assert (from_arrays.num_vertices, from_arrays.num_edges) == (from_file.num_vertices, from_file.num_edges)
    assert np.array_equal(from_arrays.ids, from_file.ids)
    with pytest.raises(ValueError, match="src has 3 ids but dst 2"):
        graphrec.Graph.from_arrays([1, 2, 3], [2, 3])
    with pytest.raises(ValueError, match="weight"):
        graphrec.Graph.from_arrays([1], [2], weights=[-1.0])


def test_walks_match_the_walk_command_for_any_worker_count(tmp_path):
    g = graphrec.Graph.from_edge_list(KARATE)
    one = graphrec.walk(g, num_walks=3, walk_length=12, p=0.5, q=2, seed=9, workers=1)
    two = graphrec.walk(g, num_walks=3, walk_length=12, p=0.5, q=2, seed=9, workers=2)
    assert len(one) == 34 * 3 and np.array_equal(one.tokens, two.tokens)
    out = tmp_path / "walks.txt"
    run("walk", "--input", KARATE, "--output", str(out), "--num-walks", "3", "--walk-length", "12", "--p", "0.5",
        "--q", "2", "--seed", "9", "--workers", "1")
    assert [line.split() for line in out.read_text().splitlines()] == one.as_lists()


def test_string_ids_key_walks_and_vectors(tmp_path):
    path = tmp_path / "people.txt"
    path.write_text("who whom\nann ben\nben cid\ncid ann\ndan eve\neve fay\nfay dan\n")
    g = graphrec.Graph.from_edge_list(path, ids="string", header="yes")
    assert g.names == ["ann", "ben", "cid", "dan", "eve", "fay"]
    walks = graphrec.walk(g, num_walks=1, walk_length=4, workers=1)
    assert set(walks.keys) == set(g.names) and all(len(w) == 4 for w in walks)
    vectors = graphrec.embed(g, dimensions=8, epochs=20, workers=1)
    assert {k for k, _ in vectors.most_similar("ann", topn=2)} == {"ben", "cid"}
    vectors.save_word2vec_format(tmp_path / "people.vec")
    assert graphrec.load_vectors(tmp_path / "people.vec").index_to_key == vectors.index_to_key
    with pytest.raises(ValueError, match="--header yes or"):
        graphrec.Graph.from_edge_list(path, ids="string")


def test_word2vec_binary_round_trip(tmp_path):
    vectors = graphrec.embed(graphrec.Graph.from_edge_list(KARATE), dimensions=8, num_walks=1, workers=1)
    vectors.save_word2vec_format(tmp_path / "k.bin", binary=True)
    back = graphrec.load_vectors(tmp_path / "k.bin")
    assert back.index_to_key == vectors.index_to_key
    assert np.array_equal(back.vectors, vectors.vectors)


def test_index_build_and_search_agree_with_exact_search():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((500, 12)).astype(np.float32)
    ids = np.arange(1000, 1500, dtype=np.uint64)
    hnsw = graphrec.Index.build(data, ids, workers=1)
    exact = graphrec.Index.build(data, ids, exact=True)
    assert (len(hnsw), hnsw.dim, hnsw.metric) == (500, 12, "cosine")
    hits = 0
    for q in data[:50]:
        a, _ = hnsw.search(q, k=10)
        b, scores = exact.search(q, k=10)
        assert np.all(np.diff(scores) <= 1e-6)
        hits += len(set(a) & set(b))
    assert hits / 500 >= 0.95
    with pytest.raises(ValueError, match="query has 3 values"):
        hnsw.search(np.zeros(3), k=1)


def test_a_published_versions_vectors_read_as_numpy_equal_graphrec_export(artifacts, tmp_path):
    version = graphrec.open_version(artifacts)
    assert version.manifest, "the manifest is read"
    run("export", "--artifacts", str(artifacts), "--what", "vectors", "--format", "npy", "--out",
        str(tmp_path / "v.npy"))
    assert np.array_equal(version.vectors.vectors, np.load(tmp_path / "v.npy"))
    assert np.array_equal(version.vectors.ids, np.load(tmp_path / "v.ids.npy"))
    assert version.vectors.output_vectors.shape == version.vectors.vectors.shape
    # The version's index answers as graphrec recall does.
    account = int(version.vectors.ids[0])
    version_dir = os.path.join(str(artifacts), version.name)
    recall = run("--json", "recall", "--embeddings", os.path.join(version_dir, "accounts.emb"), "--graph",
                 os.path.join(version_dir, "graph.snap"), "--index", version_dir, "--kind", "similar", "--k", "5",
                 "--id", str(account)).stdout
    expected = [int(i) for i in re.findall(r'"(\d+)"', recall.split('"ids"')[1].split("]")[0])]
    ids, _ = version.index("accounts").search(version.vectors[account], k=6)
    assert [int(i) for i in ids if int(i) != account][:5] == expected
    with pytest.raises(graphrec.Error, match="no published version"):
        graphrec.open_version(tmp_path)


def test_the_service_answers_python(artifacts, tmp_path):
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen([graphrec_binary(), "serve", "--artifacts", str(artifacts), "--address",
                                   "127.0.0.1:0", "--stats-log-seconds", "0"], stdout=out, stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(200):
            match = re.search(r"listening on port (\d+)", log.read_text())
            if match:
                port = match.group(1)
                break
            time.sleep(0.05)
        assert port, log.read_text()
        version = graphrec.open_version(artifacts)
        account = int(version.vectors.ids[3])
        with graphrec.Client(f"127.0.0.1:{port}") as client:
            info = client.wait_until_loaded()  # UNAVAILABLE while the server loads the version
            assert info.version == version.name
            ids, scores = client.similar_accounts(account, k=5)
            local, _ = version.index("accounts").search(version.vectors[account], k=6)
            assert list(ids) == [i for i in local if i != account][:5]
            assert np.all(np.diff(scores) <= 1e-6) and client.version == version.name
            vectors = client.embeddings([account])
            assert np.allclose(vectors[0], version.vectors[account])
            assert client.popularity_fallback is False
            first, count = client.push_events([{"kind": "follow", "actor": account, "object": int(ids[-1])}])
            assert count == 1
            # An account known only from events answers with the popular accounts until a refresh pass.
            client.push_events([{"kind": "account", "actor": 987654321987}])
            popular, _ = client.similar_accounts(987654321987, k=5)
            assert client.popularity_fallback is True and len(popular) == 5
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
