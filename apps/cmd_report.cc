// graphrec report: the nightly report of a version as one static HTML page.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/output.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "pipeline/nightly_report.h"
#include "version/version_store.h"

namespace gr::apps {
namespace {

struct ReportArgs {
  std::string artifacts, version, out;
};

void RunReport(const ReportArgs& args) {
  const std::string version = args.version.empty() ? version::ReadCurrentVersion(args.artifacts) : args.version;
  GR_CHECK_CODE(!version.empty(), ErrorCode::kNotFound, args.artifacts, " has no published version (no ",
                version::kCurrentFile, "); give --version");
  const std::string html = pipeline::RenderReportOfVersion(args.artifacts, version);
  WriteFileAtomically(args.out, [&](std::FILE* f) { std::fputs(html.c_str(), f); });
  if (JsonOutput()) {
    PrintJson({{"version", version}, {"out", args.out}, {"bytes", html.size()}});
  } else {
    std::printf("report of %s -> %s (%zu bytes)\n", version.c_str(), args.out.c_str(), html.size());
  }
}

}  // namespace

void AddReportCommand(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand("report", "Write a version's nightly report: one HTML page of charts, no network");
  cmd->add_option("--artifacts", args->artifacts, "artifacts directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--version", args->version, "version to report on (default: the one CURRENT names)");
  cmd->add_option("--out", args->out, "HTML file to write")->required();
  cmd->callback([args] { RunReport(*args); });
}

}  // namespace gr::apps
