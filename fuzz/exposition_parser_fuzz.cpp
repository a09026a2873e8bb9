// libFuzzer target for ExpositionParser: any bytes, in both formats, must parse without a crash,
// a read outside the input (ASan) or undefined behaviour (UBSan), and every error must be located
// inside the input. Build and run (see the parser's tests for crash regressions):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I core/include \
//     core/src/exposition_parser.cpp fuzz/exposition_parser_fuzz.cpp -o /tmp/fuzz_expo
//   /tmp/fuzz_expo -max_total_time=60 fuzz/corpus/exposition_parser/

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <trimtab/core/exposition_parser.hpp>

namespace {

// Reads every view it is handed, so ASan sees any that points outside live memory.
class Toucher : public trimtab::ExpositionVisitor {
public:
  void on_family(std::string_view name, trimtab::MetricType, std::string_view help, std::string_view unit) override {
    touch(name);
    touch(help);
    touch(unit);
    if (name.empty()) std::abort(); // a family always has a name
  }
  void on_sample(const trimtab::Sample& sample) override {
    touch(sample.name);
    if (sample.name.empty() || sample.labels.size() > trimtab::ExpositionParser::max_labels) std::abort();
    for (const auto& label : sample.labels) {
      touch(label.name);
      touch(label.value);
    }
  }
  std::size_t sum = 0;

private:
  void touch(std::string_view text) {
    for (const char c : text) sum += static_cast<unsigned char>(c);
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t lines = 1;
  for (const char c : text) lines += c == '\n';

  for (const auto format : {trimtab::ExpositionFormat::prometheus, trimtab::ExpositionFormat::openmetrics}) {
    trimtab::ExpositionParser parser(format);
    Toucher toucher;
    // Twice: the second pass reuses the scratch buffers the first one grew.
    for (int pass = 0; pass < 2; ++pass) {
      const auto report = parser.parse(text, toucher);
      if (report.errors.size() > trimtab::ExpositionParser::max_errors) std::abort();
      if (report.truncated && report.errors.size() != trimtab::ExpositionParser::max_errors) std::abort();
      for (const auto& error : report.errors)
        if (error.line == 0 || error.line > lines + 1 || error.column == 0 || error.column > size + 1) std::abort();
    }
  }
  return 0;
}
