#include <trimtab/adapters/adapter_base.hpp>

#include <stdexcept>
#include <utility>

namespace trimtab {

AdapterBase::AdapterBase(boost::asio::any_io_executor executor, std::string name, std::vector<std::string> params,
                         std::chrono::milliseconds timeout, std::string_view kind)
    : executor_(std::move(executor)), name_(std::move(name)), params_(std::move(params)), timeout_(timeout) {
  if (name_.empty()) throw std::invalid_argument(std::string(kind) + " needs a name");
}

const std::string& AdapterBase::name() const noexcept { return name_; }
const std::vector<std::string>& AdapterBase::params() const noexcept { return params_; }
std::chrono::milliseconds AdapterBase::timeout() const noexcept { return timeout_; }
boost::asio::any_io_executor AdapterBase::get_executor() const { return executor_; }

} // namespace trimtab
