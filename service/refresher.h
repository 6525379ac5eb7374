// Account vectors refreshed between nightly versions (real time, part 2):
// each pass takes the accounts events touched since the last one
// (LiveEvents::TakeTouched) and, for those whose follows or followers
// changed since the version, refreshes their input vectors with short
// uniform walks over the live graph (along follows, both directions, as the
// batch's walks) and skip-gram updates of those rows only
// (embed/row_refresh.h; contexts and negatives are the version's output
// vectors, frozen). A new account starts from the mean of its neighbours'
// vectors. Each pass publishes a new immutable set of vectors, so readers
// never see a half-written one; a new version starts an empty set (it
// supersedes the refreshed state, and the events after its watermark are
// replayed and touched again).
//
// The service answers GetEmbeddings with them and searches with them for
// the account's own recall. Not yet: the HNSW entries updated in place (so
// others find a refreshed account by its new vector), post vectors, drift
// between the refreshed and the nightly vectors (issue 19).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/alias_table.h"
#include "embed/row_refresh.h"
#include "service/live_events.h"

namespace gr::service {

struct RefreshedVectors {
  std::string version;  // the version they refine
  // Input vectors of refreshed accounts (new accounts included).
  std::unordered_map<ExternalId, std::shared_ptr<const std::vector<float>>> input;
  uint64_t passes = 0;  // passes over this version so far

  // The account's refreshed input vector, or null.
  const std::vector<float>* Find(const std::string& model_version, ExternalId account) const;
};

struct RefreshPassReport {
  uint64_t touched = 0, refreshed = 0, new_accounts = 0;
  uint64_t unchanged = 0;  // touched, but no follow added (by an interaction, a post or an unfollow)
  uint64_t skipped = 0;    // a new account without a known neighbour
  double seconds = 0;
};

class Refresher {
 public:
  explicit Refresher(const embed::RowRefreshConfig& config, uint32_t walk_length = 11);

  // One pass over `touched` (accounts; posts are not refreshed yet) on
  // `live` (the live graph of its model). Call from one thread at a time.
  RefreshPassReport Pass(const LiveState& live, const Touched& touched);

  std::shared_ptr<const RefreshedVectors> vectors() const { return vectors_.load(); }

  // For /metrics: passes and accounts refreshed since start, and when the
  // last pass ended (Unix seconds, 0 = none yet) and how long it took.
  uint64_t passes() const { return passes_.load(); }
  uint64_t refreshed_accounts() const { return refreshed_accounts_.load(); }
  double last_pass_end() const { return last_pass_end_.load(); }
  double last_pass_seconds() const { return last_pass_seconds_.load(); }

 private:
  void RecordPass(RefreshPassReport& report, std::chrono::steady_clock::time_point start);

  const embed::RowRefreshConfig config_;
  const uint32_t walk_length_;
  std::atomic<std::shared_ptr<const RefreshedVectors>> vectors_;
  std::atomic<uint64_t> passes_{0}, refreshed_accounts_{0};
  std::atomic<double> last_pass_end_{0}, last_pass_seconds_{0};
  // Negatives of the current version: its accounts by degree^0.75.
  std::string negatives_version_;
  AliasTable negatives_;
};

}  // namespace gr::service
