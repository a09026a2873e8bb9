#include <trimtab/core/exposition_parser.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <utility>

#include <trimtab/core/ascii.hpp>

namespace trimtab {
namespace {

// Character classes, one table lookup per byte: the scanners below run over every byte of a
// scrape, so they avoid <cctype> (locale-dependent) and chains of comparisons.
enum : unsigned char {
  metric_start = 1, // [a-zA-Z_:]
  metric_char = 2,  // [a-zA-Z0-9_:]
  label_start = 4,  // [a-zA-Z_]
  label_char = 8,   // [a-zA-Z0-9_]
  blank = 16,       // space or tab: the format's token separators
  value_stop = 32,  // what ends a run of plain label value bytes: '"', '\\', and non-ASCII (UTF-8 to check)
  decimal = 64,     // [0-9.]
};

constexpr std::array<unsigned char, 256> make_classes() {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    unsigned char bits = 0;
    if (alpha || c == ':') bits |= metric_start | metric_char;
    if (alpha) bits |= label_start | label_char;
    if (digit) bits |= metric_char | label_char;
    if (c == ' ' || c == '\t') bits |= blank;
    if (c == '"' || c == '\\' || c >= 0x80) bits |= value_stop;
    if (digit || c == '.') bits |= decimal;
    table[static_cast<std::size_t>(c)] = bits;
  }
  return table;
}

constexpr auto classes = make_classes();

[[nodiscard]] inline bool is(char c, unsigned char cls) noexcept {
  return (classes[static_cast<unsigned char>(c)] & cls) != 0;
}

[[nodiscard]] inline const char* skip_blanks(const char* p, const char* end) noexcept {
  while (p != end && is(*p, blank)) ++p;
  return p;
}

[[nodiscard]] inline const char* token_end(const char* p, const char* end) noexcept {
  while (p != end && !is(*p, blank)) ++p;
  return p;
}

// The first byte at or after p that ends a run of plain label value bytes (see value_stop), or end.
// Eight bytes at a time: label values are most of a sample line's bytes, and a byte-wise scan
// costs a load, a lookup and a branch per byte. The classic has-zero-byte test finds '"' and '\\';
// the high bit of a byte flags non-ASCII. A borrow can only flag bytes above a true match, so
// the lowest flagged byte is always the first stop.
[[nodiscard]] inline const char* value_run_end(const char* p, const char* end) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    while (end - p >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p, 8);
      const std::uint64_t quote = word ^ (ones * '"'), backslash = word ^ (ones * '\\');
      const std::uint64_t stops = (((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | word) & highs;
      if (stops != 0) return p + (std::countr_zero(stops) >> 3);
      p += 8;
    }
  }
  while (p != end && !is(*p, value_stop)) ++p;
  return p;
}

[[nodiscard]] inline std::string_view view(const char* begin, const char* end) noexcept {
  return {begin, static_cast<std::size_t>(end - begin)};
}

// Quoted input in messages is cut short: a message must stay readable (and small) whatever
// the line holds.
[[nodiscard]] std::string_view clip(std::string_view text) noexcept { return text.substr(0, 64); }

// One byte as a message shows it: 'x' when printable, else its hex code (a stray CR, a NUL).
struct ByteText {
  char text[12];
  std::size_t size;
  operator std::string_view() const noexcept { return {text, size}; }
};

[[nodiscard]] ByteText describe(char c) noexcept {
  ByteText out{};
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) {
    out.text[0] = '\'';
    out.text[1] = c;
    out.text[2] = '\'';
    out.size = 3;
  } else {
    constexpr char hex[] = "0123456789abcdef";
    std::memcpy(out.text, "byte 0x", 7);
    out.text[7] = hex[byte >> 4];
    out.text[8] = hex[byte & 0xf];
    out.size = 9;
  }
  return out;
}

