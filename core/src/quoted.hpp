#pragma once

// Internal: text between single quotes, for error messages.

#include <string>
#include <string_view>

namespace trimtab::detail {

/// `text` between single quotes. Built by appending, not as "'" + std::string: on that, GCC 12 at
/// -O3 warns falsely that the copy may overlap (-Wrestrict, GCC bug 105329), which breaks a
/// -Werror release build.
inline std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  out += text;
  out += '\'';
  return out;
}

} // namespace trimtab::detail
