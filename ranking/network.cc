#include <algorithm>
#include <cmath>

#include "ranking/internal/network.h"

namespace gr::ranking::internal {
namespace {

// A read-only map over parameters (the forward and backward passes never write them).
MatrixMap ConstMat(const float* params, size_t offset, size_t rows, size_t cols) {
  return Mat(const_cast<float*>(params), offset, rows, cols);
}
VectorMap ConstVec(const float* params, size_t offset, size_t n) { return Vec(const_cast<float*>(params), offset, n); }

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

Layout::Layout(const Network& net, size_t dense_dim, size_t cluster_slots, size_t cdim, size_t rows, size_t tower_units)
    : dense(dense_dim), slots(cluster_slots), cluster_dim(cdim), cluster_rows(rows), tower(tower_units),
      task_mask(net.task_mask) {
  input = dense + slots * cluster_dim;
  width.push_back(input);
  const auto take = [&](size_t n) {
    const size_t at = total;
    total += (n + 15) / 16 * 16;  // keep the next block 64-byte aligned
    return at;
  };
  embedding = take(slots > 0 ? cluster_dim * cluster_rows : 0);
  const auto add_expert = [&](uint32_t source, size_t units) {
    ExpertBlock e{source, static_cast<uint32_t>(width.size()), take(units * width[source]), take(units)};
    width.push_back(units);
    ops.push_back({true, static_cast<uint32_t>(experts.size())});
    experts.push_back(e);
    return e.out;
  };
  const auto add_experts = [&](uint32_t source, size_t count) {
    std::vector<uint32_t> out;
    for (size_t i = 0; i < count; ++i) out.push_back(add_expert(source, net.expert_units));
    return out;
  };
  const auto add_mix = [&](std::vector<uint32_t> inputs, GateKind kind, uint32_t gate_source) {
    MixBlock m;
    m.out = static_cast<uint32_t>(width.size());
    m.kind = kind;
    m.gate_source = gate_source;
    if (kind == GateKind::kSoftmax) m.w = take(inputs.size() * width[gate_source]);
    m.b = take(inputs.size());
    if (kind == GateKind::kCoding) {
      m.noise = coding_connections;
      coding_connections += inputs.size();
    }
    width.push_back(width[inputs[0]]);
    m.inputs = std::move(inputs);
    ops.push_back({false, static_cast<uint32_t>(mixes.size())});
    mixes.push_back(std::move(m));
    return mixes.back().out;
  };

  std::array<uint32_t, kNumTasks> tower_source{};
  switch (net.architecture) {
    case Architecture::kSharedBottom:
      tower_source.fill(add_expert(0, size_t{net.experts} * net.expert_units));
      break;
    case Architecture::kMmoe:
    case Architecture::kSingleTask: {
      const std::vector<uint32_t> shared = add_experts(0, net.experts);
      for (int t = 0; t < kNumTasks; ++t)
        if (Has(t)) tower_source[t] = add_mix(shared, GateKind::kSoftmax, 0);
      break;
    }
    case Architecture::kPle: {
      std::array<uint32_t, kNumTasks> task_in{};  // each task's input to the level (stream 0 = x at first)
      uint32_t shared_in = 0;
      for (uint32_t level = 0; level < net.levels; ++level) {
        const std::vector<uint32_t> shared = add_experts(shared_in, net.experts);
        std::vector<uint32_t> all;
        std::array<std::vector<uint32_t>, kNumTasks> own;
        for (int t = 0; t < kNumTasks; ++t) {
          if (!Has(t)) continue;
          own[t] = add_experts(task_in[t], net.task_experts);
          all.insert(all.end(), own[t].begin(), own[t].end());
        }
        all.insert(all.end(), shared.begin(), shared.end());
        const uint32_t previous_shared = shared_in;
        if (level + 1 < net.levels) shared_in = add_mix(all, GateKind::kSoftmax, previous_shared);
        for (int t = 0; t < kNumTasks; ++t) {
          if (!Has(t)) continue;
          std::vector<uint32_t> inputs = own[t];
          inputs.insert(inputs.end(), shared.begin(), shared.end());
          task_in[t] = add_mix(inputs, GateKind::kSoftmax, task_in[t]);
        }
      }
      tower_source = task_in;
      break;
    }
    case Architecture::kSnr: {
      std::vector<uint32_t> layer = add_experts(0, net.experts);
      for (uint32_t level = 1; level < net.levels; ++level) {
        std::vector<uint32_t> next;
        for (uint32_t e = 0; e < net.experts; ++e)
          next.push_back(add_expert(add_mix(layer, GateKind::kCoding, 0), net.expert_units));
        layer = std::move(next);
      }
      for (int t = 0; t < kNumTasks; ++t)
        if (Has(t)) tower_source[t] = add_mix(layer, GateKind::kCoding, 0);
      break;
    }
  }
  for (int t = 0; t < kNumTasks; ++t) {
    if (!Has(t)) continue;
    TowerBlock b;
    b.task = t;
    b.source = tower_source[t];
    b.w = take(tower * width[b.source]);
    b.b = take(tower);
    b.out_w = take(tower);
    b.out_b = take(1);
    towers.push_back(b);
  }
}

float CodingValue(float log_alpha, const float* noise, float* derivative) {
  const float beta = noise != nullptr ? kConcreteBeta : 1.0f;
  const float s = Sigmoid((log_alpha + (noise != nullptr ? *noise : 0.0f)) / beta);
  const float z = s * (kConcreteHigh - kConcreteLow) + kConcreteLow;
  if (derivative != nullptr) *derivative = z > 0 && z < 1 ? (kConcreteHigh - kConcreteLow) * s * (1 - s) / beta : 0.0f;
  return std::clamp(z, 0.0f, 1.0f);
}

float L0Gradient(float log_alpha) {
  const float p = Sigmoid(log_alpha - kConcreteBeta * std::log(-kConcreteLow / kConcreteHigh));
  return p * (1 - p);
}

void RunForward(const Layout& l, const float* params, const float* dense, const uint32_t* clusters, size_t c,
                const float* noise, Forward& f) {
  const auto cols = static_cast<Eigen::Index>(c);
  f.stream.resize(l.width.size());
  f.gate.resize(l.mixes.size());
  f.coding.resize(l.mixes.size());
  f.d_coding.resize(l.mixes.size());
  f.tower.resize(l.towers.size());
  Matrix& x = f.stream[0];
  x.resize(static_cast<Eigen::Index>(l.input), cols);
  x.topRows(static_cast<Eigen::Index>(l.dense)) = Eigen::Map<const Matrix>(dense, static_cast<Eigen::Index>(l.dense), cols);
  if (l.slots > 0) {
    const MatrixMap embedding = ConstMat(params, l.embedding, l.cluster_dim, l.cluster_rows);
    for (size_t j = 0; j < c; ++j)
      for (size_t s = 0; s < l.slots; ++s)
        x.block(static_cast<Eigen::Index>(l.dense + s * l.cluster_dim), static_cast<Eigen::Index>(j),
                static_cast<Eigen::Index>(l.cluster_dim), 1) = embedding.col(clusters[j * l.slots + s]);
  }
  for (const Layout::Op op : l.ops) {
    if (op.expert) {
      const ExpertBlock& e = l.experts[op.index];
      const size_t units = l.width[e.out];
      Matrix& h = f.stream[e.out];
      h.noalias() = ConstMat(params, e.w, units, l.width[e.source]) * f.stream[e.source];
      h.colwise() += ConstVec(params, e.b, units);
      h = h.cwiseMax(0.0f);
      continue;
    }
    const MixBlock& m = l.mixes[op.index];
    const auto k = static_cast<Eigen::Index>(m.inputs.size());
    Matrix& out = f.stream[m.out];
    out.setZero(static_cast<Eigen::Index>(l.width[m.out]), cols);
    if (m.kind == GateKind::kSoftmax) {
      Matrix& gate = f.gate[op.index];
      gate.noalias() = ConstMat(params, m.w, m.inputs.size(), l.width[m.gate_source]) * f.stream[m.gate_source];
      gate.colwise() += ConstVec(params, m.b, m.inputs.size());
      const Eigen::RowVectorXf max = gate.colwise().maxCoeff();
      gate = (gate.rowwise() - max).array().exp().matrix();
      const Eigen::RowVectorXf sum = gate.colwise().sum();
      gate.array().rowwise() /= sum.array();
      for (Eigen::Index i = 0; i < k; ++i) out.array() += f.stream[m.inputs[i]].array().rowwise() * gate.row(i).array();
    } else {
      Eigen::VectorXf& z = f.coding[op.index];
      Eigen::VectorXf& dz = f.d_coding[op.index];
      z.resize(k);
      dz.resize(k);
      for (Eigen::Index i = 0; i < k; ++i) {
        z[i] = CodingValue(params[m.b + i], noise != nullptr ? noise + m.noise + i : nullptr, &dz[i]);
        if (z[i] != 0.0f) out += z[i] * f.stream[m.inputs[i]];
      }
    }
  }
  for (size_t k = 0; k < l.towers.size(); ++k) {
    const TowerBlock& b = l.towers[k];
    Matrix& tower = f.tower[k];
    tower.noalias() = ConstMat(params, b.w, l.tower, l.width[b.source]) * f.stream[b.source];
    tower.colwise() += ConstVec(params, b.b, l.tower);
    tower = tower.cwiseMax(0.0f);
    f.output[b.task].noalias() = ConstVec(params, b.out_w, l.tower).transpose() * tower;
    f.output[b.task].array() += params[b.out_b];
  }
}

void RunBackward(const Layout& l, const float* params, const uint32_t* clusters, size_t c, const Forward& f,
                 const std::array<Eigen::RowVectorXf, kNumTasks>& d_output, float* grad) {
  const auto cols = static_cast<Eigen::Index>(c);
  // d loss / d stream; the input's only trainable part is its cluster embedding rows.
  std::vector<Matrix> d(l.width.size());
  for (size_t s = 1; s < l.width.size(); ++s) d[s].setZero(static_cast<Eigen::Index>(l.width[s]), cols);
  const auto cluster_rows = static_cast<Eigen::Index>(l.slots * l.cluster_dim);
  Matrix d_cluster_x = Matrix::Zero(cluster_rows, cols);
  // Adds W^T d_pre to the gradient of stream `source` (W: rows x width[source]).
  const auto propagate = [&](uint32_t source, size_t w, size_t rows, const Matrix& d_pre) {
    const MatrixMap weights = ConstMat(params, w, rows, l.width[source]);
    if (source != 0) {
      d[source].noalias() += weights.transpose() * d_pre;
    } else if (cluster_rows > 0) {
      d_cluster_x.noalias() += weights.rightCols(cluster_rows).transpose() * d_pre;
    }
  };
  for (size_t k = 0; k < l.towers.size(); ++k) {
    const TowerBlock& b = l.towers[k];
    const Eigen::RowVectorXf& d_out = d_output[b.task];
    Vec(grad, b.out_w, l.tower).noalias() += f.tower[k] * d_out.transpose();
    grad[b.out_b] += d_out.sum();
    Matrix d_tower = ConstVec(params, b.out_w, l.tower) * d_out;
    d_tower.array() *= (f.tower[k].array() > 0.0f).cast<float>();
    Mat(grad, b.w, l.tower, l.width[b.source]).noalias() += d_tower * f.stream[b.source].transpose();
    Vec(grad, b.b, l.tower) += d_tower.rowwise().sum();
    propagate(b.source, b.w, l.tower, d_tower);
  }
  for (auto op = l.ops.rbegin(); op != l.ops.rend(); ++op) {
    if (op->expert) {
      const ExpertBlock& e = l.experts[op->index];
      const size_t units = l.width[e.out];
      Matrix& d_pre = d[e.out];
      d_pre.array() *= (f.stream[e.out].array() > 0.0f).cast<float>();
      Mat(grad, e.w, units, l.width[e.source]).noalias() += d_pre * f.stream[e.source].transpose();
      Vec(grad, e.b, units) += d_pre.rowwise().sum();
      propagate(e.source, e.w, units, d_pre);
      continue;
    }
    const MixBlock& m = l.mixes[op->index];
    const Matrix& d_out = d[m.out];
    const auto k = static_cast<Eigen::Index>(m.inputs.size());
    if (m.kind == GateKind::kSoftmax) {
      const Matrix& gate = f.gate[op->index];
      Matrix d_gate(k, cols);
      for (Eigen::Index i = 0; i < k; ++i) {
        d[m.inputs[i]].array() += d_out.array().rowwise() * gate.row(i).array();
        d_gate.row(i) = (d_out.array() * f.stream[m.inputs[i]].array()).colwise().sum().matrix();
      }
      // Softmax backward: dz = g * (dg - sum(g * dg)).
      const Eigen::RowVectorXf weighted = (gate.array() * d_gate.array()).colwise().sum().matrix();
      const Matrix d_logits = (gate.array() * (d_gate.array().rowwise() - weighted.array())).matrix();
      Mat(grad, m.w, m.inputs.size(), l.width[m.gate_source]).noalias() += d_logits * f.stream[m.gate_source].transpose();
      Vec(grad, m.b, m.inputs.size()) += d_logits.rowwise().sum();
      propagate(m.gate_source, m.w, m.inputs.size(), d_logits);
    } else {
      const Eigen::VectorXf& z = f.coding[op->index];
      const Eigen::VectorXf& dz = f.d_coding[op->index];
      for (Eigen::Index i = 0; i < k; ++i) {
        if (z[i] != 0.0f) d[m.inputs[i]] += z[i] * d_out;
        if (dz[i] != 0.0f) grad[m.b + i] += dz[i] * (d_out.array() * f.stream[m.inputs[i]].array()).sum();
      }
    }
  }
  if (l.slots > 0) {
    MatrixMap d_embedding = Mat(grad, l.embedding, l.cluster_dim, l.cluster_rows);
    for (size_t j = 0; j < c; ++j)
      for (size_t s = 0; s < l.slots; ++s)
        d_embedding.col(clusters[j * l.slots + s]) +=
            d_cluster_x.block(static_cast<Eigen::Index>(s * l.cluster_dim), static_cast<Eigen::Index>(j),
                              static_cast<Eigen::Index>(l.cluster_dim), 1);
  }
}

}  // namespace gr::ranking::internal
