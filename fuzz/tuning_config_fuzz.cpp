// libFuzzer target for parse_tuning_config: whatever an operator writes in tuning.yaml must end in
// a TuningConfig or a ConfigError (one mistake) or ConfigErrors (several), never a crash, another
// exception, a read out of bounds (ASan) or undefined behaviour (UBSan). Every error must also be
// located inside the text, since `trimtab validate` prints it as file:line:column for an editor to
// jump to: line 0 (the file as a whole) with column 0, or a line of the text (or the one just
// past its end, where YAML reports an unexpected end) and a column within that line, plus one.
//
// Inputs are not capped for nesting depth: yaml-cpp 0.7 stops at 2000 nested collections with a
// ParserException (DeepRecursion), which the loader turns into a ConfigError, and under ASan
// 100,000 unclosed '[' or '{', or 3,000 levels of block indentation, end in a ConfigError without
// overflowing the stack.
//
//   scripts/fuzz.sh builds it (build-fuzz/fuzz/tuning_config_fuzz) and runs it on
//   fuzz/corpus/tuning_config/.

#include <trimtab/config/config_error.hpp>
#include <trimtab/config/tuning_config.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace {

// The length of each line, without its '\n'.
std::vector<std::size_t> line_lengths(std::string_view text) {
  std::vector<std::size_t> lengths{0};
  for (const char c : text) {
    if (c == '\n') lengths.push_back(0);
    else ++lengths.back();
  }
  return lengths;
}

void check_location(std::size_t line, std::size_t column, const std::vector<std::size_t>& lengths) {
  if (line == 0) {
    if (column != 0) std::abort(); // the file as a whole has no column
    return;
  }
  if (line > lengths.size() + 1) std::abort();
  const std::size_t length = line <= lengths.size() ? lengths[line - 1] : 0;
  if (column < 1 || column > length + 1) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The loader reads TRIMTAB_ENABLED; the same input must give the same answer on every machine.
  unsetenv("TRIMTAB_ENABLED");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto lengths = line_lengths(text);
  try {
    const auto config = trimtab::parse_tuning_config(text, "tuning.yaml");
    for (const auto& adapter : config.adapters) check_location(adapter.line, adapter.column, lengths);
  } catch (const trimtab::ConfigErrors& errors) {
    if (errors.errors().empty()) std::abort();
    // The exception is located at its first mistake.
    if (errors.line() != errors.errors().front().line() || errors.column() != errors.errors().front().column())
      std::abort();
    for (const auto& error : errors.errors()) check_location(error.line(), error.column(), lengths);
  } catch (const trimtab::ConfigError& error) {
    check_location(error.line(), error.column(), lengths);
  } catch (const std::exception&) {
    std::abort(); // a yaml-cpp or standard exception the loader let through
  }
  return 0;
}
