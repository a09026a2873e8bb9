#pragma once

#include <chrono>
#include <optional>

namespace trimtab {

/// A token bucket: `rate` tokens per second, holding at most `burst`, full at first. The control
/// server takes one per POST, so a client guessing tokens is slowed down like any other.
class TokenBucket {
public:
  using clock = std::chrono::steady_clock;

  TokenBucket(double rate, double burst) noexcept;
  /// Takes one token if there is one at `now`.
  [[nodiscard]] bool try_take(clock::time_point now) noexcept;
  /// How long from `now` until a token is available (zero when one is).
  [[nodiscard]] std::chrono::duration<double> wait_time(clock::time_point now) noexcept;

private:
  void refill(clock::time_point now) noexcept;

  double rate_;
  double burst_;
  double tokens_;
  std::optional<clock::time_point> last_;
};

} // namespace trimtab
