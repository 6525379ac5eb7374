// graphrec._graphrec: the C++ libraries as a Python extension (pybind11).
// Arrays cross without copies where the layout allows: vectors and walks are
// handed to numpy as views of the C++ buffers they live in (the array keeps
// its owner alive); inputs are read through the caller's buffer. The Python
// API users call is graphrec/__init__.py; this module is its engine.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "embed/embedding_io.h"
#include "embed/skip_gram.h"
#include "graph/ingest.h"
#include "graph/snapshot.h"
#include "recall/index_io.h"
#include "recall/vector_index.h"
#include "version/version_store.h"
#include "walk/random_walk.h"

namespace py = pybind11;

namespace gr::python {
namespace {

// A numpy view of `data` that keeps `owner` (a shared_ptr) alive.
template <typename T, typename Owner>
py::array_t<T> View(const std::shared_ptr<Owner>& owner, const T* data, std::vector<py::ssize_t> shape) {
  auto* keep = new std::shared_ptr<Owner>(owner);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Owner>*>(p); });
  std::vector<py::ssize_t> strides(shape.size(), static_cast<py::ssize_t>(sizeof(T)));
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  py::array_t<T> array(shape, strides, data, base);
  py::detail::array_proxy(array.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return array;
}

using Graph = std::shared_ptr<graph::SocialGraph>;
using Table = std::shared_ptr<embed::EmbeddingTable>;

template <typename T>
std::span<const T> Span(const py::array_t<T, py::array::c_style | py::array::forcecast>& array, const char* name) {
  if (array.ndim() != 1) throw py::value_error(std::string(name) + " must be one-dimensional");
  return {array.data(), static_cast<size_t>(array.size())};
}

walk::WalkConfig MakeWalkConfig(const std::string& kind, uint32_t num_walks, uint32_t walk_length, double p, double q,
                                bool weighted, const std::string& direction, const std::string& metapath,
                                uint64_t seed, int workers) {
  walk::WalkConfig config;
  config.walks_per_vertex = num_walks;
  config.walk_length = walk_length;
  config.p = p;
  config.q = q;
  config.weighted = weighted;
  config.metapath = metapath;
  config.seed = seed;
  config.threads = workers;
  if (kind == "uniform") config.kind = walk::WalkKind::kUniform;
  else if (kind == "weighted") config.kind = walk::WalkKind::kWeighted;
  else if (kind == "node2vec") config.kind = walk::WalkKind::kNode2vec;
  else if (kind == "metapath") config.kind = walk::WalkKind::kMetapath;
  else GR_THROW(ErrorCode::kInvalidArgument, "kind must be uniform, weighted, node2vec or metapath, not '", kind, "'");
  if (direction == "out") config.direction = walk::Direction::kOut;
  else if (direction == "in") config.direction = walk::Direction::kIn;
  else if (direction == "both") config.direction = walk::Direction::kBoth;
  else GR_THROW(ErrorCode::kInvalidArgument, "direction must be out, in or both, not '", direction, "'");
  config.Validate();
  return config;
}

// Walks as one token array and offsets, keys as strings (accounts: the id,
// posts: "p" + id), so metapath walks keep accounts and posts apart.
struct Walks {
  std::shared_ptr<walk::WalkCorpus> corpus;
  std::vector<std::string> keys;  // per token id
};

Walks RunWalks(const Graph& g, const walk::WalkConfig& config) {
  const walk::RandomWalker walker(*g, config);
  Walks walks;
  walks.corpus = std::make_shared<walk::WalkCorpus>(walker.Generate(0, walker.num_walks(), nullptr));
  walks.keys.reserve(walker.vocabulary_size());
  for (VertexId t = 0; t < walker.vocabulary_size(); ++t) walks.keys.push_back(walker.TokenText(t));
  return walks;
}

py::array_t<float> Vectors(const Table& table, bool output) {
  const FloatMatrix& m = output ? table->output : table->input;
  if (output && m.rows() != table->rows()) throw py::value_error("these vectors have no output (context) vectors");
  return View(table, m.Data().data(), {static_cast<py::ssize_t>(m.rows()), static_cast<py::ssize_t>(m.cols())});
}

std::shared_ptr<recall::VectorIndex> BuildIndex(
    py::array_t<float, py::array::c_style | py::array::forcecast> vectors,
    py::array_t<uint64_t, py::array::c_style | py::array::forcecast> ids, const std::string& metric, uint32_t m,
    uint32_t ef_construction, uint32_t ef_search, bool exact, const std::string& precision, uint64_t seed,
    int workers) {
  if (vectors.ndim() != 2) throw py::value_error("vectors must be a (rows, dim) array");
  const auto id_span = Span(ids, "ids");
  FloatMatrix matrix(static_cast<size_t>(vectors.shape(0)), static_cast<size_t>(vectors.shape(1)));
  std::copy(vectors.data(), vectors.data() + vectors.size(), matrix.Data().begin());
  recall::IndexConfig config;
  config.kind = exact ? recall::IndexKind::kExact : recall::IndexKind::kHnsw;
  if (metric == "cosine") config.metric = recall::Metric::kCosine;
  else if (metric == "ip") config.metric = recall::Metric::kInnerProduct;
  else GR_THROW(ErrorCode::kInvalidArgument, "metric must be cosine or ip, not '", metric, "'");
  config.m = m;
  config.ef_construction = ef_construction;
  config.ef_search = ef_search;
  config.precision = recall::ParsePrecision(precision);
  config.seed = seed;
  config.threads = workers;
  py::gil_scoped_release release;
  return recall::VectorIndex::Build({id_span.begin(), id_span.end()}, matrix, config);
}

py::tuple Search(const recall::VectorIndex& index, py::array_t<float, py::array::c_style | py::array::forcecast> query,
                 size_t k) {
  const auto q = Span(query, "query");
  if (q.size() != index.dim())
    throw py::value_error("query has " + std::to_string(q.size()) + " values, the index " + std::to_string(index.dim()));
  std::vector<recall::ScoredItem> hits;
  {
    py::gil_scoped_release release;
    hits = index.Search(q, k, {});
  }
  py::array_t<uint64_t> ids(static_cast<py::ssize_t>(hits.size()));
  py::array_t<float> scores(static_cast<py::ssize_t>(hits.size()));
  for (size_t i = 0; i < hits.size(); ++i) {
    ids.mutable_at(i) = index.id(hits[i].item);
    scores.mutable_at(i) = hits[i].score;
  }
  return py::make_tuple(ids, scores);
}

}  // namespace
}  // namespace gr::python

