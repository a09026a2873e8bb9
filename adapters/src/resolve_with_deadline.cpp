#include "resolve_with_deadline.hpp"

#include <memory>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace trimtab::detail {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// What the waiting caller and the detached lookup share: either may be the last to hold it.
struct Lookup {
  Lookup(const asio::any_io_executor& executor, std::chrono::steady_clock::time_point deadline)
      : resolver(executor), wake(executor, deadline) {}

  tcp::resolver resolver;
  asio::steady_timer wake; // fires at the deadline, or is cancelled when the lookup is done
  bool done = false;
  Resolved resolved;
};

asio::awaitable<void> run_lookup(std::shared_ptr<Lookup> lookup, std::string host, std::string port) {
  auto [ec, results] = co_await lookup->resolver.async_resolve(host, port, tcp::resolver::numeric_service, use_tuple);
  lookup->resolved.error = ec;
  for (const auto& entry : results) lookup->resolved.endpoints.push_back(entry.endpoint());
  lookup->done = true;
  lookup->wake.cancel();
}

} // namespace

asio::awaitable<Resolved> resolve_with_deadline(asio::any_io_executor executor, std::string host, std::uint16_t port,
                                                std::chrono::steady_clock::time_point deadline) {
  boost::system::error_code not_an_address;
  const auto address = asio::ip::make_address(host, not_an_address);
  if (!not_an_address) co_return Resolved{false, {}, {tcp::endpoint(address, port)}};

  auto lookup = std::make_shared<Lookup>(executor, deadline);
  asio::co_spawn(executor, run_lookup(lookup, std::move(host), std::to_string(port)), asio::detached);
  if (!lookup->done) (void)co_await lookup->wake.async_wait(use_tuple);
  if (!lookup->done) {
    lookup->resolver.cancel();
    co_return Resolved{true, {}, {}};
  }
  co_return std::move(lookup->resolved);
}

} // namespace trimtab::detail
