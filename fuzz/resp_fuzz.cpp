// libFuzzer target for the RESP2 reply parser (adapters/include/trimtab/adapters/resp.hpp): the
// bytes come from whatever answers on the Redis adapter's address, so no reply may crash the agent,
// make it read outside its buffer (ASan), hang, or allocate beyond what the bytes justify.
//
// The first input byte picks where the rest is cut in two; the parser reads the first part, and
// the second is appended when it says incomplete, as the adapter does with each read. Checked,
// with the default limits and with tight ones:
// - every result is well formed: a complete reply took 1..size bytes and keeps within the limits
//   (lengths, elements, depth), an incomplete one took nothing, an invalid one says why;
// - the replies read in two parts are the replies read from the whole, then the same end
//   (incomplete, or invalid for the same reason): a prefix never changes what a reply is;
// - while parse() runs, the heap never holds more than a multiple of the input plus a small
//   constant, so a declared length ("$1048576", "*65536") reserves nothing it has not received;
// - describe() keeps near its max_chars, and encode_command() of the input's lines parses back to
//   the same arguments.
//
//   scripts/fuzz.sh builds it (build-fuzz/fuzz/resp_fuzz) and runs it on fuzz/corpus/resp/.

#include <trimtab/adapters/resp.hpp>

#include "fuzz_input.hpp"

#include <sanitizer/allocator_interface.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace resp = trimtab::resp;

namespace {

// --- heap use while parse() runs -----------------------------------------------------------------

thread_local bool counting = false;
std::int64_t live_bytes = 0;
std::int64_t peak_bytes = 0;

void on_malloc(const volatile void*, std::size_t size) {
  if (!counting) return;
  live_bytes += static_cast<std::int64_t>(size);
  peak_bytes = std::max(peak_bytes, live_bytes);
}

void on_free(const volatile void* pointer) {
  if (counting) live_bytes -= static_cast<std::int64_t>(__sanitizer_get_allocated_size(pointer));
}

// parse(), with the heap it used at its peak checked against what `input` justifies: a Reply per
// element of at least 3 bytes (with vector growth), the bytes of strings, and the up-front reserve
// of at most 64 elements at each of the open arrays.
resp::ParseResult counted_parse(std::string_view input, const resp::Limits& limits) {
  live_bytes = peak_bytes = 0;
  counting = true;
  auto result = resp::parse(input, limits);
  counting = false;
  const auto allowed = static_cast<std::int64_t>(256 * input.size() + (std::size_t{64} << 10));
  if (peak_bytes > allowed) std::abort();
  return result;
}

// --- checks --------------------------------------------------------------------------------------

void check_reply(const resp::Reply& reply, const resp::Limits& limits, std::size_t depth) {
  switch (reply.type) {
  case resp::Type::simple_string:
  case resp::Type::error:
    if (reply.text.size() > limits.max_line_bytes || reply.text.find_first_of("\r\n") != std::string::npos) std::abort();
    break;
  case resp::Type::bulk_string:
    if (reply.text.size() > limits.max_bulk_bytes) std::abort();
    break;
  case resp::Type::array:
    if (depth + 1 > limits.max_depth || reply.elements.size() > limits.max_array_elements) std::abort();
    for (const auto& element : reply.elements) check_reply(element, limits, depth + 1);
    break;
  case resp::Type::integer:
  case resp::Type::null: break;
  }
  if (reply.type != resp::Type::array && !reply.elements.empty()) std::abort();
  if (!reply.text.empty() && !reply.is_error() && !reply.is_string()) std::abort();

  // One line, cut near max_chars: a few closing brackets, an integer and "…" may pass it.
  constexpr std::size_t max_chars = 40;
  const auto line = resp::describe(reply, max_chars);
  if (line.size() > max_chars + 128) std::abort();
}

void check_result(const resp::ParseResult& result, std::size_t size, const resp::Limits& limits) {
  switch (result.status) {
  case resp::Status::complete:
    if (result.consumed == 0 || result.consumed > size || !result.error.empty()) std::abort();
    check_reply(result.reply, limits, 0);
    break;
  case resp::Status::incomplete:
    if (result.consumed != 0 || !result.error.empty()) std::abort();
    break;
  case resp::Status::invalid:
    if (result.consumed != 0 || result.error.empty()) std::abort();
    break;
  }
}

// The results of reading `input` reply after reply, its first `split` bytes first and the rest
// once the parser asks for more: every complete reply, then the incomplete or invalid end.
std::vector<resp::ParseResult> read_replies(std::string_view input, std::size_t split, const resp::Limits& limits) {
  std::vector<resp::ParseResult> results;
  std::string buffer(input.substr(0, split));
  bool all_in = split >= input.size();
  for (;;) {
    auto result = counted_parse(buffer, limits);
    check_result(result, buffer.size(), limits);
    if (result.status == resp::Status::complete) {
      buffer.erase(0, result.consumed);
      results.push_back(std::move(result));
      continue;
    }
    if (result.status == resp::Status::incomplete && !all_in) {
      buffer.append(input.substr(split));
      all_in = true;
      continue;
    }
    results.push_back(std::move(result));
    return results;
  }
}

bool same(const resp::ParseResult& a, const resp::ParseResult& b) {
  return a.status == b.status && a.consumed == b.consumed && a.error == b.error && a.reply == b.reply;
}

// encode_command() of `arguments` is one complete array of the same bulk strings.
void check_command(const std::vector<std::string>& arguments) {
  const auto bytes = resp::encode_command(arguments);
  const auto result = resp::parse(bytes);
  if (result.status != resp::Status::complete || result.consumed != bytes.size()) std::abort();
  if (result.reply.type != resp::Type::array || result.reply.elements.size() != arguments.size()) std::abort();
  for (std::size_t i = 0; i < arguments.size(); ++i)
    if (result.reply.elements[i].type != resp::Type::bulk_string || result.reply.elements[i].text != arguments[i])
      std::abort();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto input = trimtab::fuzz::text_of(data, size);
  const std::size_t split = trimtab::fuzz::take_control_byte(input) * input.size() / 255;

  const resp::Limits tight{.max_bulk_bytes = 8, .max_line_bytes = 16, .max_array_elements = 4, .max_depth = 2};
  for (const auto& limits : {resp::Limits{}, tight}) {
    const auto whole = read_replies(input, input.size(), limits);
    const auto in_two_parts = read_replies(input, split, limits);
    if (!std::equal(whole.begin(), whole.end(), in_two_parts.begin(), in_two_parts.end(), same)) std::abort();
  }

  std::vector<std::string> arguments;
  for (const auto line : trimtab::fuzz::split_lines(input)) arguments.emplace_back(line);
  if (arguments.size() <= resp::Limits{}.max_array_elements && input.size() <= resp::Limits{}.max_bulk_bytes)
    check_command(arguments);
  return 0;
}
