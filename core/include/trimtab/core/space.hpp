#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <trimtab/core/param.hpp>
#include <trimtab/core/point.hpp>

namespace trimtab {

/// Thrown when a Space cannot be built; names the parameter and the field at fault.
class SpaceError : public std::invalid_argument {
public:
  SpaceError(std::string param, std::string field, const std::string& message);
  [[nodiscard]] const std::string& param() const noexcept { return param_; }
  [[nodiscard]] const std::string& field() const noexcept { return field_; }

private:
  std::string param_;
  std::string field_;
};

/// The parameters being tuned, and the map between configurations and the unit cube [0, 1]^d that
/// solvers search.
///
/// Encoding, per kind:
/// - float: linear (or logarithmic) in [min, max];
/// - int and ordinal: each of the n values owns an equal slice 1/n of [0, 1], encoded at the slice's
///   centre, so uniform sampling of the cube samples every value equally often;
/// - categorical: one coordinate per label (one-hot), decoded by the largest coordinate, so no label
///   is closer to another than any other pair is.
class Space {
public:
  /// Validates every parameter and that names are unique; throws SpaceError.
  explicit Space(std::vector<Param> params);

  [[nodiscard]] std::span<const Param> params() const noexcept { return params_; }
  [[nodiscard]] std::size_t size() const noexcept { return params_.size(); }
  /// The unit cube's dimension (categoricals count one per label).
  [[nodiscard]] std::size_t dimensions() const noexcept { return dimensions_; }
  /// The first cube coordinate of parameter `index`.
  [[nodiscard]] std::size_t offset(std::size_t index) const { return offsets_.at(index); }
  [[nodiscard]] std::optional<std::size_t> find(std::string_view name) const noexcept;

  /// The number of distinct configurations, or nothing when a float range makes it unbounded or
  /// the count exceeds 2^64.
  [[nodiscard]] std::optional<std::uint64_t> cardinality() const noexcept;

  /// Every parameter at its default.
  [[nodiscard]] const Point& default_point() const noexcept { return default_point_; }

  /// Nothing when `point` is a configuration of this space, else why not (naming the parameter).
  [[nodiscard]] std::optional<std::string> check(const Point& point) const;

  /// The configuration at a point of the cube; coordinates outside [0, 1] are clamped.
  [[nodiscard]] Point decode(std::span<const double> unit) const;
  /// The cube coordinates of a configuration (which must pass check()); decode(encode(p)) == p.
  [[nodiscard]] std::vector<double> encode(const Point& point) const;
  void encode(const Point& point, std::span<double> out) const;

  /// One parameter's value at cube coordinates `unit` (encoded_width(param) of them).
  [[nodiscard]] static Value decode_value(const Param& param, std::span<const double> unit);
  /// One parameter's cube coordinates for `value`.
  static void encode_value(const Param& param, const Value& value, std::span<double> out);

private:
  std::vector<Param> params_;
  std::vector<std::size_t> offsets_;
  std::size_t dimensions_ = 0;
  Point default_point_;
};

/// The value a parameter takes when no default is written: the middle of its range (geometric
/// middle for log ranges), the middle choice of an ordinal, the first label of a categorical.
[[nodiscard]] Value implied_default(const Param& param);

} // namespace trimtab
