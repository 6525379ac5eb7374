#include "ranking/internal/network.h"

namespace gr::ranking::internal {

// Runs the network on c examples whose dense features are already standardised.
void RunForward(const Layout& l, const float* params_const, const float* dense, const uint32_t* clusters, size_t c,
                Forward& f) {
  auto* params = const_cast<float*>(params_const);  // maps are only read here
  const auto cols = static_cast<Eigen::Index>(c);
  f.x.resize(static_cast<Eigen::Index>(l.input), cols);
  f.x.topRows(static_cast<Eigen::Index>(l.dense)) =
      Eigen::Map<const Matrix>(dense, static_cast<Eigen::Index>(l.dense), cols);
  if (l.slots > 0) {
    const MatrixMap embedding = Mat(params, l.embedding, l.cluster_dim, l.cluster_rows);
    for (size_t j = 0; j < c; ++j)
      for (size_t s = 0; s < l.slots; ++s)
        f.x.block(static_cast<Eigen::Index>(l.dense + s * l.cluster_dim), static_cast<Eigen::Index>(j),
                  static_cast<Eigen::Index>(l.cluster_dim), 1) = embedding.col(clusters[j * l.slots + s]);
  }
  f.hidden.resize(l.experts);
  for (size_t e = 0; e < l.experts; ++e) {
    f.hidden[e].noalias() = Mat(params, l.expert_w[e], l.units, l.input) * f.x;
    f.hidden[e].colwise() += Vec(params, l.expert_b[e], l.units);
    f.hidden[e] = f.hidden[e].cwiseMax(0.0f);
  }
  for (int t = 0; t < kNumTasks; ++t) {
    if (!l.Has(t)) continue;
    Matrix& gate = f.gate[t];
    gate.noalias() = Mat(params, l.gate_w[t], l.experts, l.input) * f.x;
    gate.colwise() += Vec(params, l.gate_b[t], l.experts);
    const Eigen::RowVectorXf max = gate.colwise().maxCoeff();
    gate = (gate.rowwise() - max).array().exp().matrix();
    const Eigen::RowVectorXf sum = gate.colwise().sum();
    gate.array().rowwise() /= sum.array();
    Matrix& mixed = f.mixed[t];
    mixed.setZero(static_cast<Eigen::Index>(l.units), cols);
    for (size_t e = 0; e < l.experts; ++e)
      mixed.array() += f.hidden[e].array().rowwise() * gate.row(static_cast<Eigen::Index>(e)).array();
    Matrix& tower = f.tower[t];
    tower.noalias() = Mat(params, l.tower_w[t], l.tower, l.units) * mixed;
    tower.colwise() += Vec(params, l.tower_b[t], l.tower);
    tower = tower.cwiseMax(0.0f);
    f.output[t].noalias() = Vec(params, l.out_w[t], l.tower).transpose() * tower;
    f.output[t].array() += params[l.out_b[t]];
  }
}

// Adds the gradient of the chunk's loss (given d loss / d output per task) to `grad`.
void RunBackward(const Layout& l, const float* params_const, const uint32_t* clusters, size_t c, const Forward& f,
                 const std::array<Eigen::RowVectorXf, kNumTasks>& d_output, float* grad) {
  auto* params = const_cast<float*>(params_const);
  const auto cols = static_cast<Eigen::Index>(c);
  std::vector<Matrix> d_hidden(l.experts, Matrix::Zero(static_cast<Eigen::Index>(l.units), cols));
  const auto cluster_rows = static_cast<Eigen::Index>(l.slots * l.cluster_dim);
  Matrix d_cluster_x = Matrix::Zero(cluster_rows, cols);
  for (int t = 0; t < kNumTasks; ++t) {
    if (!l.Has(t)) continue;
    const Eigen::RowVectorXf& d_out = d_output[t];
    Vec(grad, l.out_w[t], l.tower).noalias() += f.tower[t] * d_out.transpose();
    grad[l.out_b[t]] += d_out.sum();
    Matrix d_tower = Vec(params, l.out_w[t], l.tower) * d_out;
    d_tower.array() *= (f.tower[t].array() > 0.0f).cast<float>();
    Mat(grad, l.tower_w[t], l.tower, l.units).noalias() += d_tower * f.mixed[t].transpose();
    Vec(grad, l.tower_b[t], l.tower) += d_tower.rowwise().sum();
    const Matrix d_mixed = Mat(params, l.tower_w[t], l.tower, l.units).transpose() * d_tower;
    const Matrix& gate = f.gate[t];
    Matrix d_gate(static_cast<Eigen::Index>(l.experts), cols);
    for (size_t e = 0; e < l.experts; ++e) {
      const auto row = static_cast<Eigen::Index>(e);
      d_hidden[e].array() += d_mixed.array().rowwise() * gate.row(row).array();
      d_gate.row(row) = (d_mixed.array() * f.hidden[e].array()).colwise().sum().matrix();
    }
    // Softmax backward: dz = g * (dg - sum(g * dg)).
    const Eigen::RowVectorXf weighted = (gate.array() * d_gate.array()).colwise().sum().matrix();
    const Matrix d_logits = (gate.array() * (d_gate.array().rowwise() - weighted.array())).matrix();
    Mat(grad, l.gate_w[t], l.experts, l.input).noalias() += d_logits * f.x.transpose();
    Vec(grad, l.gate_b[t], l.experts) += d_logits.rowwise().sum();
    if (cluster_rows > 0)
      d_cluster_x.noalias() +=
          Mat(params, l.gate_w[t], l.experts, l.input).rightCols(cluster_rows).transpose() * d_logits;
  }
  for (size_t e = 0; e < l.experts; ++e) {
    d_hidden[e].array() *= (f.hidden[e].array() > 0.0f).cast<float>();
    Mat(grad, l.expert_w[e], l.units, l.input).noalias() += d_hidden[e] * f.x.transpose();
    Vec(grad, l.expert_b[e], l.units) += d_hidden[e].rowwise().sum();
    if (cluster_rows > 0)
      d_cluster_x.noalias() += Mat(params, l.expert_w[e], l.units, l.input).rightCols(cluster_rows).transpose() * d_hidden[e];
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
