// Random walks over the graph store, the corpus that skip-gram trains on.
//
// Kinds: uniform (DeepWalk), weighted by edge weight (per-vertex alias
// tables, O(1) per step), node2vec (second order, return parameter p,
// in-out parameter q) by rejection sampling as in KnightKing: a candidate
// from the first-order distribution is accepted with probability
// bias / envelope, the "is x a neighbour of prev" test being a filter of
// prev's neighbour ids, then a search of prev's sorted lists (no per-edge
// second-order tables, so celebrity degrees cost nothing extra); and
// metapath walks over the heterogeneous graph (accounts and posts).
//
// Memory beyond the graph: alias tables when weighted (8 bytes per edge
// per direction); for account walks a record per account (where its lists
// start, their lengths: 16 bytes; 64 for node2vec, with the filter); one
// batch of walks (batch x walk length tokens). The constructor moves the
// arrays a step reads at random onto huge pages (core/huge_pages.h).
//
// Reproducibility: walk number i is a pure function of (seed, i): its start
// vertex comes from a per-round permutation seeded by (seed, round), its
// steps from FastRng::ForItem(seed, start, round). The corpus is therefore the
// same whatever the thread count.
//
// A RandomWalker is immutable after construction and safe to use from many
// threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "graph/social_graph.h"
#include "walk/walk_config.h"

namespace gr {
class SequentialFileWriter;
}

namespace gr::walk {

// Walk tokens: account walks use dense account ids; metapath walks use one
// token space, accounts [0, A) then posts [A, A + P).
struct WalkCorpus {
  std::vector<VertexId> tokens;                 // all walks, concatenated
  std::vector<uint64_t> offsets{0};             // walk i is tokens[offsets[i] .. offsets[i+1])
  size_t num_walks() const { return offsets.size() - 1; }
  std::span<const VertexId> Walk(size_t i) const {
    return {tokens.data() + offsets[i], static_cast<size_t>(offsets[i + 1] - offsets[i])};
  }
};

struct WalkStats {
  uint64_t walks = 0;
  uint64_t steps = 0;              // tokens emitted
  uint64_t ended_early = 0;        // walks stopped at a dead end
  uint64_t isolated_starts = 0;    // start vertices with no edge to take
  uint64_t rejected_proposals = 0; // node2vec rejection-sampling misses
};

class RandomWalker {
 public:
  // Builds sampling tables (alias tables when weighted). The graph must
  // outlive the walker. Throws kInvalidArgument for a bad config or a
  // metapath that does not fit the graph.
  RandomWalker(const graph::SocialGraph& graph, const WalkConfig& config);
  ~RandomWalker();
  RandomWalker(const RandomWalker&) = delete;
  RandomWalker& operator=(const RandomWalker&) = delete;

  const WalkConfig& config() const { return config_; }
  // Walks in the whole corpus: walks_per_vertex x start vertices.
  uint64_t num_walks() const;
  // Tokens in the walk vocabulary (accounts, or accounts + posts).
  size_t vocabulary_size() const;
  // A token as text: an account is its decimal id, a post "p<id>" (the keys
  // of embed/'s word2vec files).
  std::string TokenText(VertexId token) const;

  // Writes walk `index` (< num_walks()) into `out` (walk_length slots) and
  // returns its length (shorter if it hit a dead end). Updates *stats.
  size_t Walk(uint64_t index, std::span<VertexId> out, WalkStats* stats) const;

  // Writes the walk of round `round` (< walks_per_vertex for the corpus's
  // own) from start vertex `start` (an account, or a post for metapaths
  // starting at posts): the corpus's walk of that vertex and round, so
  // walks from chosen vertices match the corpus without generating it.
  size_t WalkFrom(VertexId start, uint64_t round, std::span<VertexId> out, WalkStats* stats) const;

  // Generates walks [begin, end) in parallel into one corpus, in index order.
  WalkCorpus Generate(uint64_t begin, uint64_t end, WalkStats* stats) const;

  // Streams the whole corpus in batches of about `batch_walks` walks, in
  // index order; each batch is generated in parallel. sink may throw.
  void ForEachBatch(uint64_t batch_walks, const std::function<void(const WalkCorpus&)>& sink,
                    WalkStats* stats) const;

 private:
  struct Impl;
  WalkConfig config_;
  std::unique_ptr<Impl> impl_;
};

// Writes walks as text: one line per walk, tokens (walker.TokenText)
// separated by one space. Every token's text is formatted once, into a
// table of fixed-width slots, so a walk is written by copying slots; the
// lines of a corpus are assembled in parallel, one buffer per part, and
// written in corpus order by a background thread (one large write per part)
// while the caller generates and formats the next corpus. Not thread-safe;
// the walker must outlive it.
class WalkTextWriter {
 public:
  // token_text: a token's text (up to 255 bytes; default walker.TokenText),
  // e.g. an account's name when the input had string ids.
  explicit WalkTextWriter(const RandomWalker& walker,
                          const std::function<std::string(VertexId)>& token_text = nullptr);
  ~WalkTextWriter();  // waits for a write in flight (its error is lost: call Flush)
  WalkTextWriter(const WalkTextWriter&) = delete;
  WalkTextWriter& operator=(const WalkTextWriter&) = delete;

  // Formats corpus's walks on `threads` threads (0 = all) and starts
  // appending them to out; waits for the previous corpus's write first.
  // Throws kIo if a previous write failed. `out` must outlive the writer.
  void Write(const WalkCorpus& corpus, SequentialFileWriter& out, int threads = 0);
  // Waits until everything written so far is appended to `out`; throws kIo
  // naming the failure.
  void Flush();

 private:
  struct Part {
    std::unique_ptr<char[]> bytes;
    size_t capacity = 0, size = 0;
  };
  void Format(const WalkCorpus& corpus, std::vector<Part>& parts, int threads) const;

  std::vector<char> texts_;        // token t's text at t * slot_, zero-padded, plus slack
  std::vector<uint8_t> lengths_;   // per token
  size_t slot_ = 0;                // bytes per slot: the longest text rounded up to 8
  size_t copy_bytes_ = 0;          // bytes copied per token: 32, or the slot if wider
  std::vector<Part> parts_[2];     // one set being written, one being formatted
  int formatting_ = 0;             // index of the set Write formats into
  std::thread writer_;             // writes parts_[1 - formatting_]
  std::string write_error_;        // set by writer_
};


}  // namespace gr::walk