PYBIND11_MODULE(_graphrec, m) {
  using namespace gr;           // NOLINT: the module body names every library
  using namespace gr::python;   // NOLINT
  m.doc() = "graphrec's C++ engine; use the graphrec package's API";
  static py::exception<Error> error(m, "Error", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      // Bad input is a ValueError, anything else graphrec.Error.
      if (e.code() == ErrorCode::kInvalidArgument) {
        PyErr_SetString(PyExc_ValueError, e.what());
      } else {
        error(e.what());
      }
    }
  });

  py::class_<graph::SocialGraph, Graph>(m, "Graph")
      .def_property_readonly("num_vertices", &graph::SocialGraph::num_accounts)
      .def_property_readonly("num_edges", [](const graph::SocialGraph& g) { return g.following.num_edges(); })
      .def_property_readonly("num_posts", &graph::SocialGraph::num_posts)
      .def_property_readonly("directed", [](const graph::SocialGraph& g) { return !g.undirected; })
      .def_property_readonly("ids", [](const Graph& g) {
        const auto ids = g->accounts.external_ids();
        return View(g, ids.data(), {static_cast<py::ssize_t>(ids.size())});
      });

  m.def("load_edge_list", [](const std::string& path, bool directed, const std::string& header) {
    const graph::IngestConfig config{.header = graph::ParseHeaderPolicy(header)};
    py::gil_scoped_release release;
    return std::make_shared<graph::SocialGraph>(graph::LoadEdgeList(path, directed, config));
  }, py::arg("path"), py::arg("directed"), py::arg("header"));
  m.def("load_edge_list_with_string_ids", [](const std::string& path, bool directed, const std::string& header) {
    const graph::IngestConfig config{.header = graph::ParseHeaderPolicy(header)};
    std::vector<std::string> names;
    Graph g;
    {
      py::gil_scoped_release release;
      g = std::make_shared<graph::SocialGraph>(graph::LoadEdgeListWithStringIds(path, directed, config, &names));
    }
    return py::make_tuple(g, names);
  }, py::arg("path"), py::arg("directed"), py::arg("header"));
  m.def("load_snapshot", [](const std::string& path) {
    py::gil_scoped_release release;
    return std::make_shared<graph::SocialGraph>(graph::LoadSnapshot(path));
  }, py::arg("path"));
  m.def("graph_from_arrays", [](py::array_t<uint64_t, py::array::c_style | py::array::forcecast> src,
                                py::array_t<uint64_t, py::array::c_style | py::array::forcecast> dst,
                                std::optional<py::array_t<float, py::array::c_style | py::array::forcecast>> weights,
                                bool directed) {
    const auto s = Span(src, "src"), d = Span(dst, "dst");
    const auto w = weights ? Span(*weights, "weights") : std::span<const float>();
    py::gil_scoped_release release;
    return std::make_shared<graph::SocialGraph>(graph::EdgeListGraph(s, d, w, directed));
  }, py::arg("src"), py::arg("dst"), py::arg("weights"), py::arg("directed"));

  py::class_<Walks>(m, "Walks")
      .def("__len__", [](const Walks& w) { return w.corpus->num_walks(); })
      .def_property_readonly("tokens", [](const Walks& w) {
        return View(w.corpus, w.corpus->tokens.data(), {static_cast<py::ssize_t>(w.corpus->tokens.size())});
      })
      .def_property_readonly("offsets", [](const Walks& w) {
        return View(w.corpus, w.corpus->offsets.data(), {static_cast<py::ssize_t>(w.corpus->offsets.size())});
      })
      .def_readonly("keys", &Walks::keys);
  m.def("walk", [](const Graph& g, const std::string& kind, uint32_t num_walks, uint32_t walk_length, double p,
                   double q, bool weighted, const std::string& direction, const std::string& metapath, uint64_t seed,
                   int workers) {
    const auto config = MakeWalkConfig(kind, num_walks, walk_length, p, q, weighted, direction, metapath, seed, workers);
    py::gil_scoped_release release;
    return RunWalks(g, config);
  });

  py::class_<embed::EmbeddingTable, Table>(m, "Vectors")
      .def_property_readonly("ids", [](const Table& t) {
        return View(t, t->ids.data(), {static_cast<py::ssize_t>(t->ids.size())});
      })
      .def_property_readonly("keys", [](const Table& t) {
        std::vector<std::string> keys;
        keys.reserve(t->rows());
        for (size_t r = 0; r < t->rows(); ++r) keys.push_back(t->Key(r));
        return keys;
      })
      .def_property_readonly("has_output", [](const Table& t) { return t->output.rows() == t->rows(); })
      .def("input", [](const Table& t) { return Vectors(t, false); })
      .def("name_rows", [](const Table& t, const std::vector<std::string>& names) {
        // Keys from the graph's string ids: row r is names[ids[r]].
        std::vector<std::string> rows;
        rows.reserve(t->rows());
        for (const ExternalId id : t->ids) {
          if (id >= names.size()) throw py::value_error("an id without a name: " + std::to_string(id));
          rows.push_back(names[id]);
        }
        t->names = std::move(rows);
      })
      .def("output", [](const Table& t) { return Vectors(t, true); })
      .def("save", [](const Table& t, const std::string& path, const std::string& format) {
        py::gil_scoped_release release;
        if (format == "word2vec") embed::SaveWord2VecText(*t, path);
        else if (format == "word2vec-binary") embed::SaveWord2VecBinary(*t, path);
        else if (format == "native") embed::SaveEmbeddings(*t, path);
        else GR_THROW(ErrorCode::kInvalidArgument, "format must be word2vec, word2vec-binary or native, not '", format, "'");
      }, py::arg("path"), py::arg("format"));
  m.def("load_vectors", [](const std::string& path) {
    py::gil_scoped_release release;
    return std::make_shared<embed::EmbeddingTable>(embed::LoadAnyEmbeddings(path));
  }, py::arg("path"));
  m.def("embed", [](const Graph& g, const std::string& kind, uint32_t num_walks, uint32_t walk_length, double p,
                    double q, bool weighted, const std::string& direction, const std::string& metapath, uint64_t seed,
                    int workers, uint32_t dimensions, uint32_t window_size, uint32_t negatives, uint32_t epochs,
                    float learning_rate, double subsample) {
    const auto walks = MakeWalkConfig(kind, num_walks, walk_length, p, q, weighted, direction, metapath, seed, workers);
    embed::SkipGramConfig training;
    training.dim = dimensions;
    training.window = window_size;
    training.negatives = negatives;
    training.epochs = epochs;
    training.learning_rate = learning_rate;
    training.subsample = subsample;
    training.threads = workers;
    training.Validate();
    py::gil_scoped_release release;
    return std::make_shared<embed::EmbeddingTable>(embed::EmbedWalks(*g, walks, training));
  });

  py::class_<recall::VectorIndex, std::shared_ptr<recall::VectorIndex>>(m, "Index")
      .def("__len__", &recall::VectorIndex::size)
      .def_property_readonly("dim", &recall::VectorIndex::dim)
      .def_property_readonly("metric", [](const recall::VectorIndex& i) { return std::string(recall::MetricName(i.config().metric)); })
      .def_property_readonly("kind", [](const recall::VectorIndex& i) { return std::string(recall::IndexKindName(i.config().kind)); })
      .def_property_readonly("ids", [](const std::shared_ptr<recall::VectorIndex>& i) {
        return View(i, i->ids().data(), {static_cast<py::ssize_t>(i->size())});
      })
      .def("set_ef_search", &recall::VectorIndex::SetEfSearch)
      .def("search", &Search, py::arg("query"), py::arg("k"))
      .def("vector", [](const recall::VectorIndex& i, uint64_t id) {
        const uint32_t item = i.Find(id);
        if (item == kNoVertex) throw py::key_error(std::to_string(id));
        return py::array_t<float>(py::cast(i.Vector(item)));
      })
      .def("save", [](const recall::VectorIndex& i, const std::string& path) {
        py::gil_scoped_release release;
        recall::SaveIndex(i, path);
      });
  m.def("build_index", &BuildIndex);
  m.def("load_index", [](const std::string& path) {
    py::gil_scoped_release release;
    return std::shared_ptr<recall::VectorIndex>(recall::LoadIndex(path));
  });

  m.def("current_version", &version::ReadCurrentVersion, py::arg("artifacts"));
  m.def("read_manifest", &version::ReadManifest, py::arg("artifacts"), py::arg("version"));
  m.def("version_dir", &version::VersionDir, py::arg("artifacts"), py::arg("version"));
  m.def("index_file_name", [](const std::string& kind) {
    if (kind == "accounts") return std::string(version::IndexFileName(version::IndexFile::kAccounts));
    if (kind == "authors") return std::string(version::IndexFileName(version::IndexFile::kAuthors));
    if (kind == "posts") return std::string(version::IndexFileName(version::IndexFile::kPosts));
    throw py::value_error("index must be accounts, authors or posts, not '" + kind + "'");
  });
  m.attr("ACCOUNTS_EMBEDDING_FILE") = version::kAccountsEmbeddingFile;
  m.attr("GRAPH_FILE") = version::kGraphFile;
}
