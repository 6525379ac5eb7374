// graphrec: one binary, one subcommand per stage (README.md documents each).
// Exit codes: 0 success, 1 runtime failure (I/O, corrupt data, internal),
// 2 bad usage or invalid input (3: graphrec batch, quality gate failed).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/config_file.h"
#include "apps/logging.h"
#include "apps/output.h"
#include "apps/usage_hints.h"
#include "core/error.h"
#ifdef GR_WITH_MPI
#include "dist/mpi_session.h"
#endif

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("graphrec"));
  gr::apps::SetLogFormat("text");
  gr::apps::SetProgressMode("auto");
#ifdef GR_WITH_MPI
  // MPI starts only under mpirun (Open MPI sets OMPI_COMM_WORLD_SIZE), so a
  // plain run neither pays for it nor depends on it. Ranks after the first
  // log warnings and errors only.
  std::unique_ptr<gr::dist::MpiSession> mpi;
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) {
    mpi = std::make_unique<gr::dist::MpiSession>(&argc, &argv);
    if (mpi->rank() > 0) gr::apps::SetLogLevel("warn");
  }
#endif
  CLI::App app{"graphrec: graph embeddings and recall for a social feed"};
  app.require_subcommand(1);
  // Anywhere on the command line (a subcommand passes them up); applied as
  // they are parsed, before any command runs.
  app.fallthrough();
  app.add_option("--log-level", "log threshold: trace, debug, info, warn, error, critical, off (default info)")
      ->each([](const std::string& level) { gr::apps::SetLogLevel(level); });
  app.add_option("--log-format", "log lines as text (default) or json (one object a line: time, level, message)")
      ->each([](const std::string& format) { gr::apps::SetLogFormat(format); });
  app.add_option("--progress", "progress of long steps in the log: auto (when stderr is a terminal), always, never")
      ->each([](const std::string& mode) { gr::apps::SetProgressMode(mode); });
  app.add_option("--progress-seconds", "seconds between progress lines of a step (default 5)")
      ->each([](const std::string& seconds) { gr::apps::SetProgressInterval(seconds); });
  app.add_flag_callback("--json", [] { gr::apps::SetJsonOutput(true); },
                        "print the result as one JSON object (snake_case keys, ids as strings)");
  app.set_version_flag("--version", "graphrec 0.1.0");
  gr::apps::AddGenerateCommand(app);
  gr::apps::AddIngestCommand(app);
  gr::apps::AddStatsCommand(app);
  gr::apps::AddWalkCommand(app);
  gr::apps::AddEmbedCommand(app);
  gr::apps::AddEvalCommand(app);
  gr::apps::AddRecallCommands(app);
  gr::apps::AddRankCommands(app);
  gr::apps::AddServeCommands(app);
  gr::apps::AddEventsCommand(app);
  gr::apps::AddBatchCommand(app);
  gr::apps::AddExportCommand(app);
  gr::apps::AddReportCommand(app);
  gr::apps::AddExamples(app);
  std::vector<std::string> args(argv, argv + argc);
  try {
    args = gr::apps::ExpandConfigFile(app, args);
    // CLI11 takes a vector back to front, without the program name.
    app.parse(std::vector<std::string>(args.rbegin(), args.rend() - 1));
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, whatever
    // CLI11's own code for it.
    // A mistyped name is named with the closest valid one, instead of
    // CLI11's "not expected" or "a subcommand is required".
    const std::string hint = e.get_exit_code() == 0 ? "" : gr::apps::UnknownNameHint(app, {args.begin() + 1, args.end()});
    if (hint.empty()) return app.exit(e) == 0 ? 0 : 2;
    std::fprintf(stderr, "graphrec: %s\nRun with --help for more information.\n", hint.c_str());
    return 2;
  } catch (const gr::apps::ExitStatus& status) {
    return status.code;
  } catch (const gr::Error& e) {
    std::fprintf(stderr, "graphrec: %s: %s\n", std::string(gr::ErrorCodeName(e.code())).c_str(),
                 e.what());
    return e.code() == gr::ErrorCode::kInvalidArgument ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "graphrec: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
