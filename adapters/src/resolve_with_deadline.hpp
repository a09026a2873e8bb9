#pragma once

// A host name looked up with Asio's resolver, within a deadline. Internal to trimtab_adapters.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace trimtab::detail {

/// What a lookup found by its deadline.
struct Resolved {
  /// The deadline came first; then nothing else here means anything.
  bool timed_out = false;
  /// Why the resolver failed, or nothing.
  boost::system::error_code error{};
  /// The host's addresses with the port asked for, in the resolver's order. May be empty without
  /// an error: the caller says what no address means for it.
  std::vector<boost::asio::ip::tcp::endpoint> endpoints{};
};

/// Looks `host` up for `port`, giving up at `deadline`; a host that is an IP address already is
/// taken as it is. The resolver runs getaddrinfo on a background thread that cannot be
/// interrupted, so the lookup is raced against the deadline: the caller goes on at the deadline,
/// and a lookup that hangs finishes later on its own, keeping the executor's io_context busy
/// until getaddrinfo returns.
[[nodiscard]] boost::asio::awaitable<Resolved> resolve_with_deadline(boost::asio::any_io_executor executor,
                                                                     std::string host, std::uint16_t port,
                                                                     std::chrono::steady_clock::time_point deadline);

} // namespace trimtab::detail