// Equal texts, compared inline a word at a time: sample names are compared once a line, and
// mostly found equal, where a call to memcmp costs more than the comparison.
[[nodiscard]] inline bool same_text(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  std::size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    std::uint64_t x = 0, y = 0;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return false;
  }
  for (; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// A sample value the way Go's strconv.ParseFloat reads it, since Go exporters write most of what
// we scrape: an optional sign (from_chars rejects '+'), Inf/NaN in any case, exponents like 1e+06.
[[nodiscard]] bool parse_number(std::string_view token, double& out) noexcept {
  const char* p = token.data();
  const char* const end = p + token.size();
  if (p != end && *p == '+') {
    ++p;
    if (p != end && *p == '-') return false;
  }
  if (p == end) return false;
  // Most values are counts: up to 15 digits convert exactly, without from_chars' general path.
  if (const bool negative = *p == '-'; end - p - negative <= 15 && end - p > negative) {
    std::uint64_t whole = 0;
    const char* digit = p + negative;
    while (digit != end && static_cast<unsigned char>(*digit - '0') <= 9)
      whole = whole * 10 + static_cast<std::uint64_t>(*digit++ - '0');
    if (digit == end) {
      out = negative ? -static_cast<double>(whole) : static_cast<double>(whole);
      return true;
    }
  }
  // from_chars also reads "-nan" and "nan(payload)"; Go reads NaN only unsigned and bare.
  if ((*p == 'n' || *p == 'N' || ((*p == '-' || *p == '+') && end - p > 1 && (p[1] == 'n' || p[1] == 'N'))) &&
      !(end - p == 3 && p == token.data()))
    return false;
  const auto [stop, ec] = std::from_chars(p, end, out);
  if (stop != end) return false;
  if (ec == std::errc::result_out_of_range) {
    // Go rounds an underflow to zero and rejects an overflow; from_chars reports both alike.
    const auto e = token.find_first_of("eE");
    if (e == std::string_view::npos || e + 1 >= token.size() || token[e + 1] != '-') return false;
    out = token.front() == '-' ? -0.0 : 0.0;
    return true;
  }
  return ec == std::errc();
}

// Whether a label value is a number the way parse_number reads one: the common spellings of `le`
// and `quantile` ("0.25", "10") are checked without converting them.
[[nodiscard]] bool is_number(std::string_view text) noexcept {
  std::size_t dots = 0;
  for (const char c : text) {
    if (!is(c, decimal)) {
      double ignored = 0.0;
      return parse_number(text, ignored);
    }
    dots += c == '.';
  }
  return dots < text.size() && dots <= 1;
}

// Help and label values escape backslash and newline; label values (and OpenMetrics help) also
// escape the double quote. Other backslashes are kept as written, as Prometheus does.
void unescape(std::string_view raw, bool quote_escape, std::string& out) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      const char next = raw[i + 1];
      if (next == '\\' || next == 'n' || (next == '"' && quote_escape)) {
        out += next == 'n' ? '\n' : next;
        ++i;
        continue;
      }
    }
    out += c;
  }
}

struct TypeName {
  std::string_view word;
  MetricType type;
  bool prometheus;
  bool openmetrics;
};

[[nodiscard]] bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii::lower(a[i]) != ascii::lower(b[i])) return false;
  }
  return true;
}

constexpr TypeName type_names[] = {
    {"counter", MetricType::counter, true, true},
    {"gauge", MetricType::gauge, true, true},
    {"histogram", MetricType::histogram, true, true},
    {"summary", MetricType::summary, true, true},
    {"untyped", MetricType::untyped, true, false},
    {"gaugehistogram", MetricType::gaugehistogram, false, true},
    {"info", MetricType::info, false, true},
    {"stateset", MetricType::stateset, false, true},
    {"unknown", MetricType::unknown, false, true},
    // expfmt takes this client_model name (and reads no samples of the type).
    {"gauge_histogram", MetricType::gaugehistogram, true, false},
};

// expfmt matches Prometheus type names in any case; OpenMetrics writes them in lower case.
[[nodiscard]] const TypeName* find_type(std::string_view word, ExpositionFormat format) noexcept {
  for (const auto& entry : type_names) {
    if (format == ExpositionFormat::prometheus ? entry.prometheus && equal_ignoring_case(entry.word, word)
                                               : entry.openmetrics && entry.word == word)
      return &entry;
  }
  return nullptr;
}

// The first byte of `text` that is not part of valid UTF-8 (as Go's utf8.ValidString: no overlong
// forms, no surrogates, nothing above U+10FFFF), or nullptr.
[[nodiscard]] const char* invalid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (p != end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xbf; // the allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      if (c == 0xe0) low = 0xa0;       // overlong
      else if (c == 0xed) high = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      if (c == 0xf0) low = 0x90;       // overlong
      else if (c == 0xf4) high = 0x8f; // above U+10FFFF
    } else {
      return reinterpret_cast<const char*>(p);
    }
    if (end - p < static_cast<std::ptrdiff_t>(length) || p[1] < low || p[1] > high)
      return reinterpret_cast<const char*>(p);
    for (std::size_t i = 2; i < length; ++i)
      if (p[i] < 0x80 || p[i] > 0xbf) return reinterpret_cast<const char*>(p);
    p += length;
  }
  return nullptr;
}


