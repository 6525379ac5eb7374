// Account vectors refreshed between nightly versions (real time, part 2):
// each pass takes the accounts events touched since the last one
// (LiveEvents::TakeTouched) and, for those whose follows or followers
// changed since the version, refreshes their input vectors (each time from
// the version's, over the neighbourhood as it now is) with short walks over
// the live graph (along follows, both directions, as the batch's
// walks; a share of them starting along the row's new follows) and
// skip-gram updates of those rows only
// (embed/row_refresh.h; contexts and negatives are the version's output
// vectors, frozen). A new account starts from the mean of its neighbours'
// vectors, every time. Each pass publishes a new immutable set of vectors, so readers
// never see a half-written one; a new version starts an empty set (it
// supersedes the refreshed state, and the events after its watermark are
// replayed and touched again).
//
// The service answers GetEmbeddings with them and searches with them for
// the account's own recall. Each pass also updates the version's indices in
// place (recall::Recaller::Update), so others find a refreshed account by
// its new vector: the accounts index gets every refreshed input vector; the
// authors index gains accounts that posted since the version (their output
// vector, or for a new account the mean of its neighbours' output
// vectors); the posts index gets every touched post without a trained row
// (new posts, and cold ones with new engagers) by the post-vector rule
// (embed/graph_vectors.h) over the live graph and the refreshed vectors.
// An index shard's server (which follows the log) refreshes the same
// vectors but adds to its indices only the ids of its shard.
//
// When a new version supersedes the refreshed state, the first pass over it
// reports the drift: for the accounts refreshed over the old version, the
// mean cosine of their refreshed vectors, and of the old version's, to the
// new version's (the refresher moved the right way when the first is the
// higher; versions warm-started from each other share one space).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/alias_table.h"
#include "embed/graph_vectors.h"
#include "embed/row_refresh.h"
#include "service/live_events.h"

namespace gr::service {

struct RefreshedVectors {
  std::string version;  // the version they refine
  // Input vectors of refreshed accounts (new accounts included).
  std::unordered_map<ExternalId, std::shared_ptr<const std::vector<float>>> input;
  // The version's own input vector of each refreshed account that had one
  // (for the drift against the next version).
  std::unordered_map<ExternalId, std::shared_ptr<const std::vector<float>>> version_input;
  uint64_t passes = 0;  // passes over this version so far

  // The account's refreshed input vector, or null.
  const std::vector<float>* Find(const std::string& model_version, ExternalId account) const;
};

// Drift between the vectors refreshed over one version and the next
// version's (accounts in both).
struct RefreshDrift {
  std::string from_version, to_version;
  uint64_t accounts = 0;              // refreshed accounts the new version has vectors for
  double refreshed_cosine = 0;        // mean cos(refreshed, new version's)
  uint64_t stale_accounts = 0;        // of them, with a vector in the old version
  double stale_cosine = 0;            // mean cos(old version's, new version's) over those
};

struct RefreshPassReport {
  uint64_t touched = 0, refreshed = 0, new_accounts = 0;
  uint64_t unchanged = 0;  // touched, but no follow added (by an interaction, a post or an unfollow)
  uint64_t skipped = 0;    // a new account without a known neighbour
  uint64_t new_authors = 0;     // accounts added to the authors index
  uint64_t posts_indexed = 0;   // post vectors set by the rule (new posts and cold ones)
  std::optional<RefreshDrift> drift;  // on the first pass over a new version
  double seconds = 0;
  // Of it (a pass with work): choosing the rows and their starting vectors,
  // the walks and skip-gram updates, the index updates (accounts, authors,
  // posts), and copying the refreshed set to publish it.
  double setup_seconds = 0, training_seconds = 0, index_seconds = 0, publish_seconds = 0;
};

class Refresher {
 public:
  // config.new_edge_share: the share of each row's walks whose first hop is
  // one of its follows made since the version.
  explicit Refresher(const embed::RowRefreshConfig& config, uint32_t walk_length = 11,
                     const embed::PostVectorRule& post_rule = {});

  // One pass over `touched` on `live` (the live graph of its model);
  // updates live.model's indices in place. Call from one thread at a time.
  RefreshPassReport Pass(const LiveState& live, const Touched& touched);

  std::shared_ptr<const RefreshedVectors> vectors() const { return vectors_.load(); }

  // For /metrics: passes and accounts refreshed since start, and when the
  // last pass ended (Unix seconds, 0 = none yet) and how long it took.
  uint64_t passes() const { return passes_.load(); }
  uint64_t refreshed_accounts() const { return refreshed_accounts_.load(); }
  uint64_t indexed_posts() const { return indexed_posts_.load(); }
  // The last drift reported (null before the first new version).
  std::shared_ptr<const RefreshDrift> last_drift() const { return last_drift_.load(); }
  double last_pass_end() const { return last_pass_end_.load(); }
  double last_pass_seconds() const { return last_pass_seconds_.load(); }

 private:
  void RecordPass(RefreshPassReport& report, std::chrono::steady_clock::time_point start);
  // Adds accounts that post to the authors index, and sets touched posts'
  // rule vectors in the posts index.
  void UpdateAuthorsAndPosts(const LiveState& live, const Touched& touched, const RefreshedVectors& vectors,
                             RefreshPassReport& report);

  const embed::RowRefreshConfig config_;
  const uint32_t walk_length_;
  const embed::PostVectorRule post_rule_;  // the batch's (it builds the posts index with the default)
  std::atomic<std::shared_ptr<const RefreshedVectors>> vectors_;
  std::atomic<uint64_t> passes_{0}, refreshed_accounts_{0}, indexed_posts_{0};
  std::atomic<std::shared_ptr<const RefreshDrift>> last_drift_;
  std::atomic<double> last_pass_end_{0}, last_pass_seconds_{0};
  // Negatives of the current version: its accounts by degree^0.75.
  std::string negatives_version_;
  AliasTable negatives_;
  bool version_has_post_rows_ = false;  // of negatives_version_
};

}  // namespace gr::service
