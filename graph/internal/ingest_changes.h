// Internal to graph/: folding GraphChanges (graph/ingest.h) into the records
// an ingest read from its files, before the graph is built.
#pragma once

#include <span>
#include <vector>

#include "core/bulk_vector.h"
#include "graph/ingest.h"

namespace gr::graph::internal {

// Appends the changes' interactions, posts the records lack and accounts
// (to lone_accounts), and settles each followed or unfollowed pair: an
// unfollow removes the files' follows of the pair, and the pair's last
// follow (if after the last unfollow, or the files lack the pair) is added
// with its time. Counts in rep.changes and rep.follows_removed.
void ApplyChanges(std::span<const GraphChange> changes, BulkVector<FollowRecord>& follows,
                  BulkVector<InteractionRecord>& interactions, BulkVector<PostRecord>& posts,
                  std::vector<ExternalId>& lone_accounts, IngestReport& rep);

}  // namespace gr::graph::internal