static_assert(ExpositionParser::max_labels == 256, "update the 'too many labels' message");

} // namespace

ExpositionParser::ExpositionParser(ExpositionFormat format) : format_(format) {
  labels_.reserve(16); // most samples have fewer; grows (up to max_labels) only when one has more
}

std::size_t ExpositionParser::scratch_capacity() const noexcept {
  return labels_.capacity() * sizeof(Label) + values_.capacity() + help_.capacity() +
         families_.capacity() * sizeof(Family) + slots_.capacity() * sizeof(NameSlot);
}

ParseReport ExpositionParser::parse(std::string_view text, ExpositionVisitor& visitor) {
  visitor_ = &visitor;
  report_ = ParseReport{};
  line_ = 1;
  eof_seen_ = false;
  pending_ = PendingFamily{};
  announced_ = no_family;
  families_.clear();
  std::fill(slots_.begin(), slots_.end(), NameSlot{});
  names_ = 0;
  recent_ = {};

  const char* p = text.data();
  const char* const end = p + text.size();
  while (p != end) {
    const auto* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (newline == nullptr && format_ == ExpositionFormat::prometheus) {
      if (skip_blanks(p, end) != end)
        error(p, end,
              {"the last line ends without a newline: the exposition may be cut short, so the line is not used"});
      break;
    }
    const char* line_end = newline != nullptr ? newline : end;
    if (line_end != p && line_end[-1] == '\r') --line_end; // CRLF from Windows exporters
    parse_line(p, line_end);
    p = newline != nullptr ? newline + 1 : end;
    ++line_;
    if (eof_seen_) break;
  }
  flush_family();

  if (format_ == ExpositionFormat::openmetrics) {
    // Without '# EOF' a scrape cut short by a timeout would look complete.
    if (!eof_seen_)
      record(line_, 1, {"expected '# EOF' as the last line of an OpenMetrics exposition"});
    else if (p != end)
      record(line_, 1, {"unexpected content after '# EOF' (it must be the last line)"});
  }
  visitor_ = nullptr;
  return std::exchange(report_, ParseReport{});
}

void ExpositionParser::parse_line(const char* begin, const char* end) {
  const char* p = skip_blanks(begin, end);
  if (p == end) return; // blank line
  if (*p != '#')
    parse_sample(begin, p, end);
  else if (format_ == ExpositionFormat::prometheus)
    parse_prometheus_comment(begin, p, end);
  else
    parse_comment(begin, p, end);
}

// What expfmt reads as metadata: '#', blanks (maybe none), HELP or TYPE, blanks, a metric name,
// blanks, and the help or type. Cut short anywhere before the help or type, the line is a comment.
void ExpositionParser::parse_prometheus_comment(const char* begin, const char* p, const char* end) {
  const char* const hash = p;
  p = skip_blanks(p + 1, end);
  const char* const keyword_end = token_end(p, end);
  if (keyword_end == end) return; // "#", "# word": a comment
  const std::string_view keyword = view(p, keyword_end);
  const bool help = keyword == "HELP";
  if (!help && keyword != "TYPE") return;

  p = skip_blanks(keyword_end, end);
  const char* const name_begin = p;
  if (p != end && is(*p, metric_start))
    while (++p != end && is(*p, metric_char)) {
    }
  if (p == end) return; // "# HELP", "# HELP name": a comment
  if (!is(*p, blank)) {
    if (p == name_begin)
      error(begin, p, {"expected a metric name after '# ", keyword, "', found ", describe(*p)});
    else
      error(begin, p,
            {"invalid character ", describe(*p), " in metric name '", clip(view(name_begin, token_end(p, end))), "'"});
    return;
  }
  const std::uint32_t index = family_of(view(name_begin, p));
  announce(index);
  p = skip_blanks(p, end);
  if (p == end) return; // "# TYPE name ": a comment, though it makes the family known
  Family& family = families_[index];

  if (help) {
    if (family.has_help) {
      error(begin, hash, {"duplicate '# HELP' line for metric '", clip(family.name), "'"});
      return;
    }
    for (const char* q = p; q != end; ++q) {
      if (*q != '\\') continue;
      if (q + 1 == end || (q[1] != '\\' && q[1] != 'n')) {
        error(begin, q, {"invalid escape sequence in help (the only ones are \\\\ and \\n)"});
        return;
      }
      ++q;
    }
    family.help = view(p, end);
    family.has_help = true;
    return;
  }

  if (family.has_type) {
    if (family.untyped_by_samples)
      error(begin, hash,
            {"'# TYPE' line for metric '", clip(family.name), "' after its samples, which were read as untyped"});
    else
      error(begin, hash, {"duplicate '# TYPE' line for metric '", clip(family.name), "'"});
    return;
  }
  const char* const word_end = token_end(p, end);
  const std::string_view word = view(p, word_end);
  const TypeName* type = find_type(word, format_);
  if (type == nullptr) {
    error(begin, p, {"unknown metric type '", clip(word), "' (expected counter, gauge, histogram, summary or untyped)"});
    return;
  }
  if (word_end != end) {
    const char* const rest = skip_blanks(word_end, end);
    if (rest != end)
      error(begin, rest, {"expected end of line after metric type '", word, "', found ", describe(*rest)});
    else
      error(begin, word_end, {"blank at the end of the line after metric type '", word, "'"});
    return;
  }
  family.type = type->type;
  family.has_type = true;
}

