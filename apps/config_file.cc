#include "apps/config_file.h"

#include <fstream>
#include <string_view>

#include "apps/usage_hints.h"
#include "core/error.h"

namespace gr::apps {
namespace {

constexpr std::string_view kConfigFlag = "--config";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// True if args (after the subcommand) set --name, as "--name", "--name=v".
bool GivenOnCommandLine(const std::vector<std::string>& args, size_t first, const std::string& flag) {
  for (size_t i = first; i < args.size(); ++i)
    if (args[i] == flag || args[i].starts_with(flag + "=")) return true;
  return false;
}

std::vector<std::string> ReadSettings(const CLI::App& command, const std::string& path,
                                      const std::vector<std::string>& args, size_t first) {
  std::ifstream in(path);
  GR_CHECK_CODE(in.good(), ErrorCode::kInvalidArgument, "cannot read config file ", path);
  std::vector<std::string> settings;
  std::string line;
  for (size_t line_number = 1; std::getline(in, line); ++line_number) {
    const std::string_view text = Trim(std::string_view(line).substr(0, line.find('#')));
    if (text.empty()) continue;
    const auto where = [&] { return StrCat(path, ":", line_number); };
    const size_t equals = text.find('=');
    GR_CHECK_CODE(equals != std::string_view::npos, ErrorCode::kInvalidArgument, where(),
                  ": expected 'flag-name = value', got '", Excerpt(text), "'");
    std::string_view name = Trim(text.substr(0, equals));
    if (name.starts_with("--")) name.remove_prefix(2);
    std::string_view value = Trim(text.substr(equals + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    const std::string flag = StrCat("--", name);
    const CLI::Option* option = command.get_option_no_throw(flag);
    if (option == nullptr || flag == kConfigFlag || flag == "--help") {
      std::vector<std::string> settings_of_command;
      for (const CLI::Option* o : command.get_options())
        for (const std::string& long_name : o->get_lnames()) settings_of_command.push_back(long_name);
      const std::string closest = ClosestName(name, settings_of_command);
      GR_THROW(ErrorCode::kInvalidArgument, where(), ": unknown setting '", Excerpt(name), "' (not a flag of graphrec ",
               command.get_name(), ")", closest.empty() ? "" : StrCat("; did you mean '", closest, "'?"));
    }
    if (GivenOnCommandLine(args, first, flag)) continue;
    if (option->get_expected_max() == 0) {  // a flag without a value: true or false
      const bool on = value == "true" || value == "1" || value == "yes";
      GR_CHECK_CODE(on || value == "false" || value == "0" || value == "no", ErrorCode::kInvalidArgument, where(),
                    ": ", name, " takes true or false, got '", Excerpt(value), "'");
      if (on) settings.push_back(flag);
      continue;
    }
    settings.push_back(flag);
    settings.emplace_back(value);
  }
  return settings;
}

}  // namespace

void AddConfigFileOption(CLI::App* command) {
  command->add_option(std::string(kConfigFlag), "file of settings, one 'flag-name = value' per line (any flag below; "
                                                "the command line wins)")
      ->type_name("FILE");
}

std::vector<std::string> ExpandConfigFile(const CLI::App& app, std::vector<std::string> args) {
  if (args.size() < 2) return args;
  const CLI::App* command = nullptr;
  try {
    command = app.get_subcommand(args[1]);
  } catch (const CLI::OptionNotFound&) {
    return args;  // not a subcommand: the parser reports it
  }
  if (command->get_option_no_throw(std::string(kConfigFlag)) == nullptr) return args;
  for (size_t i = 2; i < args.size(); ++i) {
    std::string path;
    if (args[i] == kConfigFlag && i + 1 < args.size()) path = args[i + 1];
    else if (args[i].starts_with(StrCat(kConfigFlag, "="))) path = args[i].substr(kConfigFlag.size() + 1);
    else continue;
    std::vector<std::string> settings = ReadSettings(*command, path, args, 2);
    args.insert(args.begin() + 2, settings.begin(), settings.end());
    return args;
  }
  return args;
}

}  // namespace gr::apps
