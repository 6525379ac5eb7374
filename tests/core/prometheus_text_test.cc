#include "core/prometheus_text.h"

#include <gtest/gtest.h>

#include <limits>

namespace gr {
namespace {

TEST(PrometheusTextTest, FamiliesSamplesAndEscapedLabels) {
  PrometheusText out;
  out.Family("x_total", "counter", "Things counted.");
  out.Sample("x_total", {{"method", "Recall"}, {"reason", "say \"no\"\\\nnow"}}, 3);
  out.Gauge("y", "A gauge.", std::numeric_limits<double>::infinity());
  EXPECT_EQ(out.text(),
            "# HELP x_total Things counted.\n# TYPE x_total counter\n"
            "x_total{method=\"Recall\",reason=\"say \\\"no\\\"\\\\\\nnow\"} 3\n"
            "# HELP y A gauge.\n# TYPE y gauge\ny +Inf\n");
}

}  // namespace
}  // namespace gr
