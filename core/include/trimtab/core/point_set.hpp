#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_set>

#include <trimtab/core/point.hpp>

namespace trimtab {

/// The configurations a solver has proposed or been told, as a set that answers "seen before?"
/// in about 40 bytes a configuration, whatever its parameters.
///
/// A solver keeps one for its whole life, so an agent that tunes for weeks holds every
/// configuration it ever tried: as a std::set<Point> that was about 240 bytes each for two
/// parameters (a tree node, the point's vector and its 40-byte values), more with more parameters.
/// Only membership is ever asked, so each point is kept as a 64-bit fingerprint. Two
/// distinct points share one with probability about n^2 / 2^65 (3e-12 for 10,000 points); the cost
/// of such a collision is that a solver skips one configuration it has not tried, never that it
/// repeats one.
class PointSet {
public:
  /// Adds `point`; false when it (or a point with its fingerprint) was already there.
  bool insert(const Point& point) { return fingerprints_.insert(fingerprint(point)).second; }
  [[nodiscard]] bool contains(const Point& point) const { return fingerprints_.contains(fingerprint(point)); }
  void erase(const Point& point) { fingerprints_.erase(fingerprint(point)); }
  [[nodiscard]] std::size_t size() const noexcept { return fingerprints_.size(); }

  /// Equal points (by Point's ==: the same alternatives, 0.0 and -0.0 alike) have equal
  /// fingerprints; the bits of every value are mixed in, so neighbouring points do not cluster.
  [[nodiscard]] static std::uint64_t fingerprint(const Point& point) noexcept;

private:
  // The fingerprint is already a well-mixed hash: the table uses it as is.
  struct AsHash {
    std::size_t operator()(std::uint64_t fingerprint) const noexcept { return static_cast<std::size_t>(fingerprint); }
  };
  std::unordered_set<std::uint64_t, AsHash> fingerprints_;
};

} // namespace trimtab
