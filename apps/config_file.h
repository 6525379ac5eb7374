// `--config FILE` for commands that take one (graphrec batch): a file of
// settings, one `flag-name = value` per line ('#' starts a comment), for any
// flag of that command. The file's settings become command-line arguments
// placed before the user's own, and a flag given on the command line wins
// over the file. CLI11 reads config files for the top-level app only, so
// the expansion happens before parsing.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace gr::apps {

// Registers --config on `command` (the expansion below reads it).
void AddConfigFileOption(CLI::App* command);

// args as main received them (args[0] the program). Returns them with the
// settings of a `--config FILE` (or --config=FILE) given to a subcommand
// that registered it spliced in. Throws gr::Error(kInvalidArgument) naming
// the file and line for an unreadable file, a malformed line, an unknown
// flag or a bad boolean.
std::vector<std::string> ExpandConfigFile(const CLI::App& app, std::vector<std::string> args);

}  // namespace gr::apps
