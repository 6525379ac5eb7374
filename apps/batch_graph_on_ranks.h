// The nightly batch's graph partitioned across the ranks of an mpirun run
// (issue 20; built with MPI only): pipeline::BatchGraph on rank 0 whose
// every step all ranks run with dist/'s collectives, so that no rank reads
// or holds the whole graph while the batch ingests, holds out, walks and
// trains, checks the held-out links, folds them in and collects the index
// items. Rank 0 keeps the table (training gathers it there); each rank saves
// its part of the snapshot (version::GraphPartPath), which
// version::LoadGraph merges for the stages that still need the whole graph
// (the ranker's features).
//
// Every rank reads the input and writes into the artifact directory, so both
// must be on storage every rank sees (EveryRankSeesTheFiles); `graphrec
// batch` falls back to the graph on rank 0 when they are not.
#pragma once

#include <mpi.h>

#include <memory>

#include "apps/walk_flags.h"
#include "pipeline/batch.h"
#include "pipeline/batch_graph.h"

namespace gr::apps {

// Collective: whether every rank sees config.input_dir's files, all plain
// text (a gzip stream cannot be split between readers), and the files rank
// 0 writes into config.artifacts_dir (a probe file it writes and removes).
// The same answer on every rank; rank 0 logs why not.
bool EveryRankSeesTheFiles(const pipeline::BatchConfig& config, MPI_Comm comm);

// Rank 0: the batch's graph on every rank of `comm`, the others in
// FollowBatchGraph with the same `config` (the run's, after
// WithRunOptions; the first step checks that every rank has it) and flags.
std::unique_ptr<pipeline::BatchGraph> MakeBatchGraphOnRanks(const pipeline::BatchConfig& config,
                                                            const DistributedTrainingFlags& flags, MPI_Comm comm);

// Ranks 1..N-1: run rank 0's BatchGraph steps, and the training and index
// shards it asks for (dist::FollowRootTraining), until dist::StopRanks.
void FollowBatchGraph(const pipeline::BatchConfig& config, const DistributedTrainingFlags& flags, MPI_Comm comm);

}  // namespace gr::apps
