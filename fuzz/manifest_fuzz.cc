// manifest.json as the batch and the server read it (version/version_store.h:
// the event log watermark); the rest of a manifest is only passed through.
#include <string_view>

#include "fuzz/fuzz_file.h"
#include "version/version_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gr::fuzz::ExpectOnlyGrErrors([&] {
    gr::version::EventLogWatermarkOf(std::string_view(reinterpret_cast<const char*>(data), size));
  });
  return 0;
}
