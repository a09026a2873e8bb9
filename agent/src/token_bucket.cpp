#include <trimtab/agent/token_bucket.hpp>

#include <algorithm>
#include <limits>

namespace trimtab {

TokenBucket::TokenBucket(double rate, double burst) noexcept
    : rate_(std::max(rate, 0.0)), burst_(std::max(burst, 0.0)), tokens_(burst_) {}

void TokenBucket::refill(clock::time_point now) noexcept {
  if (last_ && now > *last_) {
    const std::chrono::duration<double> elapsed = now - *last_;
    tokens_ = std::min(burst_, tokens_ + rate_ * elapsed.count());
  }
  if (!last_ || now > *last_) last_ = now;
}

bool TokenBucket::try_take(clock::time_point now) noexcept {
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::chrono::duration<double> TokenBucket::wait_time(clock::time_point now) noexcept {
  refill(now);
  if (tokens_ >= 1.0) return std::chrono::duration<double>(0.0);
  if (rate_ <= 0.0 || burst_ < 1.0) return std::chrono::duration<double>(std::numeric_limits<double>::infinity());
  return std::chrono::duration<double>((1.0 - tokens_) / rate_);
}

} // namespace trimtab