std::uint32_t ExpositionParser::find_family(std::string_view name) const noexcept {
  if (slots_.empty()) return no_family;
  const std::size_t mask = slots_.size() - 1;
  const std::size_t hash = std::hash<std::string_view>{}(name);
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const NameSlot& entry = slots_[slot];
    if (entry.family == no_family) return no_family;
    // The hash first: comparing names reads text from anywhere in the document.
    if (entry.hash == static_cast<std::uint32_t>(hash) && entry.name == name) return entry.family;
  }
}

void ExpositionParser::index_name(std::string_view name, std::uint32_t family) {
  // Kept at most half full, so probes stay short and always end at an empty slot.
  if (2 * (names_ + 1) > slots_.size()) {
    std::vector<NameSlot> old(std::max<std::size_t>(64, 2 * slots_.size()));
    old.swap(slots_);
    names_ = 0;
    for (const NameSlot& entry : old)
      if (entry.family != no_family) index_name(entry.name, entry.family);
  }
  const std::size_t mask = slots_.size() - 1;
  const std::size_t hash = std::hash<std::string_view>{}(name);
  std::size_t slot = hash & mask;
  while (slots_[slot].family != no_family) slot = (slot + 1) & mask;
  slots_[slot] = NameSlot{name, family, static_cast<std::uint32_t>(hash)};
  ++names_;
}

std::uint32_t ExpositionParser::family_of(std::string_view name) {
  if (const auto found = find_family(name); found != no_family) return found;
  const auto strip = [&](std::string_view suffix) {
    return name.size() > suffix.size() && name.ends_with(suffix) ? name.substr(0, name.size() - suffix.size())
                                                                 : std::string_view{};
  };
  std::string_view base = strip("_count");
  if (base.empty()) base = strip("_sum");
  const bool bucket = base.empty();
  if (bucket) base = strip("_bucket");
  if (!base.empty()) {
    if (const auto found = find_family(base); found != no_family && families_[found].has_type) {
      const MetricType type = families_[found].type;
      if (type == MetricType::histogram || (type == MetricType::summary && !bucket)) {
        // A histogram's or summary's type never changes once set, so neither does this answer:
        // the name is indexed as the family's, and the next lookup takes one probe.
        index_name(name, found);
        return found;
      }
    }
  }
  families_.push_back(Family{name, {}, MetricType::untyped, false, false, false});
  const auto index = static_cast<std::uint32_t>(families_.size() - 1);
  index_name(name, index);
  return index;
}

std::uint32_t ExpositionParser::recent_family_of(std::string_view name) {
  // Names just read are in cache; the index's keys, spread over the document, mostly are not.
  // Never stale: a name's family, once found, is indexed under that name, and the index is
  // always asked for the name itself first.
  for (const RecentName& entry : recent_)
    if (same_text(entry.name, name)) return entry.family;
  const std::uint32_t family = family_of(name);
  recent_[next_recent_] = RecentName{name, family};
  next_recent_ = (next_recent_ + 1) % recent_.size();
  return family;
}

void ExpositionParser::announce(std::uint32_t family) {
  if (announced_ == family) return;
  flush_family();
  announced_ = family;
}

