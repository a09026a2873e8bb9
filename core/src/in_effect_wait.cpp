#include <trimtab/core/in_effect_wait.hpp>

#include <algorithm>
#include <utility>

namespace trimtab {

using Clock = std::chrono::steady_clock;

InEffectWait::InEffectWait(std::vector<std::string> adapters, Settings applied, Clock::time_point started,
                           std::chrono::milliseconds limit, std::chrono::milliseconds poll)
    : adapters_(std::move(adapters)), applied_(std::move(applied)), started_(started), deadline_(started + limit),
      poll_(poll), next_(InEffectDone{}) {
  for (std::size_t i = 0; i < adapters_.size(); ++i) asking_.push_back(i);
  if (!asking_.empty()) next_ = InEffectAsk{asking_.front()};
}

void InEffectWait::in_effect(Clock::time_point now) { answered(std::nullopt, now); }

void InEffectWait::not_in_effect(const std::string& detail, Clock::time_point now) {
  // Out of turn there is no adapter to name (and nothing to answer).
  if (!std::holds_alternative<InEffectAsk>(next_)) return;
  answered("adapter '" + adapters_[asking_[position_]] + "': " + detail, now);
}

void InEffectWait::cannot_tell(const std::string& message, Clock::time_point now) { answered("cannot tell: " + message, now); }

void InEffectWait::answered(std::optional<std::string> why_not, Clock::time_point now) {
  if (!std::holds_alternative<InEffectAsk>(next_)) return;
  if (why_not) {
    pending_.push_back(asking_[position_]);
    detail_ += (detail_.empty() ? "" : "; ") + *why_not;
  }
  if (++position_ < asking_.size()) {
    next_ = InEffectAsk{asking_[position_]};
    return;
  }
  end_round(now);
}

// Every adapter of the round has answered: done when none still says no or the limit has passed,
// else sleep until the next poll (never past the limit, so the last look comes at it).
void InEffectWait::end_round(Clock::time_point now) {
  if (pending_.empty() || now >= deadline_) {
    finish(now);
    return;
  }
  next_ = InEffectSleep{std::min(now + poll_, deadline_)};
}

void InEffectWait::woke(Clock::time_point now, bool stopping) {
  if (!std::holds_alternative<InEffectSleep>(next_)) return;
  waited_ = true;
  if (stopping) {
    finish(now);
    return;
  }
  asking_ = std::exchange(pending_, {});
  position_ = 0;
  detail_.clear();
  next_ = InEffectAsk{asking_.front()};
}

void InEffectWait::finish(Clock::time_point now) {
  if (!waited_ && pending_.empty()) {
    next_ = InEffectDone{};
    return;
  }
  const auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - started_).count();
  const bool confirmed = pending_.empty();
  next_ = InEffectDone{InEffectRecord{applied_, confirmed, waited_ms, confirmed ? std::string() : detail_}};
}

} // namespace trimtab
