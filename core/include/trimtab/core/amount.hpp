#pragma once

namespace trimtab {

/// A change limit: absolute in the parameter's units ("10", "0.5") or relative to the current
/// value ("20%").
struct Amount {
  double value = 0.0;
  bool percent = false;

  /// The limit around `current`: value itself, or value percent of |current|.
  [[nodiscard]] double around(double current) const noexcept;
};

} // namespace trimtab
