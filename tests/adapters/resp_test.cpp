#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <trimtab/adapters/resp.hpp>

// The suite is named resp too: the parser goes by another name here.
namespace wire = trimtab::resp;
using wire::Reply;
using wire::Status;
using wire::Type;

namespace {

Reply simple(std::string text) { return Reply{Type::simple_string, std::move(text)}; }
Reply bulk(std::string text) { return Reply{Type::bulk_string, std::move(text)}; }
Reply error(std::string text) { return Reply{Type::error, std::move(text)}; }
Reply integer(std::int64_t value) { return Reply{Type::integer, {}, value}; }
Reply array(std::vector<Reply> elements) { return Reply{Type::array, {}, 0, std::move(elements)}; }
Reply null() { return Reply{}; }

// The reply `input` holds, which must be complete and take all of it.
Reply whole(const std::string& input, const wire::Limits& limits = {}) {
  const auto result = wire::parse(input, limits);
  BOOST_TEST_REQUIRE((result.status == Status::complete), "not complete: " << result.error);
  BOOST_TEST(result.consumed == input.size());
  BOOST_TEST(result.error.empty());
  return result.reply;
}

std::string invalid(const std::string& input, const wire::Limits& limits = {}) {
  const auto result = wire::parse(input, limits);
  BOOST_TEST_REQUIRE((result.status == Status::invalid));
  BOOST_TEST(result.consumed == 0u);
  BOOST_TEST(!result.error.empty());
  return result.error;
}

bool incomplete(const std::string& input) {
  const auto result = wire::parse(input);
  return result.status == Status::incomplete && result.consumed == 0 && result.error.empty();
}

} // namespace

BOOST_AUTO_TEST_SUITE(resp)

BOOST_AUTO_TEST_CASE(parses_each_type) {
  BOOST_TEST((whole("+OK\r\n") == simple("OK")));
  BOOST_TEST((whole("-ERR unknown command 'FOO'\r\n") == error("ERR unknown command 'FOO'")));
  BOOST_TEST((whole(":0\r\n") == integer(0)));
  BOOST_TEST((whole(":-42\r\n") == integer(-42)));
  BOOST_TEST((whole(":9223372036854775807\r\n") == integer(INT64_MAX)));
  BOOST_TEST((whole(":-9223372036854775808\r\n") == integer(INT64_MIN)));
  BOOST_TEST((whole("$5\r\nhello\r\n") == bulk("hello")));
  BOOST_TEST((whole("$0\r\n\r\n") == bulk("")));
  BOOST_TEST((whole("$-1\r\n") == null()));
  BOOST_TEST((whole("*-1\r\n") == null()));
  BOOST_TEST((whole("*0\r\n") == array({})));
  // Bulk strings hold any bytes, CRLF and NUL included.
  BOOST_TEST((whole(std::string("$6\r\na\r\nb\0c\r\n", 12)) == bulk(std::string("a\r\nb\0c", 6))));
}

BOOST_AUTO_TEST_CASE(parses_nested_arrays) {
  const auto reply = whole("*3\r\n$9\r\nmaxmemory\r\n*2\r\n:1\r\n*1\r\n+x\r\n$-1\r\n");
  BOOST_TEST((reply == array({bulk("maxmemory"), array({integer(1), array({simple("x")})}), null()})));
  BOOST_TEST(reply.elements[0].is_string());
  BOOST_TEST(!reply.is_error());
}

BOOST_AUTO_TEST_CASE(takes_one_reply_and_leaves_the_rest) {
  const std::string input = "+OK\r\n:1\r\n$3\r\nab";
  auto result = wire::parse(input);
  BOOST_TEST((result.status == Status::complete));
  BOOST_TEST(result.consumed == 5u);
  BOOST_TEST((result.reply == simple("OK")));
  result = wire::parse(std::string_view(input).substr(5));
  BOOST_TEST(result.consumed == 4u);
  BOOST_TEST((result.reply == integer(1)));
  BOOST_TEST(incomplete(input.substr(9)));
}

BOOST_AUTO_TEST_CASE(every_split_of_a_reply_is_incomplete_until_its_last_byte) {
  const std::string input = "*4\r\n$9\r\nmaxmemory\r\n$8\r\n16777216\r\n-ERR x\r\n*2\r\n:-7\r\n$-1\r\n";
  const auto expected = array({bulk("maxmemory"), bulk("16777216"), error("ERR x"), array({integer(-7), null()})});
  for (std::size_t cut = 0; cut < input.size(); ++cut) BOOST_TEST(incomplete(input.substr(0, cut)), "cut at " << cut);
  BOOST_TEST((whole(input) == expected));

  // Fed a byte at a time, as parse() is meant to be used: append, parse again.
  std::string received;
  wire::ParseResult result;
  for (const char c : input + "+next\r\n") {
    received += c;
    result = wire::parse(received);
    if (result.status != Status::incomplete) break;
  }
  BOOST_TEST((result.status == Status::complete));
  BOOST_TEST((result.reply == expected));
  BOOST_TEST(result.consumed == input.size());
}

