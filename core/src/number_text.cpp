#include <trimtab/core/number_text.hpp>

#include <iomanip>
#include <sstream>

namespace trimtab {

std::string number_text(double value, int significant_digits) {
  std::ostringstream out;
  out << std::setprecision(significant_digits) << value;
  return out.str();
}

} // namespace trimtab