void ExpositionParser::parse_comment(const char* begin, const char* p, const char* end) {
  const char* const hash = p;
  ++p;
  if (p == end || !is(*p, blank)) return; // "#foo": an ordinary comment
  p = skip_blanks(p, end);
  const char* const keyword_end = token_end(p, end);
  const std::string_view keyword = view(p, keyword_end);
  const bool openmetrics = format_ == ExpositionFormat::openmetrics;
  p = keyword_end;

  std::string_view name;
  if (keyword == "HELP") {
    if (parse_family_name(begin, p, end, keyword, name)) parse_help(begin, hash, p, end, name);
  } else if (keyword == "TYPE") {
    if (parse_family_name(begin, p, end, keyword, name)) parse_type(begin, hash, p, end, name);
  } else if (openmetrics && keyword == "UNIT") {
    if (parse_family_name(begin, p, end, keyword, name)) parse_unit(begin, hash, p, end, name);
  } else if (openmetrics && keyword == "EOF") {
    // Still the end, so a stray word does not also cost a "missing EOF" error.
    if (const char* rest = skip_blanks(p, end); rest != end)
      error(begin, rest, {"expected end of line after '# EOF', found ", describe(*rest)});
    eof_seen_ = true;
  }
  // Any other comment is ignored.
}

void ExpositionParser::parse_help(const char* begin, const char* hash, const char* p, const char* end,
                                  std::string_view name) {
  begin_family(name);
  if (pending_.has_help) {
    error(begin, hash, {"duplicate '# HELP' line for metric '", clip(name), "'"});
    return;
  }
  const std::string_view raw = view(skip_blanks(p, end), end);
  if (raw.find('\\') == std::string_view::npos) {
    pending_.help = raw;
  } else {
    help_.clear();
    unescape(raw, format_ == ExpositionFormat::openmetrics, help_);
    pending_.help = help_;
  }
  pending_.has_help = true;
}

void ExpositionParser::parse_type(const char* begin, const char* hash, const char* p, const char* end,
                                  std::string_view name) {
  p = skip_blanks(p, end);
  const char* const word_end = token_end(p, end);
  const std::string_view word = view(p, word_end);
  if (word.empty()) {
    error(begin, p, {"expected a metric type after '# TYPE ", clip(name), "'"});
    return;
  }
  const TypeName* type = find_type(word, format_);
  if (type == nullptr) {
    error(begin, p,
          {"unknown metric type '", clip(word), "' (expected ",
           format_ == ExpositionFormat::openmetrics
               ? "counter, gauge, histogram, gaugehistogram, summary, info, stateset or unknown"
               : "counter, gauge, histogram, summary or untyped",
           ")"});
    return;
  }
  if (const char* rest = skip_blanks(word_end, end); rest != end) {
    error(begin, rest, {"expected end of line after metric type '", word, "', found ", describe(*rest)});
    return;
  }
  begin_family(name);
  if (pending_.has_type) {
    error(begin, hash, {"duplicate '# TYPE' line for metric '", clip(name), "'"});
    return;
  }
  pending_.type = type->type;
  pending_.has_type = true;
}

void ExpositionParser::parse_unit(const char* begin, const char* hash, const char* p, const char* end,
                                  std::string_view name) {
  p = skip_blanks(p, end);
  const char* const unit_end = token_end(p, end);
  if (const char* rest = skip_blanks(unit_end, end); rest != end) {
    error(begin, rest, {"expected end of line after unit '", clip(view(p, unit_end)), "', found ", describe(*rest)});
    return;
  }
  begin_family(name);
  if (pending_.has_unit) {
    error(begin, hash, {"duplicate '# UNIT' line for metric '", clip(name), "'"});
    return;
  }
  pending_.unit = view(p, unit_end);
  pending_.has_unit = true;
}

bool ExpositionParser::parse_family_name(const char* begin, const char*& p, const char* end,
                                         std::string_view keyword, std::string_view& name) {
  p = skip_blanks(p, end);
  if (p == end) {
    error(begin, p, {"expected a metric name after '# ", keyword, "'"});
    return false;
  }
  const char* const name_end = token_end(p, end);
  if (!is(*p, metric_start)) {
    error(begin, p, {"expected a metric name after '# ", keyword, "', found ", describe(*p)});
    return false;
  }
  const char* q = p + 1;
  while (q != name_end && is(*q, metric_char)) ++q;
  if (q != name_end) {
    error(begin, q, {"invalid character ", describe(*q), " in metric name '", clip(view(p, name_end)), "'"});
    return false;
  }
  name = view(p, name_end);
  p = name_end;
  return true;
}

