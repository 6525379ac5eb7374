// Subcommands of the graphrec CLI. Each Add*Command registers its flags on
// `app` and a callback that runs it; flag parsing lives only in apps/.
#pragma once

#include <CLI/CLI.hpp>

namespace gr::apps {

void AddIngestCommand(CLI::App& app);
void AddStatsCommand(CLI::App& app);
void AddGenerateCommand(CLI::App& app);
void AddWalkCommand(CLI::App& app);
void AddEmbedCommand(CLI::App& app);
void AddEvalCommand(CLI::App& app);
void AddRecallCommands(CLI::App& app);  // index, recall
void AddServeCommands(CLI::App& app);   // serve, query
void AddEventsCommand(CLI::App& app);   // events push
void AddBatchCommand(CLI::App& app);
void AddExportCommand(CLI::App& app);
void AddReportCommand(CLI::App& app);
void AddRankCommands(CLI::App& app);   // rank-train, rank-eval, rank

// Thrown by a command that finished but must exit with this status (main
// returns it, so destructors run: under mpirun, MPI is finalised).
struct ExitStatus {
  int code;
};

}  // namespace gr::apps
