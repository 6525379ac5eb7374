#include "dist/partitioned_skip_gram.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "core/alias_table.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/prefetch.h"
#include "core/rng.h"
#include "dist/mpi_session.h"
#include "embed/skip_gram_kernel.h"
#include "embed/warm_start.h"

namespace gr::dist {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

constexpr size_t kMaxFloatsPerMessage = size_t{1} << 28;  // MPI counts are ints

// Which partition holds dense id t, and its row there.
struct ModelPartitions {
  uint64_t accounts = 0;
  uint32_t count = 1;
  uint32_t PartitionOf(uint64_t token) const { return static_cast<uint32_t>(token % count); }
  uint32_t RowOf(uint64_t token) const { return static_cast<uint32_t>(token / count); }
  uint64_t TokenOf(uint32_t partition, uint64_t row) const { return row * count + partition; }
  size_t RowsOf(uint32_t partition) const {
    return accounts > partition ? static_cast<size_t>((accounts - partition - 1) / count + 1) : 0;
  }
};

// A centre's record, as sent to the centre's rank: the centre, the number
// of its contexts, the contexts (dense ids), 32-bit values.
//
// What one rank sends to each rank: the records of the centres that rank
// owns, made from this rank's walks of one pass, in training order.
// Deterministic whatever the thread count: walks are cut into contiguous
// ranges whose records are concatenated in range order.
struct RecordsToSend {
  std::vector<std::vector<uint32_t>> to_rank;  // per destination
  uint64_t kept_tokens = 0;                    // centre tokens kept after subsampling
};

RecordsToSend MakeRecords(const DistributedWalks& walks, std::span<const uint32_t> order, std::span<const float> keep,
                          const embed::SkipGramConfig& config, const ModelPartitions& partitions, uint32_t epoch) {
  const int threads = ResolveThreads(config.threads);
  const size_t ranges = static_cast<size_t>(std::max(1, threads)) * 4;
  std::vector<RecordsToSend> pieces(ranges);
  ParallelFor(static_cast<int64_t>(ranges), config.threads, 1, [&](int64_t piece) {
    RecordsToSend& out = pieces[static_cast<size_t>(piece)];
    out.to_rank.assign(partitions.count, {});
    std::vector<VertexId> kept;
    const size_t first = order.size() * static_cast<size_t>(piece) / ranges;
    const size_t end = order.size() * static_cast<size_t>(piece + 1) / ranges;
    for (size_t o = first; o < end; ++o) {
      const uint32_t i = order[o];
      // The same seeding as the single-process trainer's walks: by walk key and epoch.
      Rng rng = Rng::ForItem(config.seed ^ 0x5eed, walks.keys[i], epoch);
      kept.clear();
      embed::SubsampleWalk(std::span(walks.tokens).subspan(walks.offsets[i], walks.offsets[i + 1] - walks.offsets[i]),
                           keep, rng, kept);
      out.kept_tokens += kept.size();
      const size_t n = kept.size();
      if (n < 2) continue;
      for (size_t c = 0; c < n; ++c) {
        const auto window = static_cast<size_t>(1 + rng.Uniform(config.window));
        const size_t from = c >= window ? c - window : 0, to = std::min(n - 1, c + window);
        std::vector<uint32_t>& record = out.to_rank[partitions.PartitionOf(kept[c])];
        record.push_back(kept[c]);
        record.push_back(static_cast<uint32_t>(to - from));  // contexts: the window without the centre
        for (size_t j = from; j <= to; ++j)
          if (j != c) record.push_back(kept[j]);
      }
    }
  });
  RecordsToSend all;
  all.to_rank.assign(partitions.count, {});
  for (uint32_t r = 0; r < partitions.count; ++r) {
    size_t size = 0;
    for (const RecordsToSend& p : pieces) size += p.to_rank[r].size();
    all.to_rank[r].reserve(size);
    for (const RecordsToSend& p : pieces) all.to_rank[r].insert(all.to_rank[r].end(), p.to_rank[r].begin(), p.to_rank[r].end());
  }
  for (const RecordsToSend& p : pieces) all.kept_tokens += p.kept_tokens;
  return all;
}

// The records sent to this rank, and where each source rank's begin.
struct ReceivedRecords {
  std::vector<uint32_t> values;
  std::vector<size_t> source_starts;  // ranks + 1
};

// Sends each rank its records (32-bit values, two to a 64-bit one) and
// returns the records sent here, in source-rank order.
ReceivedRecords ExchangeRecords(const RecordsToSend& outgoing, MPI_Comm comm, uint64_t& bytes_sent) {
  const int ranks = Size(comm), self = Rank(comm);
  std::vector<uint64_t> values, counts(static_cast<size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    const std::vector<uint32_t>& out = outgoing.to_rank[static_cast<size_t>(r)];
    // Each destination's stream starts with its length in 32-bit values (it may be padded by one).
    values.push_back(out.size());
    const size_t words = (out.size() + 1) / 2;
    const size_t at = values.size();
    values.resize(at + words, 0);
    std::memcpy(values.data() + at, out.data(), out.size() * sizeof(uint32_t));
    counts[static_cast<size_t>(r)] = words + 1;
    if (r != self) bytes_sent += (words + 1) * sizeof(uint64_t);
  }
  std::vector<uint64_t> received_counts;
  const std::vector<uint64_t> received = ExchangeValues(values, counts, comm, &received_counts);
  ReceivedRecords records;
  records.source_starts.push_back(0);
  size_t at = 0;
  for (int r = 0; r < ranks; ++r) {
    const uint64_t length = received[at];
    const size_t before = records.values.size();
    records.values.resize(before + length);
    std::memcpy(records.values.data() + before, received.data() + at + 1, length * sizeof(uint32_t));
    records.source_starts.push_back(records.values.size());
    at += received_counts[static_cast<size_t>(r)];
  }
  return records;
}

// Where each record starts, the sources' records interleaved in proportion
// (each source's in its training order), so that the learning rate falls
// over every source's walks alike rather than rank 0's first.
std::vector<size_t> InterleavedRecordStarts(const ReceivedRecords& records) {
  std::vector<std::vector<size_t>> by_source(records.source_starts.size() - 1);
  for (size_t r = 0; r < by_source.size(); ++r) {
    for (size_t at = records.source_starts[r]; at < records.source_starts[r + 1];) {
      GR_CHECK_CODE(at + 2 <= records.source_starts[r + 1] &&
                        at + 2 + records.values[at + 1] <= records.source_starts[r + 1],
                    ErrorCode::kInternal, "a centre's record from rank ", r, " is cut short");
      by_source[r].push_back(at);
      at += 2 + records.values[at + 1];
    }
  }
  // Record i of a source of n sorts by (i + 0.5) / n, ties by source.
  std::vector<std::pair<double, size_t>> keyed;
  for (size_t r = 0; r < by_source.size(); ++r)
    for (size_t i = 0; i < by_source[r].size(); ++i)
      keyed.emplace_back((static_cast<double>(i) + 0.5) / static_cast<double>(by_source[r].size()), by_source[r][i]);
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<size_t> starts(keyed.size());
  for (size_t i = 0; i < keyed.size(); ++i) starts[i] = keyed[i].second;
  return starts;
}

// The records received, cut by the contexts' partitions: bucket p holds, per
// record with contexts in p, (record number, centre's row, contexts in p,
// their rows in p); piece i of bucket p starts at starts[p][i].
struct Buckets {
  std::vector<std::vector<uint32_t>> values;
  std::vector<std::vector<uint64_t>> starts;
  uint64_t pairs = 0;
  uint64_t Bytes() const {
    uint64_t bytes = 0;
    for (size_t p = 0; p < values.size(); ++p)
      bytes += values[p].size() * sizeof(uint32_t) + starts[p].size() * sizeof(uint64_t);
    return bytes;
  }
};

Buckets BucketRecords(const ReceivedRecords& received, const ModelPartitions& partitions, int self) {
  Buckets buckets;
  buckets.values.assign(partitions.count, {});
  buckets.starts.assign(partitions.count, {});
  std::vector<std::vector<uint32_t>> contexts_in(partitions.count);
  std::vector<uint32_t> touched;  // partitions of this record's contexts: work per record is its window's, not N
  const std::vector<uint32_t>& records = received.values;
  const std::vector<size_t> record_starts = InterleavedRecordStarts(received);
  GR_CHECK_CODE(record_starts.size() < UINT32_MAX, ErrorCode::kInternal,
                "more than 2^32 - 1 centres on one rank in one epoch");
  for (size_t number = 0; number < record_starts.size(); ++number) {
    const size_t at = record_starts[number];
    const uint32_t centre = records[at], contexts = records[at + 1];
    GR_CHECK_CODE(partitions.PartitionOf(centre) == static_cast<uint32_t>(self), ErrorCode::kInternal,
                  "centre ", centre, " sent to rank ", self);
    touched.clear();
    for (uint32_t j = 0; j < contexts; ++j) {
      const uint32_t context = records[at + 2 + j], p = partitions.PartitionOf(context);
      if (contexts_in[p].empty()) touched.push_back(p);
      contexts_in[p].push_back(partitions.RowOf(context));
    }
    // Each bucket gets one piece per record, so the order partitions are visited in does not matter.
    for (const uint32_t p : touched) {
      std::vector<uint32_t>& bucket = buckets.values[p];
      buckets.starts[p].push_back(bucket.size());
      bucket.push_back(static_cast<uint32_t>(number));
      bucket.push_back(partitions.RowOf(centre));
      bucket.push_back(static_cast<uint32_t>(contexts_in[p].size()));
      bucket.insert(bucket.end(), contexts_in[p].begin(), contexts_in[p].end());
      contexts_in[p].clear();
    }
    buckets.pairs += contexts;
  }
  return buckets;
}

// Sends `send` to rank `to` while receiving `receive` from rank `from`, in pieces.
void ShiftRows(std::span<const float> send, int to, std::span<float> receive, int from, MPI_Comm comm) {
  const size_t pieces = std::max((send.size() + kMaxFloatsPerMessage - 1) / kMaxFloatsPerMessage,
                                 (receive.size() + kMaxFloatsPerMessage - 1) / kMaxFloatsPerMessage);
  for (size_t piece = 0; piece < pieces; ++piece) {
    const size_t at = piece * kMaxFloatsPerMessage;
    const size_t out = at < send.size() ? std::min(kMaxFloatsPerMessage, send.size() - at) : 0;
    const size_t in = at < receive.size() ? std::min(kMaxFloatsPerMessage, receive.size() - at) : 0;
    MPI_Sendrecv(send.data() + (out > 0 ? at : 0), static_cast<int>(out), MPI_FLOAT, to, 0,
                 receive.data() + (in > 0 ? at : 0), static_cast<int>(in), MPI_FLOAT, from, 0, comm,
                 MPI_STATUS_IGNORE);
  }
}

void SendRows(std::span<const float> rows, int to, MPI_Comm comm) {
  for (size_t at = 0; at < rows.size(); at += kMaxFloatsPerMessage)
    MPI_Send(rows.data() + at, static_cast<int>(std::min(kMaxFloatsPerMessage, rows.size() - at)), MPI_FLOAT, to, 1,
             comm);
}

void ReceiveRows(std::span<float> rows, int from, MPI_Comm comm) {
  for (size_t at = 0; at < rows.size(); at += kMaxFloatsPerMessage)
    MPI_Recv(rows.data() + at, static_cast<int>(std::min(kMaxFloatsPerMessage, rows.size() - at)), MPI_FLOAT, from, 1,
             comm, MPI_STATUS_IGNORE);
}

// One rank's part of the model: its partition's output rows for the whole
// training, and the input rows of the partition it holds this round.
class PartitionedModel {
 public:
  PartitionedModel(const ModelPartitions& partitions, int self, std::span<const uint64_t> counts,
                   const embed::SkipGramConfig& config, const embed::WarmStart* warm)
      : partitions_(partitions), self_(static_cast<uint32_t>(self)), d_(config.dim),
        output_(partitions.RowsOf(self_), d_), held_(partitions.RowsOf(self_), d_) {
    const size_t rows = output_.rows();
    std::vector<double> weights(rows);
    ParallelFor(static_cast<int64_t>(rows), config.threads, 4096, [&](int64_t r) {
      const auto row = static_cast<size_t>(r);
      const uint64_t token = partitions_.TokenOf(self_, row);
      embed::InitialInputRow(config.seed, token, held_.Row(row));
      if (warm != nullptr && warm->known[token]) {
        std::copy_n(warm->input.Row(token).data(), d_, held_.Row(row).data());
        std::copy_n(warm->output.Row(token).data(), d_, output_.Row(row).data());
      }
      weights[row] = embed::NegativeWeight(counts[token]);
    });
    // A partition none of whose accounts occur has no centres either: no negatives are drawn.
    if (std::any_of(weights.begin(), weights.end(), [](double w) { return w > 0; })) negatives_ = AliasTable(weights);
  }

