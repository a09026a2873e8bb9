#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>

#include <trimtab/core/mix64.hpp>

namespace trimtab {

/// How long to wait before retrying something that keeps failing (an apply, a scrape):
/// after k consecutive failures the next attempt waits min(max, base * 2^(k-1)), or, with jitter,
/// a uniformly drawn duration in [0, that] ("full jitter"), so replicas that failed together do not
/// retry together. The jitter comes from a seeded generator (SplitMix64): the same seed gives the
/// same delays on every platform, so tests and replays are deterministic.
///
///   Backoff backoff(100ms, 30s, seed);
///   on failure: timer.expires_after(backoff.failure());
///   on success: backoff.reset();
class Backoff {
public:
  /// Without `jitter_seed`, delays are exact. Throws std::invalid_argument unless
  /// 0 < base <= max.
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max,
          std::optional<std::uint64_t> jitter_seed = std::nullopt)
      : base_(base), max_(max), jitter_(jitter_seed.has_value()), state_(jitter_seed.value_or(0)) {
    if (base <= std::chrono::milliseconds::zero() || max < base)
      throw std::invalid_argument("backoff: needs 0 < base <= max");
  }

  /// Counts one more consecutive failure and returns how long to wait before the next attempt.
  [[nodiscard]] std::chrono::milliseconds failure() noexcept {
    if (failures_ < std::numeric_limits<std::uint32_t>::max()) ++failures_;
    const auto ceiling = this->ceiling();
    if (!jitter_) return ceiling;
    // A uniform fraction in [0, 1) from the top 53 bits, scaled to [0, ceiling] in whole ms.
    const double fraction = static_cast<double>(next() >> 11) * 0x1.0p-53;
    const auto drawn = static_cast<std::chrono::milliseconds::rep>(fraction * static_cast<double>(ceiling.count() + 1));
    return std::chrono::milliseconds(std::min(drawn, ceiling.count()));
  }

  /// After a success: the next failure waits from base again. The jitter sequence goes on (it is
  /// not reseeded), so two outages do not wait alike.
  void reset() noexcept { failures_ = 0; }

  /// Consecutive failures since construction or the last reset().
  [[nodiscard]] std::uint32_t failures() const noexcept { return failures_; }

  /// min(max, base * 2^(failures() - 1)): the longest the current wait can be; 0 with no failure.
  [[nodiscard]] std::chrono::milliseconds ceiling() const noexcept {
    if (failures_ == 0) return std::chrono::milliseconds::zero();
    const std::uint32_t doublings = failures_ - 1;
    // base * 2^d > max  <=>  base > max / 2^d, checked without overflowing.
    if (doublings >= 62 || base_.count() > (max_.count() >> doublings)) return max_;
    return base_ * (std::int64_t{1} << doublings);
  }

  [[nodiscard]] std::chrono::milliseconds base() const noexcept { return base_; }
  [[nodiscard]] std::chrono::milliseconds max() const noexcept { return max_; }

private:
  // SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and the same on every platform.
  std::uint64_t next() noexcept { return mix64(state_ += splitmix64_gamma); }

  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  bool jitter_;
  std::uint64_t state_;
  std::uint32_t failures_ = 0;
};

} // namespace trimtab
