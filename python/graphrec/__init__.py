"""graphrec from Python: graphs, random walks, graph embeddings, HNSW indices,
published versions of the nightly batch, and the gRPC service.

    import graphrec
    g = graphrec.Graph.from_edge_list("karate.edgelist")
    vectors = graphrec.embed(g, dimensions=16, epochs=5)
    vectors.most_similar("1", topn=5)          # gensim's KeyedVectors manner
    index = graphrec.Index.build(vectors.vectors, vectors.ids)
    ids, scores = index.search(vectors["1"], k=5)

Arrays are numpy arrays; vectors, ids and walks are views of graphrec's own
buffers (read-only), not copies. Invalid arguments raise ValueError, other
failures (I/O, damaged files) graphrec.Error.
"""
import json
import os

import numpy as np

from . import _graphrec
from ._graphrec import Error

__all__ = ["Error", "Graph", "Walks", "Vectors", "Index", "Version", "walk", "embed", "open_version",
           "load_vectors", "Client"]


class Graph:
    """A graph: accounts and follow edges (an edge list's vertices and edges)."""

    def __init__(self, native, names=None):
        self._native = native
        self.names = names  # with string ids: names[id] is vertex id's string

    @classmethod
    def from_edge_list(cls, path, directed=False, ids="integer", header="auto"):
        """Reads 'src dst [weight]' lines (whitespace, tab or comma). ids="string" takes any
        strings without blanks (then say header="yes" or "no"); walks and vectors are keyed by them."""
        if ids == "string":
            native, names = _graphrec.load_edge_list_with_string_ids(os.fspath(path), directed, header)
            return cls(native, names)
        if ids != "integer":
            raise ValueError(f"ids must be 'integer' or 'string', not {ids!r}")
        return cls(_graphrec.load_edge_list(os.fspath(path), directed, header))

    @classmethod
    def from_snapshot(cls, path):
        """Reads a graph snapshot (graphrec ingest's output, a version's graph.snap)."""
        return cls(_graphrec.load_snapshot(os.fspath(path)))

    @classmethod
    def from_arrays(cls, src, dst, weights=None, directed=False):
        """Edge i is src[i] -> dst[i] (unsigned integer ids), weights[i] (> 0) or 1."""
        src = np.ascontiguousarray(src, dtype=np.uint64)
        dst = np.ascontiguousarray(dst, dtype=np.uint64)
        w = None if weights is None else np.ascontiguousarray(weights, dtype=np.float32)
        return cls(_graphrec.graph_from_arrays(src, dst, w, directed))

    num_vertices = property(lambda self: self._native.num_vertices)
    num_edges = property(lambda self: self._native.num_edges, doc="stored edges (both directions if undirected)")
    num_posts = property(lambda self: self._native.num_posts)
    directed = property(lambda self: self._native.directed)
    ids = property(lambda self: self._native.ids, doc="external id of each vertex (uint64), in dense order")

    def __repr__(self):
        kind = "directed" if self.directed else "undirected"
        return f"<graphrec.Graph {kind}: {self.num_vertices} vertices, {self.num_edges} edges>"


def _walk_args(kind, num_walks, walk_length, p, q, weighted, direction, metapath, seed, workers):
    if kind == "auto":
        kind = ("metapath" if metapath else "node2vec" if (p != 1 or q != 1)
                else "weighted" if weighted else "uniform")
    return (kind, num_walks, walk_length, float(p), float(q), weighted, direction, metapath or "", seed, workers)


class Walks:
    """Random walks: `tokens` (all walks concatenated) and `offsets` (walk i is
    tokens[offsets[i]:offsets[i+1]]); `keys[token]` is its text (an account id,
    or 'p' + a post id), as in graphrec walk's output."""

    def __init__(self, native, names=None):
        self._native = native
        self.tokens = native.tokens
        self.offsets = native.offsets
        # Account keys are their ids; with string ids, the names.
        self.keys = [names[int(k)] for k in native.keys] if names is not None else native.keys

    def __len__(self):
        return len(self.offsets) - 1

    def __getitem__(self, i):
        """Walk i as a list of keys (strings)."""
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        return [self.keys[t] for t in self.tokens[self.offsets[i]:self.offsets[i + 1]]]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def as_lists(self):
        """Every walk as a list of key strings (gensim Word2Vec's sentences)."""
        return list(self)


def walk(graph, num_walks=10, walk_length=80, p=1.0, q=1.0, weighted=False, direction="both", kind="auto",
         metapath=None, seed=1, workers=0):
    """Random walks over the graph (graphrec walk's engine). The same seed gives
    the same walks for any number of workers."""
    return Walks(_graphrec.walk(graph._native, *_walk_args(kind, num_walks, walk_length, p, q, weighted, direction,
                                                            metapath, seed, workers)), graph.names)