  uint32_t own_partition() const { return self_; }
  uint32_t held_partition() const { return held_partition_; }
  FloatMatrix& held() { return held_; }
  FloatMatrix& output() { return output_; }
  const AliasTable& negatives() const { return negatives_; }
  // The most this rank held at once: output rows and held rows, and during a shift the arriving ones too.
  uint64_t PeakBytes() const {
    return std::max(peak_bytes_, (output_.Data().size() + held_.Data().size()) * sizeof(float));
  }

  // Passes the held input rows to the previous rank and takes the next
  // rank's (partition held + 1), or the other way round (`backwards`:
  // partition held - 1). Returns the bytes sent.
  uint64_t ShiftAlongRing(bool backwards, MPI_Comm comm) {
    const int ranks = static_cast<int>(partitions_.count), step = backwards ? ranks - 1 : 1;
    const uint32_t next = (held_partition_ + static_cast<uint32_t>(step)) % partitions_.count;
    FloatMatrix incoming(partitions_.RowsOf(next), d_);
    peak_bytes_ = std::max(peak_bytes_, (output_.Data().size() + held_.Data().size() + incoming.Data().size()) *
                                            sizeof(float));
    ShiftRows(held_.Data(), (static_cast<int>(self_) + ranks - step) % ranks, incoming.Data(),
              (static_cast<int>(self_) + step) % ranks, comm);
    const uint64_t sent = held_.Data().size() * sizeof(float);
    held_ = std::move(incoming);
    held_partition_ = next;
    return sent;
  }

