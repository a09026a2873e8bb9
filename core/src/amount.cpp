#include <trimtab/core/amount.hpp>

#include <cmath>

namespace trimtab {

double Amount::around(double current) const noexcept { return percent ? std::abs(current) * value / 100.0 : value; }

} // namespace trimtab
