#include "apps/usage_hints.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>

#include "core/error.h"

namespace gr::apps {
namespace {

// Levenshtein distance, with an adjacent swap counted as one edit.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// "graphrec eval link-prediction" for that subcommand.
std::string CommandPath(const CLI::App* app) {
  std::string path;
  for (; app->get_parent() != nullptr; app = app->get_parent()) path = " " + app->get_name() + path;
  return "graphrec" + path;
}

// The option `name` (with its dashes) of `app` or, since options fall
// through to the parent, of one of its parents.
const CLI::Option* FindOption(const CLI::App* app, const std::string& name) {
  for (; app != nullptr; app = app->get_parent())
    if (const CLI::Option* option = app->get_option_no_throw(name)) return option;
  return nullptr;
}

std::vector<std::string> OptionNames(const CLI::App* app) {
  std::vector<std::string> names;
  for (; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* option : app->get_options()) {
      for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    }
  }
  return names;
}

std::string WithSuggestion(std::string message, std::string_view typed, const std::vector<std::string>& candidates) {
  const std::string closest = ClosestName(typed, candidates);
  return closest.empty() ? message : StrCat(message, "; did you mean '", closest, "'?");
}

}  // namespace

void AddExamples(CLI::App& app) {
  // By command path below graphrec.
  static const std::map<std::string, std::string_view> kExamples = {
      {"generate", "graphrec generate --out data/world --accounts 100000 --seed 1"},
      {"ingest", "graphrec ingest --follows data/world/follows.tsv --interactions data/world/interactions.tsv "
                 "--posts data/world/posts.tsv --out graph.snap"},
      {"stats", "graphrec stats graph.snap --json"},
      {"walk", "graphrec walk --input graph.snap --output walks.txt --num-walks 10 --walk-length 80 --q 0.5"},
      {"embed", "graphrec embed --input graph.snap --output accounts.emb --format native --dimensions 128"},
      {"eval", "graphrec eval link-prediction --input graph.snap --hold-out newest"},
      {"eval node-classification", "graphrec eval node-classification --embeddings accounts.emb --labels labels.txt"},
      {"eval link-prediction", "graphrec eval link-prediction --input graph.snap --hold-out newest"},
      {"eval consistency", "graphrec eval consistency --artifacts artifacts --accounts 200 --ks 100,500,2000"},
      {"index", "graphrec index --embeddings accounts.emb --graph graph.snap --out index/"},
      {"recall", "graphrec recall --embeddings accounts.emb --graph graph.snap --index index/ --kind posts --id 123 "
                 "--k 10 --exclude-known"},
      {"rank-train", "graphrec rank-train --graph graph.snap --embeddings accounts.emb "
                     "--impressions data/world/impressions.tsv --output ranker.bin"},
      {"rank-eval", "graphrec rank-eval --graph graph.snap --embeddings accounts.emb "
                    "--impressions data/world/impressions.tsv --model ranker.bin"},
      {"rank", "graphrec rank --graph graph.snap --embeddings accounts.emb --model ranker.bin --account 123 "
               "--posts 456 789"},
      {"serve", "graphrec serve --artifacts artifacts/ --address 0.0.0.0:50051 --metrics-address 0.0.0.0:9464"},
      {"query", "graphrec query --address 127.0.0.1:50051 similar --id 123 --k 10"},
      {"query similar", "graphrec query similar --id 123 --k 10 --exclude"},
      {"query authors", "graphrec query authors --id 123 --k 10 --exclude --source mixed"},
      {"query posts", "graphrec query posts --id 123 --k 10 --exclude --source walks"},
      {"query embeddings", "graphrec query embeddings --id 123 --id 456 --kind input"},
      {"query rank", "graphrec query rank --id 123 --id 456 --id 789"},
      {"query info", "graphrec query --address 127.0.0.1:50051 info --json"},
      {"query stats", "graphrec query --address 127.0.0.1:50051 stats"},
      {"events", "graphrec events push --address 127.0.0.1:50051 --follows new_follows.tsv"},
      {"events push", "graphrec events push --address 127.0.0.1:50051 --follows new_follows.tsv "
                      "--interactions new_interactions.tsv"},
      {"export", "graphrec export --artifacts artifacts/ --what index --index accounts --format hnswlib "
                 "--out accounts.bin"},
      {"report", "graphrec report --artifacts artifacts/ --out report.html"},
      {"batch", "graphrec batch --input data/world --artifacts artifacts/ --report report.json"},
  };
  const std::function<void(CLI::App*, const std::string&)> add = [&](CLI::App* command, const std::string& path) {
    for (CLI::App* sub : command->get_subcommands([](CLI::App*) { return true; })) {
      const std::string sub_path = path.empty() ? sub->get_name() : path + " " + sub->get_name();
      const auto example = kExamples.find(sub_path);
      if (example != kExamples.end()) {
        sub->footer(StrCat("Example:\n  ", example->second,
                           "\n\nAnywhere on the command line: --json (the result as JSON), --log-level L, "
                           "--log-format text|json (graphrec --help)."));
      }
      add(sub, sub_path);
    }
  };
  add(&app, "");
}

std::string ClosestName(std::string_view typed, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(1, typed.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = EditDistance(typed, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string UnknownNameHint(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* current = &app;
  bool value_follows = false;
  for (const std::string& arg : args) {
    if (value_follows) {
      value_follows = false;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-' && !std::isdigit(static_cast<unsigned char>(arg[1]))) {
      const std::string name = arg.substr(0, arg.find('='));
      const CLI::Option* option = FindOption(current, name);
      if (option == nullptr) {
        return WithSuggestion(StrCat("unknown option '", name, "' of ", CommandPath(current)), name,
                              OptionNames(current));
      }
      value_follows = arg.find('=') == std::string::npos && option->get_expected_max() > 0;
      continue;
    }
    const std::vector<const CLI::App*> named =
        current->get_subcommands([&](const CLI::App* sub) { return sub->check_name(arg); });
    if (!named.empty()) {
      current = named.front();
      continue;
    }
    const std::vector<const CLI::App*> subcommands = current->get_subcommands([](const CLI::App*) { return true; });
    if (!subcommands.empty() && current->get_require_subcommand_min() > 0) {
      std::vector<std::string> names;
      for (const CLI::App* sub : subcommands) names.push_back(sub->get_name());
      return WithSuggestion(StrCat("unknown command '", arg, "' of ", CommandPath(current)), arg, names);
    }
  }
  return "";
}

}  // namespace gr::apps