 private:
  const ModelPartitions partitions_;
  const uint32_t self_;
  const size_t d_;
  FloatMatrix output_, held_;
  uint32_t held_partition_ = self_;
  uint64_t peak_bytes_ = 0;
  AliasTable negatives_;
};

// Where training stands: the learning rate decays linearly over every
// pass of every epoch, within a pass with the share of its pairs trained.
struct Schedule {
  uint64_t pass = 0, passes = 1;  // passes before this one (all epochs), passes in all
  uint64_t pairs_in_pass = 1;
  float LearningRate(const embed::SkipGramConfig& config, uint64_t pairs_done) const {
    const double progress = (static_cast<double>(pass) + static_cast<double>(pairs_done) /
                                                            static_cast<double>(std::max<uint64_t>(pairs_in_pass, 1))) /
                            static_cast<double>(passes);
    return config.learning_rate * static_cast<float>(std::max(1e-4, 1.0 - progress));
  }
};

// Trains the held partition's bucket. A piece's negatives are drawn from its
// record's number (the same in every round) one piece ahead, so that its
// rows can be requested from memory while the piece before trains.
void TrainHeldBucket(const Buckets& buckets, PartitionedModel& model, const embed::SkipGramConfig& config,
                     uint32_t epoch, const Schedule& schedule, std::atomic<uint64_t>& pairs_done) {
  const uint32_t p = model.held_partition();
  const std::vector<uint32_t>& values = buckets.values[p];
  const std::vector<uint64_t>& starts = buckets.starts[p];
  const size_t d = config.dim, row_bytes = d * sizeof(float);
  // Different streams on different ranks and passes (the same stream on every
  // rank would draw the same rows of each partition, i.e. neighbouring ids, together).
  const uint64_t stream = MixSeed(schedule.pass * buckets.values.size() + model.own_partition(), config.seed ^ 0x9e9a);
  const auto draw_outputs = [&](size_t piece, std::vector<uint32_t>& outputs) {
    const uint32_t* at = values.data() + starts[piece];
    Rng rng = Rng::ForItem(stream, at[0], epoch);
    outputs.assign(1, at[1]);
    for (uint32_t k = 0; k < config.negatives; ++k) {
      const uint32_t negative = model.negatives().Sample(rng);
      if (negative != at[1]) outputs.push_back(negative);
    }
    for (const uint32_t row : outputs) {
      const char* bytes = reinterpret_cast<const char*>(model.output().Row(row).data());
      for (size_t line = 0; line < row_bytes; line += 64) Prefetch(bytes + line);
    }
  };
  const auto n = static_cast<int64_t>(starts.size());
#pragma omp parallel num_threads(ResolveThreads(config.threads))
  {
    std::vector<uint32_t> outputs, next_outputs;
    std::vector<float> update(d);
    int64_t drawn = -1;  // the piece next_outputs belongs to
#pragma omp for schedule(dynamic, 64)
    for (int64_t i = 0; i < n; ++i) {
      if (drawn == i) {
        std::swap(outputs, next_outputs);
      } else {
        draw_outputs(static_cast<size_t>(i), outputs);
      }
      if (i + 1 < n) {
        draw_outputs(static_cast<size_t>(i + 1), next_outputs);
        drawn = i + 1;
      }
      const uint32_t* piece = values.data() + starts[static_cast<size_t>(i)];
      const uint32_t contexts = piece[2];
      const float lr = schedule.LearningRate(config, pairs_done.fetch_add(contexts, std::memory_order_relaxed));
      for (uint32_t j = 0; j < contexts; ++j)
        embed::TrainContextAgainstOutputs(
            model.held().Row(piece[3 + j]).data(), outputs.size(),
            [&](size_t o) { return model.output().Row(outputs[o]).data(); }, d, lr, update.data());
    }
  }
}

// Rank 0: every partition's rows placed at their dense ids.
embed::SkipGramResult GatherOnRoot(PartitionedModel& model, const ModelPartitions& partitions, size_t d,
                                   MPI_Comm comm, uint64_t& bytes_sent) {
  const int self = Rank(comm);
  if (self != 0) {
    SendRows(model.held().Data(), 0, comm);
    SendRows(model.output().Data(), 0, comm);
    bytes_sent += (model.held().Data().size() + model.output().Data().size()) * sizeof(float);
    return {};
  }
  embed::SkipGramResult result{FloatMatrix(partitions.accounts, d), FloatMatrix(partitions.accounts, d)};
  FloatMatrix input(0, d), output(0, d);
  for (uint32_t p = 0; p < partitions.count; ++p) {
    if (p == 0) {
      std::swap(input, model.held());
      std::swap(output, model.output());
    } else {
      input = FloatMatrix(partitions.RowsOf(p), d);
      output = FloatMatrix(partitions.RowsOf(p), d);
      ReceiveRows(input.Data(), static_cast<int>(p), comm);
      ReceiveRows(output.Data(), static_cast<int>(p), comm);
    }
    for (size_t row = 0; row < input.rows(); ++row) {
      const uint64_t token = partitions.TokenOf(p, row);
      std::copy_n(input.Row(row).data(), d, result.input.Row(token).data());
      std::copy_n(output.Row(row).data(), d, result.output.Row(token).data());
    }
  }
  return result;
}

}  // namespace