BOOST_AUTO_TEST_CASE(refuses_what_is_not_resp) {
  BOOST_TEST(invalid("HTTP/1.1 400 Bad Request\r\n") == "unknown type byte 'H' (0x48) at offset 0");
  BOOST_TEST(invalid(std::string(1, '\0')) == "unknown type byte 0x00 at offset 0");
  BOOST_TEST(invalid("+OK\n") == "a line feed without a carriage return at offset 3");
  BOOST_TEST(invalid("+O\rK\r\n") == "a carriage return without a line feed at offset 2");
  BOOST_TEST(invalid(":12a\r\n") == "a bad integer at offset 0");
  BOOST_TEST(invalid(":\r\n") == "a bad integer at offset 0");
  BOOST_TEST(invalid(":+1\r\n") == "a bad integer at offset 0");
  BOOST_TEST(invalid(":9223372036854775808\r\n") == "a bad integer at offset 0");
  BOOST_TEST(invalid(":-9223372036854775809\r\n") == "a bad integer at offset 0");
  BOOST_TEST(invalid("$-2\r\n") == "a bad bulk string length at offset 1");
  BOOST_TEST(invalid("$x\r\n") == "a bad bulk string length at offset 1");
  BOOST_TEST(invalid("*-5\r\n") == "a bad array length at offset 1");
  BOOST_TEST(invalid("$3\r\nabcd\r\n") == "a bulk string not followed by CRLF at offset 7");
  BOOST_TEST(invalid("$3\r\nabc\rX") == "a bulk string not followed by CRLF at offset 7");
  BOOST_TEST(invalid("*2\r\n:1\r\n!") == "unknown type byte '!' (0x21) at offset 8");
  // RESP3 types are not RESP2.
  BOOST_TEST(invalid("%1\r\n") == "unknown type byte '%' (0x25) at offset 0");
  BOOST_TEST(invalid("_\r\n") == "unknown type byte '_' (0x5f) at offset 0");
}

BOOST_AUTO_TEST_CASE(refuses_what_is_beyond_the_limits) {
  const wire::Limits limits{.max_bulk_bytes = 4, .max_line_bytes = 8, .max_array_elements = 2, .max_depth = 2};
  BOOST_TEST((whole("$4\r\nabcd\r\n", limits) == bulk("abcd")));
  BOOST_TEST(invalid("$5\r\n", limits) == "a bulk string of 5 bytes, more than the limit of 4");
  BOOST_TEST((whole("+12345678\r\n", limits) == simple("12345678")));
  BOOST_TEST(invalid("+123456789", limits) == "a line longer than 8 bytes at offset 0");
  BOOST_TEST(invalid("+123456789\r\n", limits) == "a line longer than 8 bytes at offset 0");
  BOOST_TEST(invalid("*3\r\n", limits) == "an array of 3 elements, more than the limit of 2");
  BOOST_TEST((whole("*1\r\n*0\r\n", limits) == array({array({})})));
  BOOST_TEST(invalid("*1\r\n*1\r\n*0\r\n", limits) == "arrays nested deeper than 2 at offset 8");
  // A huge announced count is refused before anything is allocated for it.
  BOOST_TEST(invalid("*9223372036854775807\r\n") == "an array of 9223372036854775807 elements, more than the limit of 65536");
  BOOST_TEST(invalid("$9223372036854775807\r\n") ==
             "a bulk string of 9223372036854775807 bytes, more than the limit of 1048576");
  // Deep nesting within the default limits is refused, not recursed into.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "*1\r\n";
  BOOST_TEST(invalid(deep) == "arrays nested deeper than 8 at offset 32");
}

BOOST_AUTO_TEST_CASE(survives_garbage) {
  // Not a fuzzer, but the same promise: any bytes give one of the three statuses, and a complete
  // reply never claims more bytes than it was given.
  std::mt19937 random(7);
  const std::string alphabet = "+-:$*\r\n0123456789-abc";
  for (int round = 0; round < 20000; ++round) {
    std::string input(random() % 40, '\0');
    for (auto& c : input)
      c = random() % 4 == 0 ? static_cast<char>(random() % 256) : alphabet[random() % alphabet.size()];
    const auto result = wire::parse(input);
    if (result.status == Status::complete) BOOST_TEST_REQUIRE(result.consumed <= input.size());
    if (result.status == Status::invalid) BOOST_TEST_REQUIRE(!result.error.empty());
  }
}

BOOST_AUTO_TEST_CASE(encodes_commands_as_arrays_of_bulk_strings) {
  const std::vector<std::string> command{"CONFIG", "SET", "maxmemory", "16777216"};
  const auto bytes = wire::encode_command(command);
  BOOST_TEST(bytes == "*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$9\r\nmaxmemory\r\n$8\r\n16777216\r\n");
  // What the encoder writes, the parser reads back, any bytes included.
  const std::vector<std::string> odd{"", std::string("a\r\n\0b", 5), std::string(300, 'x')};
  const auto reply = whole(wire::encode_command(odd));
  BOOST_TEST((reply == array({bulk(odd[0]), bulk(odd[1]), bulk(odd[2])})));
  BOOST_TEST(wire::encode_command(std::vector<std::string>{}) == "*0\r\n");
}

BOOST_AUTO_TEST_CASE(describes_replies_on_one_line) {
  BOOST_TEST(wire::describe(error("ERR no\r\nsuch")) == "ERR no  such");
  BOOST_TEST(wire::describe(integer(-3)) == "-3");
  BOOST_TEST(wire::describe(null()) == "(nil)");
  BOOST_TEST(wire::describe(array({bulk("maxmemory"), bulk("0"), array({})})) == "[maxmemory, 0, []]");
  BOOST_TEST(wire::describe(bulk(std::string(300, 'x')), 10) == std::string(10, 'x') + "…");
  // Cut on a UTF-8 character boundary.
  BOOST_TEST(wire::describe(bulk("aaaé"), 4) == "aaa…");
}

BOOST_AUTO_TEST_SUITE_END()
