// Global dense ids for accounts spread over MPI ranks (issue 20): the number
// graph::IdMap would give each account if one process held them all (dense
// ids ascend with external ids), without any rank holding every id. The
// single-process walk engine seeds walk `round` of a start by its dense id,
// so distributed walks need these to reproduce its corpus.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <vector>

#include "core/ids.h"

namespace gr::dist {

// Collective over `comm`. `accounts`: this rank's ids, strictly ascending,
// disjoint from every other rank's. Returns their global dense ids (parallel
// to `accounts`); `*total` (if given) gets the number of accounts on all
// ranks. A sample sort: each rank sends its ids to the owner of their id
// range (splitters from a sample of every rank's ids), range owners number
// them after the ranges before theirs (an exclusive prefix sum), and the
// numbers travel back. Memory and traffic per rank: O(accounts / N) plus a
// sample of 64 ids per rank from each rank. Throws kInvalidArgument beyond
// 2^32 - 1 accounts in all (VertexId's range).
std::vector<VertexId> GlobalDenseIds(std::span<const ExternalId> accounts, MPI_Comm comm, uint64_t* total = nullptr);

// Collective over `comm`: every rank's `accounts` on rank 0, ascending (the
// dense order: row i of a distributed table is account i); empty elsewhere.
std::vector<ExternalId> GatherAccountsOnRoot(std::span<const ExternalId> accounts, MPI_Comm comm);

}  // namespace gr::dist