class Vectors:
    """Vectors keyed by account id, in the manner of gensim's KeyedVectors:
    `vectors` (float32, rows x dim), `index_to_key`, `key_to_index`,
    `vectors["123"]` or `vectors[123]`, `most_similar`, `similarity`,
    `save_word2vec_format`. `ids` are the uint64 ids per row; posts (metapath
    vectors) have keys 'p' + id."""

    def __init__(self, native):
        self._native = native
        self.vectors = native.input()
        self.ids = native.ids
        self.index_to_key = native.keys
        self.key_to_index = {k: i for i, k in enumerate(self.index_to_key)}
        self._unit = None

    @property
    def vector_size(self):
        return self.vectors.shape[1]

    @property
    def output_vectors(self):
        """The context vectors (present for graphrec's .emb files and embed's result)."""
        return self._native.output()

    def __len__(self):
        return len(self.index_to_key)

    def __contains__(self, key):
        return str(key) in self.key_to_index

    def __getitem__(self, key):
        try:
            return self.vectors[self.key_to_index[str(key)]]
        except KeyError:
            raise KeyError(f"{key!r} has no vector") from None

    def _normalised(self):
        if self._unit is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit = self.vectors / np.maximum(norms, 1e-12)
        return self._unit

    def similarity(self, a, b):
        unit = self._normalised()
        return float(unit[self.key_to_index[str(a)]] @ unit[self.key_to_index[str(b)]])

    def most_similar(self, key, topn=10):
        """The topn keys by cosine similarity to key's vector, as (key, score) pairs (exact)."""
        unit = self._normalised()
        row = self.key_to_index[str(key)]
        scores = unit @ unit[row]
        scores[row] = -np.inf
        best = np.argsort(-scores)[:topn]
        return [(self.index_to_key[i], float(scores[i])) for i in best]

    def save_word2vec_format(self, path, binary=False):
        self._native.save(os.fspath(path), "word2vec-binary" if binary else "word2vec")

    def save(self, path):
        """graphrec's checksummed .emb (input and output vectors)."""
        self._native.save(os.fspath(path), "native")

    def to_gensim(self):
        """A gensim KeyedVectors with the same keys and vectors (needs gensim)."""
        from gensim.models import KeyedVectors
        kv = KeyedVectors(self.vector_size)
        kv.add_vectors(self.index_to_key, self.vectors)
        return kv


def load_vectors(path):
    """Reads vectors: graphrec's .emb, word2vec text or word2vec binary."""
    return Vectors(_graphrec.load_vectors(os.fspath(path)))


def embed(graph, dimensions=128, window_size=10, negatives=5, epochs=1, learning_rate=0.025, subsample=1e-3,
          num_walks=10, walk_length=80, p=1.0, q=1.0, weighted=False, direction="both", kind="auto", metapath=None,
          seed=1, workers=0):
    """Walks streamed into skip-gram training, as `graphrec embed`: one Vectors.
    With workers=1 the same seed gives the same vectors."""
    native = _graphrec.embed(graph._native, *_walk_args(kind, num_walks, walk_length, p, q, weighted, direction,
                                                        metapath, seed, workers),
                             dimensions, window_size, negatives, epochs, float(learning_rate), float(subsample))
    if graph.names is not None:
        native.name_rows(graph.names)
    return Vectors(native)


class Index:
    """A nearest-neighbour index over vectors (HNSW, or exact), graphrec's own."""

    def __init__(self, native):
        self._native = native

    @classmethod
    def build(cls, vectors, ids, metric="cosine", m=16, ef_construction=200, ef_search=64, exact=False,
              precision="float32", seed=100, workers=0):
        """vectors: (n, dim) floats; ids: n distinct unsigned integers; metric 'cosine' or 'ip'."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.uint64)
        return cls(_graphrec.build_index(vectors, ids, metric, m, ef_construction, ef_search, exact, precision,
                                         seed, workers))

    @classmethod
    def load(cls, path):
        """Reads a graphrec index file (a version's accounts.hnsw, authors.hnsw, posts.hnsw)."""
        return cls(_graphrec.load_index(os.fspath(path)))

    def save(self, path):
        self._native.save(os.fspath(path))

    def __len__(self):
        return len(self._native)

    dim = property(lambda self: self._native.dim)
    metric = property(lambda self: self._native.metric)
    ids = property(lambda self: self._native.ids)

    def set_ef_search(self, ef):
        self._native.set_ef_search(ef)

    def search(self, query, k=10):
        """The k nearest items: (ids uint64, scores float32), best first."""
        return self._native.search(np.ascontiguousarray(query, dtype=np.float32), k)

    def vector(self, id):
        """The vector stored for id (cosine indices store it normalised)."""
        return self._native.vector(int(id))


class Version:
    """One published version of an artifacts directory (what the batch wrote)."""

    def __init__(self, artifacts, version):
        self.artifacts = os.fspath(artifacts)
        self.name = version
        self.path = _graphrec.version_dir(self.artifacts, version)
        text = _graphrec.read_manifest(self.artifacts, version)
        self.manifest = json.loads(text) if text else {}
        self._vectors = None

    @property
    def vectors(self):
        """The account vectors (input; output_vectors for the context ones)."""
        if self._vectors is None:
            self._vectors = load_vectors(os.path.join(self.path, _graphrec.ACCOUNTS_EMBEDDING_FILE))
        return self._vectors

    def graph(self):
        return Graph.from_snapshot(os.path.join(self.path, _graphrec.GRAPH_FILE))

    def index(self, kind="accounts"):
        """The version's recall index: accounts (similar accounts), authors or posts."""
        return Index.load(os.path.join(self.path, _graphrec.index_file_name(kind)))

    def __repr__(self):
        return f"<graphrec.Version {self.name} of {self.artifacts}>"


def open_version(artifacts, version=None):
    """The live version of an artifacts directory (the one CURRENT names), or `version`."""
    artifacts = os.fspath(artifacts)
    if version is None:
        version = _graphrec.current_version(artifacts)
        if not version:
            raise Error(f"{artifacts} has no published version (no CURRENT)")
    return Version(artifacts, version)


def __getattr__(name):
    # The client needs grpcio; it is imported on first use only.
    if name == "Client":
        from .client import Client
        return Client
    raise AttributeError(name)
