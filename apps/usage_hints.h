// Help that points somewhere: an example on every subcommand's --help, and
// for a mistyped command or flag the closest valid name.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace gr::apps {

// Ends the --help of every subcommand of `app` (nested ones too) with an
// example command line and the options accepted anywhere.
void AddExamples(CLI::App& app);

// The name in `candidates` closest to `typed` by edit distance, when close
// enough to be a typo of it (at most a third of its letters differ); "" if
// none is.
std::string ClosestName(std::string_view typed, const std::vector<std::string>& candidates);

// For command-line arguments `args` (without the program name) that `app`
// failed to parse: "unknown command 'wlak'; did you mean 'walk'?" or
// "unknown option '--num-walk' of graphrec walk; did you mean
// '--num-walks'?" for the first name that is not a command or flag where it
// stands; "" if every name is known.
std::string UnknownNameHint(const CLI::App& app, const std::vector<std::string>& args);

}  // namespace gr::apps
