#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <trimtab/adapters/adapter.hpp>

namespace trimtab {

/// What every built-in adapter is made with and reports the same way: its name, its params, its
/// timeout and its executor. An adapter derives from it and adds its operations.
class AdapterBase : public Adapter {
public:
  [[nodiscard]] const std::string& name() const noexcept final;
  [[nodiscard]] const std::vector<std::string>& params() const noexcept final;
  [[nodiscard]] std::chrono::milliseconds timeout() const noexcept final;
  [[nodiscard]] boost::asio::any_io_executor get_executor() const final;

protected:
  /// Throws std::invalid_argument when `name` is empty: "<kind> needs a name", where `kind` is the
  /// adapter's kind with its article ("a file adapter"), since there is no name to quote yet.
  AdapterBase(boost::asio::any_io_executor executor, std::string name, std::vector<std::string> params,
              std::chrono::milliseconds timeout, std::string_view kind);

private:
  boost::asio::any_io_executor executor_;
  std::string name_;
  std::vector<std::string> params_;
  std::chrono::milliseconds timeout_;
};

} // namespace trimtab
