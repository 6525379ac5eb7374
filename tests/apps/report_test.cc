// graphrec report and the report every batch writes: one static page of
// charts, rendered by headless Chromium in the test, with a history that
// outlives version retention.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "core/error.h"
#include "tests/apps/cli_util.h"
#include "tests/test_util.h"

namespace gr {
namespace {

using ::gr::testing::Contains;
using ::gr::testing::Graphrec;
using ::gr::testing::RunCommand;
using ::gr::testing::World;

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The element <svg id="id" ...>...</svg> of html ("" if absent).
std::string Chart(const std::string& html, const std::string& id) {
  const size_t begin = html.find("<svg id=\"" + id + "\"");
  if (begin == std::string::npos) return "";
  return html.substr(begin, html.find("</svg>", begin) - begin);
}

std::string Chromium() {
  for (const char* name : {"chromium", "chromium-browser"})
    if (RunCommand(StrCat("command -v ", name, " >/dev/null 2>&1")).first == 0) return name;
  return "";
}

TEST(ReportTest, EveryBatchWritesAReportWhoseChartsRenderInChromiumAndTheHistoryOutlivesRetention) {
  const std::string artifacts = ::gr::testing::TempPath("report-artifacts");
  std::filesystem::remove_all(artifacts);
  for (int run = 0; run < 3; ++run) {
    const auto [code, output] = Graphrec(StrCat("batch --input ", World(), " --artifacts ", artifacts,
                                                " --dimensions 8 --num-walks 1 --walk-length 10 --min-link-auc 0 ",
                                                "--min-ranker-auc 0 --workers 1 --keep-versions 2"));
    ASSERT_EQ(code, 0) << output;
  }
  std::ifstream history(artifacts + "/history.jsonl");
  std::string line;
  size_t lines = 0;
  while (std::getline(history, line)) lines += Contains(line, "\"version\"");
  EXPECT_EQ(lines, 3u) << "a line per run, although only two versions are kept";

  const std::string written = ::gr::testing::ReadBytes(::gr::testing::LiveVersionDir(artifacts) + "/report.html");
  const std::string out = ::gr::testing::TempPath("report.html");
  const auto [code, output] = Graphrec(StrCat("report --artifacts ", artifacts, " --out ", out));
  ASSERT_EQ(code, 0) << output;
  const std::string html = ::gr::testing::ReadBytes(out);
  EXPECT_TRUE(Contains(html, "versions in the history</th><td>3")) << "the pruned version is still charted";
  EXPECT_EQ(Count(written, "<svg id="), Count(html, "<svg id="));
  // No scripts, nothing fetched (the SVG namespace URI is a name, not a fetch).
  EXPECT_FALSE(Contains(html, "<script"));
  for (const char* fetch : {"src=\"http", "href=\"http", "url(http", "@import"}) EXPECT_FALSE(Contains(html, fetch)) << fetch;

  const std::string chromium = Chromium();
  if (chromium.empty()) GTEST_SKIP() << "no chromium (scripts/setup.sh installs it)";
  const std::string flags = "--headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,2200";
  const auto [dom_code, dom] = RunCommand(StrCat(chromium, " ", flags, " --dump-dom file://", out, " 2>/dev/null"));
  ASSERT_EQ(dom_code, 0) << dom;
  // Every chart made it into the rendered document, with its marks.
  for (const std::string id : {"quality", "drift", "run-time", "memory", "stages", "degrees", "vector-map"})
    EXPECT_FALSE(Chart(dom, id).empty()) << id << " missing from the rendered page";
  EXPECT_GE(Count(Chart(dom, "quality"), "class=\"point\""), 3u * 3u) << "3 versions x (2 AUCs + recall)";
  EXPECT_GE(Count(Chart(dom, "degrees"), "class=\"point\""), 10u);
  EXPECT_EQ(Count(Chart(dom, "vector-map"), "class=\"point\""), 300u) << "every account of the 300-account world";
  EXPECT_GE(Count(Chart(dom, "stages"), "class=\"bar\""), 6u);
  EXPECT_TRUE(std::regex_search(dom, std::regex("ranker click AUC</th><td>0\\.[0-9]{4}")));
  const std::string png = ::gr::testing::TempPath("report.png");
  std::filesystem::remove(png);
  const auto [shot_code, shot] = RunCommand(StrCat(chromium, " ", flags, " --screenshot=", png, " file://", out, " 2>&1"));
  ASSERT_EQ(shot_code, 0) << shot;
  const std::string image = ::gr::testing::ReadBytes(png);
  EXPECT_EQ(image.substr(1, 3), "PNG");
  EXPECT_GT(image.size(), 30000u) << "a page of charts, not a blank one";
}

TEST(ReportTest, ReportWithoutAVersionIsAClearError) {
  const std::string empty = ::gr::testing::TempPath("report-empty");
  std::filesystem::create_directories(empty);
  const auto [code, output] = Graphrec(StrCat("report --artifacts ", empty, " --out ", ::gr::testing::TempPath("r.html")));
  EXPECT_EQ(code, 1) << output;
  EXPECT_TRUE(Contains(output, "has no published version")) << output;
}

}  // namespace
}  // namespace gr
