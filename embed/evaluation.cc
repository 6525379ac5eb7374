#include "embed/evaluation.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace gr::embed {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

// L2-regularised logistic regression (objective 0.5|w|^2 + C sum logloss,
// intercept not penalised) by Newton's method. x: n x d (no bias column);
// returns d weights, then the intercept. The bias column is implicit and
// the Hessian is summed over blocks of rows, so nothing of x's size is
// allocated besides x (the link check's 100k x 64 pairs are 51 MB).
Vector FitLogistic(const Matrix& x, const Vector& y, double c) {
  const Eigen::Index n = x.rows(), d = x.cols();
  constexpr Eigen::Index kBlockRows = 4096;
  Vector w = Vector::Zero(d + 1);
  for (int iteration = 0; iteration < 25; ++iteration) {
    const Vector p =
        (1.0 / (1.0 + (-((x * w.head(d)).array() + w(d))).exp())).matrix();
    const Vector residual = p - y;
    Vector grad(d + 1);
    grad.head(d) = x.transpose() * residual + w.head(d) / c;
    grad(d) = residual.sum();
    const Vector s = (p.array() * (1.0 - p.array())).matrix();
    Matrix h = Matrix::Zero(d + 1, d + 1);
    for (Eigen::Index r = 0; r < n; r += kBlockRows) {
      const Eigen::Index m = std::min(kBlockRows, n - r);
      const Matrix weighted = x.middleRows(r, m).array().colwise() * s.segment(r, m).array();
      h.topLeftCorner(d, d).noalias() += x.middleRows(r, m).transpose() * weighted;
      h.col(d).head(d).noalias() += weighted.colwise().sum().transpose();
    }
    h.row(d).head(d) = h.col(d).head(d).transpose();
    h(d, d) = s.sum();
    h.diagonal().head(d).array() += 1.0 / c;
    h.diagonal().array() += 1e-9;
    const Vector step = h.ldlt().solve(grad);
    w -= step;
    if (step.norm() < 1e-8 * (1.0 + w.norm())) break;
  }
  return w;
}

double Mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }
double Sd(const std::vector<double>& v) {
  const double m = Mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return v.size() > 1 ? std::sqrt(s / static_cast<double>(v.size() - 1)) : 0.0;
}

}  // namespace

ClassificationScores NodeClassification(const FloatMatrix& features,
                                        const std::vector<std::vector<int>>& labels,
                                        double train_fraction, int repeats, uint64_t seed) {
  GR_CHECK(labels.size() == features.rows(), labels.size(), " label lists for ", features.rows(), " rows");
  GR_CHECK(train_fraction > 0 && train_fraction < 1, "train fraction must be in (0, 1), got ", train_fraction);
  GR_CHECK(repeats >= 1, "repeats must be >= 1, got ", repeats);
  std::vector<size_t> rows;
  int classes = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].empty()) continue;
    rows.push_back(i);
    for (int l : labels[i]) {
      GR_CHECK(l >= 0, "negative label ", l, " on row ", i);
      classes = std::max(classes, l + 1);
    }
  }
  GR_CHECK(rows.size() >= 4 && classes >= 2, "need >= 4 labelled rows and >= 2 classes, got ", rows.size(), " and ", classes);
  const auto d = static_cast<Eigen::Index>(features.cols());
  std::vector<double> micro, macro;
  for (int r = 0; r < repeats; ++r) {
    std::vector<size_t> order = rows;
    Rng rng(MixSeed(seed, static_cast<uint64_t>(r)));
    for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.Uniform(i + 1)]);
    const size_t n_train = std::max<size_t>(1, static_cast<size_t>(train_fraction * static_cast<double>(order.size())));
    const size_t n_test = order.size() - n_train;
    Matrix x_train(static_cast<Eigen::Index>(n_train), d), x_test(static_cast<Eigen::Index>(n_test), d);
    for (size_t i = 0; i < order.size(); ++i) {
      auto row = features.Row(order[i]);
      for (Eigen::Index j = 0; j < d; ++j) {
        if (i < n_train) x_train(static_cast<Eigen::Index>(i), j) = row[static_cast<size_t>(j)];
        else x_test(static_cast<Eigen::Index>(i - n_train), j) = row[static_cast<size_t>(j)];
      }
    }
    Matrix scores(static_cast<Eigen::Index>(n_test), classes);
    for (int c = 0; c < classes; ++c) {
      Vector y(static_cast<Eigen::Index>(n_train));
      for (size_t i = 0; i < n_train; ++i) {
        const auto& l = labels[order[i]];
        y(static_cast<Eigen::Index>(i)) = std::find(l.begin(), l.end(), c) != l.end() ? 1.0 : 0.0;
      }
      const Vector w = FitLogistic(x_train, y, 1.0);
      scores.col(c) = x_test * w.head(d) + Vector::Constant(static_cast<Eigen::Index>(n_test), w(d));
    }
    std::vector<uint64_t> tp(static_cast<size_t>(classes)), fp(tp), fn(tp);
    for (size_t i = 0; i < n_test; ++i) {
      const auto& truth = labels[order[n_train + i]];
      std::vector<int> ranked(static_cast<size_t>(classes));
      std::iota(ranked.begin(), ranked.end(), 0);
      std::stable_sort(ranked.begin(), ranked.end(), [&](int a, int b) {
        return scores(static_cast<Eigen::Index>(i), a) > scores(static_cast<Eigen::Index>(i), b);
      });
      for (int c = 0; c < classes; ++c) {
        const bool predicted = std::find(ranked.begin(), ranked.begin() + static_cast<int64_t>(truth.size()), c) !=
                               ranked.begin() + static_cast<int64_t>(truth.size());
        const bool actual = std::find(truth.begin(), truth.end(), c) != truth.end();
        tp[static_cast<size_t>(c)] += predicted && actual;
        fp[static_cast<size_t>(c)] += predicted && !actual;
        fn[static_cast<size_t>(c)] += !predicted && actual;
      }
    }
    uint64_t tps = 0, fps = 0, fns = 0;
    double f1_sum = 0;
    int f1_classes = 0;
    for (size_t c = 0; c < tp.size(); ++c) {
      tps += tp[c];
      fps += fp[c];
      fns += fn[c];
      if (tp[c] + fp[c] + fn[c] == 0) continue;  // class absent from this test split
      f1_sum += 2.0 * static_cast<double>(tp[c]) / static_cast<double>(2 * tp[c] + fp[c] + fn[c]);
      ++f1_classes;
    }
    micro.push_back(2.0 * static_cast<double>(tps) / static_cast<double>(2 * tps + fps + fns));
    macro.push_back(f1_sum / f1_classes);
  }
  return {Mean(micro), Mean(macro), Sd(micro), Sd(macro), rows.size(), static_cast<size_t>(classes)};
}

