// `--config FILE` settings files (apps/config_file.h), expanded for a
// command with each kind of flag, then parsed as the binary would.
#include <CLI/CLI.hpp>

#include "apps/config_file.h"
#include "fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const gr::fuzz::FuzzFile file(data, size);
  CLI::App app;
  auto* command = app.add_subcommand("batch");
  std::string text;
  uint32_t count = 0;
  double fraction = 0;
  bool flag = false;
  command->add_option("--input", text);
  command->add_option("--num-walks", count);
  command->add_option("--holdout-fraction", fraction);
  command->add_flag("--no-ranker", flag);
  gr::apps::AddConfigFileOption(command);
  gr::fuzz::ExpectOnlyGrErrors([&] {
    const std::vector<std::string> args =
        gr::apps::ExpandConfigFile(app, {"graphrec", "batch", "--config", file.path(), "--num-walks", "3"});
    try {
      app.parse(std::vector<std::string>(args.rbegin(), args.rend() - 1));
    } catch (const CLI::ParseError&) {  // a value of the wrong type: the binary reports it as usage
    }
  });
  return 0;
}
