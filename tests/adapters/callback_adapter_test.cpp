#include <boost/test/unit_test.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <trimtab/adapters/callback_adapter.hpp>

using namespace trimtab;
namespace asio = boost::asio;

namespace {

// A host server's own state, as the callbacks of an embedding server see it.
struct Host {
  std::int64_t pool_size = 16;
  std::string policy = "lru";
  std::optional<std::thread::id> apply_thread;
  int applies = 0;

  CallbackAdapter adapter(asio::io_context& io) {
    return CallbackAdapter(
        io.get_executor(), "app", {"pool_size", "policy"},
        [this](const Settings& settings) -> AdapterResult {
          ++applies;
          apply_thread = std::this_thread::get_id();
          const auto pool = std::get<std::int64_t>(settings.at(0).second);
          if (pool > 64) return {AdapterError::callback_failed, "pool_size must be <= 64"};
          if (pool < 0) throw std::out_of_range("negative pool");
          pool_size = pool;
          policy = std::get<std::string>(settings.at(1).second);
          return {};
        },
        [this] { return Settings{{"policy", policy}, {"extra", 1.0}, {"pool_size", pool_size}}; });
  }
};

AdapterResult run_apply(asio::io_context& io, Adapter& adapter, Settings settings) {
  std::optional<AdapterResult> result;
  adapter.async_apply(std::move(settings), [&](AdapterResult r) { result = std::move(r); });
  io.restart();
  io.run();
  BOOST_REQUIRE(result);
  return *result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(callback_adapter)

BOOST_AUTO_TEST_CASE(apply_runs_the_host_function_on_the_executor_not_inline) {
  asio::io_context io;
  Host host;
  auto adapter = host.adapter(io);
  bool returned = false;
  bool called_after_return = false;
  std::optional<AdapterResult> result;
  adapter.async_apply({{"pool_size", std::int64_t{32}}, {"policy", std::string("lfu")}}, [&](AdapterResult r) {
    called_after_return = returned;
    result = std::move(r);
  });
  returned = true;
  BOOST_TEST(host.applies == 0); // posted, not run inline
  BOOST_TEST(!result);
  io.run();
  BOOST_TEST(host.applies == 1);
  BOOST_TEST(called_after_return);
  BOOST_REQUIRE(result);
  BOOST_TEST(static_cast<bool>(*result));
  BOOST_TEST(result->message.empty());
  BOOST_TEST(host.pool_size == 32);
  BOOST_TEST(host.policy == "lfu");
  BOOST_TEST((*host.apply_thread == std::this_thread::get_id())); // the thread that runs the io_context
}

BOOST_AUTO_TEST_CASE(the_host_sees_its_params_in_its_own_order) {
  asio::io_context io;
  Host host;
  auto adapter = host.adapter(io);
  const auto result = run_apply(io, adapter, {{"policy", std::string("random")}, {"pool_size", std::int64_t{8}}});
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(host.pool_size == 8);
  BOOST_TEST(host.policy == "random");
}

BOOST_AUTO_TEST_CASE(a_refusal_is_named) {
  asio::io_context io;
  Host host;
  auto adapter = host.adapter(io);
  const auto result = run_apply(io, adapter, {{"pool_size", std::int64_t{100}}, {"policy", std::string("lfu")}});
  BOOST_TEST(!result);
  BOOST_TEST(result.error == make_error_code(AdapterError::callback_failed));
  BOOST_TEST(result.message == "adapter 'app': pool_size must be <= 64");
  BOOST_TEST(host.pool_size == 16);
}

BOOST_AUTO_TEST_CASE(a_message_without_an_error_code_is_a_failure) {
  asio::io_context io;
  CallbackAdapter adapter(
      io.get_executor(), "app", {"x"}, [](const Settings&) { return AdapterResult{{}, "not now"}; },
      [] { return Settings{}; });
  const auto result = run_apply(io, adapter, {{"x", 1.0}});
  BOOST_TEST(result.error == make_error_code(AdapterError::callback_failed));
  BOOST_TEST(result.message == "adapter 'app': not now");
}

BOOST_AUTO_TEST_CASE(exceptions_become_failures) {
  asio::io_context io;
  Host host;
  auto adapter = host.adapter(io);
  const auto result = run_apply(io, adapter, {{"pool_size", std::int64_t{-1}}, {"policy", std::string("lfu")}});
  BOOST_TEST(!result);
  BOOST_TEST(result.error == make_error_code(AdapterError::callback_failed));
  BOOST_TEST(result.message == "adapter 'app': apply threw: negative pool");

  CallbackAdapter throwing(
      io.get_executor(), "cache", {"x"}, [](const Settings&) -> AdapterResult { throw 42; },
      []() -> Settings { throw std::runtime_error("cache is shutting down"); });
  BOOST_TEST(run_apply(io, throwing, {{"x", 1.0}}).message == "adapter 'cache': apply threw an exception");
  std::optional<AdapterResult> read;
  Settings values{{"stale", 1.0}};
  throwing.async_current([&](AdapterResult r, Settings s) {
    read = std::move(r);
    values = std::move(s);
  });
  io.restart();
  io.run();
  BOOST_REQUIRE(read);
  BOOST_TEST(read->message == "adapter 'cache': current threw: cache is shutting down");
  BOOST_TEST(values.empty());
}

BOOST_AUTO_TEST_CASE(settings_must_match_the_params) {
  asio::io_context io;
  Host host;
  auto adapter = host.adapter(io);
  const auto result = run_apply(io, adapter, {{"pool_size", std::int64_t{8}}});
  BOOST_TEST(result.error == make_error_code(AdapterError::bad_settings));
  BOOST_TEST(result.message == "adapter 'app': no value for parameter 'policy'");
  BOOST_TEST(host.applies == 0);
}

BOOST_AUTO_TEST_CASE(current_returns_the_params_in_order) {
  asio::io_context io;
  Host host;
  auto adapter = host.adapter(io);
  std::optional<AdapterResult> result;
  Settings values;
  adapter.async_current([&](AdapterResult r, Settings s) {
    result = std::move(r);
    values = std::move(s);
  });
  BOOST_TEST(!result); // not inline
  io.run();
  BOOST_REQUIRE(result);
  BOOST_TEST(static_cast<bool>(*result));
  BOOST_REQUIRE(values.size() == 2u);
  BOOST_TEST(values[0].first == "pool_size");
  BOOST_TEST(std::get<std::int64_t>(values[0].second) == 16);
  BOOST_TEST(values[1].first == "policy");
  BOOST_TEST(std::get<std::string>(values[1].second) == "lru");
}

BOOST_AUTO_TEST_CASE(current_names_a_missing_param) {
  asio::io_context io;
  CallbackAdapter adapter(
      io.get_executor(), "app", {"pool_size", "batch"}, [](const Settings&) { return AdapterResult{}; },
      [] { return Settings{{"pool_size", std::int64_t{4}}}; });
  std::optional<AdapterResult> result;
  adapter.async_current([&](AdapterResult r, Settings) { result = std::move(r); });
  io.run();
  BOOST_REQUIRE(result);
  BOOST_TEST(result->error == make_error_code(AdapterError::missing_param));
  BOOST_TEST(result->message == "adapter 'app': current did not report parameter 'batch'");
}

BOOST_AUTO_TEST_CASE(calls_in_flight_outlive_the_adapter) {
  asio::io_context io;
  Host host;
  std::optional<AdapterResult> result;
  {
    auto adapter = host.adapter(io);
    adapter.async_apply({{"pool_size", std::int64_t{20}}, {"policy", std::string("lfu")}},
                        [&](AdapterResult r) { result = std::move(r); });
  }
  io.run();
  BOOST_REQUIRE(result);
  BOOST_TEST(static_cast<bool>(*result));
  BOOST_TEST(host.pool_size == 20);
}

BOOST_AUTO_TEST_CASE(the_constructor_checks_its_arguments) {
  asio::io_context io;
  const auto error = [&](std::string name, CallbackAdapter::apply_function apply,
                         CallbackAdapter::current_function current) -> std::string {
    try {
      CallbackAdapter(io.get_executor(), std::move(name), {"x"}, std::move(apply), std::move(current));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  const CallbackAdapter::apply_function apply = [](const Settings&) { return AdapterResult{}; };
  const CallbackAdapter::current_function current = [] { return Settings{}; };
  BOOST_TEST(error("app", nullptr, current) == "adapter 'app': no apply callback");
  BOOST_TEST(error("app", apply, nullptr) == "adapter 'app': no current callback");
  BOOST_TEST(error("", apply, current) == "a callback adapter needs a name");
  CallbackAdapter adapter(io.get_executor(), "app", {"x"}, apply, current);
  BOOST_TEST(adapter.timeout().count() == 5000);
  BOOST_TEST((adapter.get_executor() == asio::any_io_executor(io.get_executor())));
}

BOOST_AUTO_TEST_SUITE_END()
