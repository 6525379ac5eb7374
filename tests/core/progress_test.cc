#include "core/progress.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gr {
namespace {

class ProgressTest : public ::testing::Test {
 protected:
  void TearDown() override { SetProgressSink({}, 10); }
  void Record(double interval_seconds) {
    SetProgressSink([this](const ProgressUpdate& u) { seen_.push_back(u); }, interval_seconds);
  }
  std::vector<ProgressUpdate> seen_;
};

TEST_F(ProgressTest, ReportsEachIntervalAndOnceFinished) {
  Record(0);  // every Add reports
  {
    ProgressMeter meter("index build", "vectors", 10);
    meter.Add(4);
    meter.Add(6);
  }
  ASSERT_EQ(seen_.size(), 3u);
  EXPECT_EQ(seen_[0].done, 4u);
  EXPECT_EQ(seen_[1].done, 10u);
  EXPECT_FALSE(seen_[1].finished);
  EXPECT_TRUE(seen_[2].finished);
  EXPECT_EQ(seen_[2].done, 10u);
  EXPECT_EQ(seen_[2].total, 10u);
}

TEST_F(ProgressTest, AStepShorterThanTheIntervalStaysSilent) {
  Record(3600);
  {
    ProgressMeter meter("walks", "walks", 100);
    meter.Add(100);
  }
  EXPECT_TRUE(seen_.empty());
}

TEST_F(ProgressTest, TextHasShareRateAndEta) {
  EXPECT_EQ(ProgressText({.step = "walks", .unit = "walks", .done = 250, .total = 1000, .seconds = 5}),
            "walks: 25.0% (250 of 1000 walks), 50 walks/s, ETA 15 s");
  EXPECT_EQ(ProgressText({.step = "ingest", .unit = "lines", .done = 300, .total = 0, .seconds = 2}),
            "ingest: 300 lines, 150 lines/s");
  EXPECT_EQ(ProgressText({.step = "walks", .unit = "walks", .done = 1000, .total = 1000, .seconds = 4, .finished = true}),
            "walks: done, 1000 walks in 4.0 s (250 walks/s)");
}

}  // namespace
}  // namespace gr
