#include "apps/output.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace gr::apps {
namespace {
bool json_output = false;
}  // namespace

void SetJsonOutput(bool on) { json_output = on; }
bool JsonOutput() { return json_output; }

void PrintJson(const nlohmann::json& object) { std::printf("%s\n", object.dump().c_str()); }

}  // namespace gr::apps
