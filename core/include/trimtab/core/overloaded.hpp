#pragma once

// A visitor made of lambdas, one per alternative, for std::visit over a Domain, a Value or a
// JournalRecord.

namespace trimtab::detail {

template <class... Ts> struct overloaded : Ts... { using Ts::operator()...; };
// Clang 14 does not deduce aggregate template arguments (C++20's P1816) by itself.
template <class... Ts> overloaded(Ts...) -> overloaded<Ts...>;

} // namespace trimtab::detail