LinkPredictionScores LinkPrediction(const FloatMatrix& features, const std::vector<RowPair>& train_edges,
                                    const std::vector<RowPair>& train_non_edges,
                                    const std::vector<RowPair>& test_edges,
                                    const std::vector<RowPair>& test_non_edges) {
  GR_CHECK(!train_edges.empty() && !train_non_edges.empty() && !test_edges.empty() && !test_non_edges.empty(),
           "link prediction needs train and test edges and non-edges");
  const auto d = static_cast<Eigen::Index>(features.cols());
  auto hadamard = [&](const std::vector<RowPair>& a, const std::vector<RowPair>& b) {
    Matrix x(static_cast<Eigen::Index>(a.size() + b.size()), d);
    Eigen::Index r = 0;
    for (const auto* pairs : {&a, &b}) {
      for (const auto& [u, v] : *pairs) {
        GR_CHECK(u < features.rows() && v < features.rows(), "pair (", u, ", ", v, ") outside ", features.rows(), " rows");
        for (Eigen::Index j = 0; j < d; ++j)
          x(r, j) = static_cast<double>(features.At(u, static_cast<size_t>(j))) * features.At(v, static_cast<size_t>(j));
        ++r;
      }
    }
    return x;
  };
  Vector w;
  {
    const Matrix x_train = hadamard(train_edges, train_non_edges);
    Vector y = Vector::Zero(x_train.rows());
    y.head(static_cast<Eigen::Index>(train_edges.size())).setOnes();
    w = FitLogistic(x_train, y, 1.0);
  }
  std::vector<uint8_t> labels(test_edges.size() + test_non_edges.size(), 0);
  std::fill(labels.begin(), labels.begin() + static_cast<int64_t>(test_edges.size()), 1);
  std::vector<double> hadamard_scores, dot_scores;
  hadamard_scores.reserve(labels.size());
  dot_scores.reserve(labels.size());
  for (const auto* pairs : {&test_edges, &test_non_edges}) {  // a test pair at a time: no matrix of them
    for (const auto& [u, v] : *pairs) {
      GR_CHECK(u < features.rows() && v < features.rows(), "pair (", u, ", ", v, ") outside ", features.rows(), " rows");
      double logit = w(d), dot = 0;
      for (Eigen::Index j = 0; j < d; ++j) {
        const double x = static_cast<double>(features.At(u, static_cast<size_t>(j))) *
                         features.At(v, static_cast<size_t>(j));
        logit += x * w(j);
        dot += x;
      }
      hadamard_scores.push_back(logit);
      dot_scores.push_back(dot);
    }
  }
  return {RocAuc(dot_scores, labels), RocAuc(hadamard_scores, labels)};
}

double RocAuc(std::span<const double> scores, std::span<const uint8_t> labels) {
  GR_CHECK(scores.size() == labels.size(), scores.size(), " scores for ", labels.size(), " labels");
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positives = 0, negatives = 0, rank_sum = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double mid_rank = (static_cast<double>(i) + static_cast<double>(j - 1)) / 2.0 + 1.0;  // ties share the mean rank
    for (size_t t = i; t < j; ++t) {
      if (labels[order[t]]) {
        positives += 1;
        rank_sum += mid_rank;
      } else {
        negatives += 1;
      }
    }
    i = j;
  }
  GR_CHECK(positives > 0 && negatives > 0, "AUC needs both positive and negative examples");
  return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives);
}

}  // namespace gr::embed