void ExpositionParser::begin_family(std::string_view name) {
  if (pending_.active && pending_.name == name) return;
  flush_family();
  pending_ = PendingFamily{};
  pending_.name = name;
  pending_.type = format_ == ExpositionFormat::openmetrics ? MetricType::unknown : MetricType::untyped;
  pending_.active = true;
}

void ExpositionParser::flush_family() {
  if (announced_ != no_family) {
    const Family& family = families_[announced_];
    announced_ = no_family;
    std::string_view help = family.help;
    if (help.find('\\') != std::string_view::npos) {
      help_.clear();
      unescape(family.help, false, help_);
      help = help_;
    }
    visitor_->on_family(family.name, family.type, help, {});
    return;
  }
  if (!pending_.active) return;
  pending_.active = false;
  visitor_->on_family(pending_.name, pending_.type, pending_.help, pending_.unit);
}

void ExpositionParser::parse_sample(const char* begin, const char* p, const char* end) {
  flush_family(); // a family's metadata ends where its samples start

  const char* const name_begin = p;
  if ((p = scan_metric_name(begin, p, end)) == nullptr) return;

  Sample sample;
  sample.name = view(name_begin, p);
  sample.line = line_;
  labels_.clear();
  values_.clear();

  std::string_view special; // the label a typed family needs as a number
  if (format_ == ExpositionFormat::prometheus) {
    if (p != end && is(*p, blank)) { // expfmt reads `name {...}` as `name{...}`
      const char* const next = skip_blanks(p, end);
      if (next != end && *next == '{') p = next;
    }
    if (!find_numeric_label(begin, name_begin, sample.name, special)) return;
  }
  if (p != end && *p == '{' && (p = parse_labels(begin, p, end, special)) == nullptr) return;
  if (!parse_value_onwards(begin, p, end, sample)) return;

  sample.labels = std::span<const Label>(labels_.data(), labels_.size());
  visitor_->on_sample(sample);
  ++report_.samples;
}

const char* ExpositionParser::scan_metric_name(const char* begin, const char* p, const char* end) {
  const char* const name_begin = p;
  if (!is(*p, metric_start)) {
    error(begin, p, {"expected a metric name, found ", describe(*p)});
    return nullptr;
  }
  ++p;
  while (p != end && is(*p, metric_char)) ++p;
  if (p != end && *p != '{' && !is(*p, blank)) {
    const char* token_stop = p;
    while (token_stop != end && *token_stop != '{' && !is(*token_stop, blank)) ++token_stop;
    error(begin, p, {"invalid character ", describe(*p), " in metric name '", clip(view(name_begin, token_stop)), "'"});
    return nullptr;
  }
  return p;
}

bool ExpositionParser::find_numeric_label(const char* begin, const char* name_begin, std::string_view name,
                                          std::string_view& special) {
  Family& family = families_[recent_family_of(name)];
  if (!family.has_type) { // its first sample makes it untyped for good, as in expfmt
    family.has_type = true;
    family.type = MetricType::untyped;
    family.untyped_by_samples = true;
  }
  if (family.type == MetricType::histogram)
    special = "le";
  else if (family.type == MetricType::summary)
    special = "quantile";
  else if (family.type == MetricType::gaugehistogram) {
    error(begin, name_begin,
          {"'", clip(family.name), "' is a gauge_histogram, which the Prometheus text format has no samples for"});
    return false;
  }
  return true;
}

bool ExpositionParser::parse_value_onwards(const char* begin, const char* p, const char* end, Sample& sample) {
  const bool openmetrics = format_ == ExpositionFormat::openmetrics;
  p = skip_blanks(p, end);
  if (p == end) {
    error(begin, p, {"expected a value after metric '", clip(sample.name), "'"});
    return false;
  }
  const char* const value_end = token_end(p, end);
  if (!parse_number(view(p, value_end), sample.value)) {
    error(begin, p,
          {"expected a number as the value of '", clip(sample.name), "', found '", clip(view(p, value_end)), "'"});
    return false;
  }
  p = skip_blanks(value_end, end);
  if (!openmetrics && p == end && value_end != end) {
    error(begin, value_end, {"blank at the end of the line after the value (expected a timestamp or nothing)"});
    return false;
  }

  if (p != end && !(openmetrics && *p == '#')) {
    const char* const timestamp_end = token_end(p, end);
    std::int64_t timestamp = 0;
    if (!parse_timestamp(begin, p, timestamp_end, timestamp)) return false;
    sample.timestamp_ms = timestamp;
    p = skip_blanks(timestamp_end, end);
    if (!openmetrics && p == end && timestamp_end != end) {
      error(begin, timestamp_end, {"blank at the end of the line after the timestamp"});
      return false;
    }
  }
  if (p == end) return true;
  if (openmetrics && *p == '#') return skip_exemplar(begin, p, end);
  error(begin, p, {"expected end of line after the timestamp, found ", describe(*p)});
  return false;
}