embed::SkipGramResult PartitionedSkipGram(const DistributedWalks& walks, std::span<const uint64_t> counts,
                                          const embed::SkipGramConfig& config, uint32_t passes_per_epoch,
                                          MPI_Comm comm, DistributedTrainingStats& stats,
                                          const embed::WarmStart* warm) {
  const int self = Rank(comm);
  const ModelPartitions partitions{.accounts = walks.vocabulary, .count = static_cast<uint32_t>(Size(comm))};
  uint64_t total = 0;
  for (const uint64_t c : counts) total += c;
  GR_CHECK(total > 0, "the walk corpus is empty");
  const std::vector<float> keep = embed::KeepProbabilities(counts, total, config.subsample);
  PartitionedModel model(partitions, self, counts, config, warm);
  const std::vector<uint32_t> order = TrainingOrder(walks, config.seed);
  stats.training.corpus_tokens = total;
  const auto start = Clock::now();
  Schedule schedule{.passes = uint64_t{config.epochs} * passes_per_epoch};
  for (uint32_t epoch = 0; epoch < config.epochs; ++epoch) {
    for (uint32_t pass = 0; pass < passes_per_epoch; ++pass, ++schedule.pass) {
      // This pass's share of the rank's walks, made into records for the centres' ranks.
      const size_t first = order.size() * pass / passes_per_epoch, end = order.size() * (pass + 1) / passes_per_epoch;
      const RecordsToSend records =
          MakeRecords(walks, std::span(order).subspan(first, end - first), keep, config, partitions, epoch);
      stats.training.trained_tokens += records.kept_tokens;
      const auto exchange_start = Clock::now();
      const Buckets buckets = BucketRecords(ExchangeRecords(records, comm, stats.record_bytes_sent), partitions, self);
      stats.sync_seconds += SecondsSince(exchange_start);
      stats.record_bytes_held = std::max(stats.record_bytes_held, buckets.Bytes());
      schedule.pairs_in_pass = buckets.pairs;
      std::atomic<uint64_t> pairs_done{0};
      for (uint32_t round = 0; round < partitions.count; ++round) {
        TrainHeldBucket(buckets, model, config, epoch, schedule, pairs_done);
        ++stats.rounds;
        if (partitions.count == 1) continue;
        const auto shift_start = Clock::now();
        stats.ring_bytes_sent += model.ShiftAlongRing(pass % 2 == 1, comm);
        stats.sync_seconds += SecondsSince(shift_start);
      }
    }
  }
  stats.model_bytes_held = model.PeakBytes();
  stats.training.seconds = SecondsSince(start);
  stats.training.tokens_per_second =
      static_cast<double>(stats.local_tokens) * config.epochs / std::max(stats.training.seconds, 1e-9);
  OnEveryRankIfAnyFails(comm, "checking the trained vectors", [&] {
    for (const FloatMatrix* m : {&model.held(), &model.output()})
      for (const float x : m->Data())
        GR_CHECK_CODE(std::isfinite(x), ErrorCode::kInternal,
                      "skip-gram training diverged (NaN or infinite vectors): check the warm-start vectors for ",
                      "non-finite values, or lower the learning rate (", config.learning_rate, ")");
  });
  return GatherOnRoot(model, partitions, config.dim, comm, stats.gather_bytes_sent);
}

}  // namespace gr::dist