const char* ExpositionParser::parse_labels(const char* begin, const char* p, const char* end, std::string_view special) {
  ++p; // '{'
  bool reserved = false;
  for (;;) {
    p = skip_blanks(p, end);
    if (p == end) {
      error(begin, p, {"expected a label name or '}'"});
      return nullptr;
    }
    if (*p == '}') { // also after a trailing comma, which the Prometheus format allows
      return p + 1;
    }

    const char* const name_begin = p;
    if ((p = scan_label_name(begin, p, end)) == nullptr) return nullptr;
    const std::string_view name = view(name_begin, p);
    p = skip_blanks(p, end);
    if (p == end || *p != '=') {
      error(begin, p, {"expected '=' after label name '", clip(name), "'"});
      return nullptr;
    }
    p = skip_blanks(p + 1, end);
    if (p == end || *p != '"') {
      error(begin, p, {"expected '\"' to open the value of label '", clip(name), "'"});
      return nullptr;
    }
    const char* const value_begin = p + 1;
    std::string_view value;
    if ((p = scan_label_value(begin, p, end, name, reserved, value)) == nullptr) return nullptr;
    if (!add_label(begin, name_begin, value_begin, Label{name, value}, special)) return nullptr;

    p = skip_blanks(p, end);
    if (p != end && *p == ',') {
      ++p;
      continue;
    }
    if (p != end && *p == '}') {
      return p + 1;
    }
    error(begin, p, {"expected ',' or '}' after the value of label '", clip(name), "'"});
    return nullptr;
  }
}

const char* ExpositionParser::scan_label_name(const char* begin, const char* p, const char* end) {
  const char* const name_begin = p;
  if (!is(*p, label_start)) {
    error(begin, p, {"expected a label name or '}', found ", describe(*p)});
    return nullptr;
  }
  ++p;
  while (p != end && is(*p, label_char)) ++p;
  const std::string_view name = view(name_begin, p);
  if (p != end && *p != '=' && *p != '"' && *p != ',' && *p != '}' && !is(*p, blank)) {
    const char* token_stop = p;
    while (token_stop != end && *token_stop != '=' && *token_stop != '"' && *token_stop != ',' &&
           *token_stop != '}' && !is(*token_stop, blank))
      ++token_stop;
    error(begin, p, {"invalid character ", describe(*p), " in label name '", clip(view(name_begin, token_stop)), "'"});
    return nullptr;
  }
  if (name.size() == 8 && name[0] == '_' && name == "__name__") {
    error(begin, name_begin, {"label name '__name__' is reserved (it holds the metric name)"});
    return nullptr;
  }
  return p;
}

const char* ExpositionParser::scan_label_value(const char* begin, const char* p, const char* end,
                                               std::string_view name, bool& reserved, std::string_view& value) {
  const char* const quote = p;
  const char* const value_begin = ++p;
  bool escaped = false;
  bool ascii = true;
  for (;;) {
    p = value_run_end(p, end);
    if (p == end || *p == '"') break;
    if (*p == '\\') {
      escaped = true;
      if (++p == end) break;
      if (*p != '\\' && *p != '"' && *p != 'n') {
        error(begin, p - 1,
              {"invalid escape sequence in the value of label '", clip(name), "' (the only ones are \\\\, \\\" and \\n)"});
        return nullptr;
      }
    } else {
      ascii = false;
    }
    ++p;
  }
  if (p == end) {
    error(begin, quote, {"unterminated value of label '", clip(name), "': expected a closing '\"'"});
    return nullptr;
  }
  value = view(value_begin, p);
  ++p;
  if (!ascii) {
    if (const char* bad = invalid_utf8(value); bad != nullptr) {
      error(begin, bad, {"invalid UTF-8 (", describe(*bad), ") in the value of label '", clip(name), "'"});
      return nullptr;
    }
  }
  if (escaped) {
    // Values already handed out point into values_, so it must not reallocate while this line
    // is parsed: unescaping only shrinks text, so the line's length is always enough.
    if (!reserved) {
      values_.reserve(static_cast<std::size_t>(end - begin));
      reserved = true;
    }
    const std::size_t start = values_.size();
    unescape(value, true, values_);
    value = std::string_view(values_).substr(start);
  }
  return p;
}

bool ExpositionParser::add_label(const char* begin, const char* name_begin, const char* value_begin, Label label,
                                 std::string_view special) {
  const bool is_special = !special.empty() && label.name == special;
  if (is_special) {
    if (!is_number(label.value)) {
      error(begin, value_begin,
            {"expected a number as the value of label '", label.name, "', found '", clip(label.value), "'"});
      return false;
    }
  } else { // expfmt keeps `le` and `quantile` apart from the labels it checks for duplicates
    for (const Label& other : labels_) {
      if (other.name == label.name) {
        error(begin, name_begin, {"duplicate label name '", clip(label.name), "'"});
        return false;
      }
    }
  }
  if (labels_.size() == max_labels) {
    error(begin, name_begin, {"too many labels (at most 256 per sample)"});
    return false;
  }
  labels_.push_back(std::move(label));
  return true;
}

bool ExpositionParser::parse_timestamp(const char* begin, const char* p, const char* end, std::int64_t& out) {
  if (format_ == ExpositionFormat::prometheus) {
    const char* digits = p;
    if (digits != end && *digits == '+') ++digits;
    long long value = 0;
    const auto [stop, ec] = std::from_chars(digits, end, value);
    if (ec != std::errc() || stop != end || (digits != p && *digits == '-')) {
      error(begin, p, {"expected a timestamp in milliseconds (an integer), found '", clip(view(p, end)), "'"});
      return false;
    }
    out = value;
    return true;
  }
  double seconds = 0.0;
  if (!parse_number(view(p, end), seconds) || !std::isfinite(seconds)) {
    error(begin, p, {"expected a timestamp in seconds, found '", clip(view(p, end)), "'"});
    return false;
  }
  const double ms = std::round(seconds * 1000.0);
  if (!(std::fabs(ms) < 9.2e18)) { // beyond int64 milliseconds
    error(begin, p, {"timestamp out of range: '", clip(view(p, end)), "'"});
    return false;
  }
  out = static_cast<std::int64_t>(ms);
  return true;
}

bool ExpositionParser::skip_exemplar(const char* begin, const char* p, const char* end) {
  p = skip_blanks(p + 1, end); // past '#'
  if (p == end || *p != '{') {
    error(begin, p, {"expected '{' to open the exemplar's labels"});
    return false;
  }
  const char* const open = p++;
  bool quoted = false;
  while (p != end && (quoted || *p != '}')) {
    if (*p == '"')
      quoted = !quoted;
    else if (quoted && *p == '\\' && p + 1 != end)
      ++p;
    ++p;
  }
  if (p == end) {
    error(begin, open, {"expected '}' to close the exemplar's labels"});
    return false;
  }
  p = skip_blanks(p + 1, end);
  const char* const value_end = token_end(p, end);
  double value = 0.0;
  if (!parse_number(view(p, value_end), value)) {
    error(begin, p, {"expected a number as the exemplar's value, found '", clip(view(p, value_end)), "'"});
    return false;
  }
  p = skip_blanks(value_end, end);
  if (p == end) return true;
  const char* const timestamp_end = token_end(p, end);
  if (!parse_number(view(p, timestamp_end), value) || !std::isfinite(value)) {
    error(begin, p, {"expected the exemplar's timestamp in seconds, found '", clip(view(p, timestamp_end)), "'"});
    return false;
  }
  if (const char* rest = skip_blanks(timestamp_end, end); rest != end) {
    error(begin, rest, {"expected end of line after the exemplar, found ", describe(*rest)});
    return false;
  }
  return true;
}

void ExpositionParser::error(const char* begin, const char* at, std::initializer_list<std::string_view> message) {
  record(line_, static_cast<std::size_t>(at - begin) + 1, message);
}

void ExpositionParser::record(std::size_t line, std::size_t column, std::initializer_list<std::string_view> message) {
  // Capped so a document of garbage costs bounded memory; the message is only built when kept.
  if (report_.errors.size() >= max_errors) {
    report_.truncated = true;
    return;
  }
  std::size_t size = 0;
  for (const auto part : message) size += part.size();
  std::string text;
  text.reserve(size);
  for (const auto part : message) text += part;
  report_.errors.push_back(ParseError{line, column, std::move(text)});
}

} // namespace trimtab
