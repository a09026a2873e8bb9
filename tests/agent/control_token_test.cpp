#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <stdlib.h>
#include <sys/stat.h>

#include <trimtab/agent/control_token.hpp>

using namespace trimtab;

namespace {

/// A fresh directory under the temporary directory, removed at the end.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "trimtab-control-XXXXXX").string();
    BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::filesystem::path write(const std::string& name, const std::string& text, mode_t mode) const {
    const auto file = path / name;
    std::ofstream(file) << text;
    ::chmod(file.c_str(), mode);
    return file;
  }
};

mode_t mode_of(const std::filesystem::path& path) {
  struct stat info {};
  BOOST_TEST_REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

} // namespace

BOOST_AUTO_TEST_SUITE(control_token)

BOOST_AUTO_TEST_CASE(constant_time_equal_compares_exactly) {
  BOOST_TEST(constant_time_equal("secret", "secret"));
  BOOST_TEST(constant_time_equal("", ""));
  BOOST_TEST(!constant_time_equal("secret", "secreT"));
  BOOST_TEST(!constant_time_equal("secret", "Secret"));
  BOOST_TEST(!constant_time_equal("secret", "secre"));
  BOOST_TEST(!constant_time_equal("secret", "secrets"));
  BOOST_TEST(!constant_time_equal("secret", ""));
  BOOST_TEST(!constant_time_equal("", "secret"));
  BOOST_TEST(!constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
  BOOST_TEST(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  BOOST_TEST(!constant_time_equal("\x80", "\x00"));
}

BOOST_AUTO_TEST_CASE(read_token_file_strips_and_refuses) {
  TempDir dir;
  std::string error;
  const auto good = dir.write("good", "s3cret-token\n\n", 0600);
  BOOST_TEST(read_token_file(good, error).value_or("(none)") == "s3cret-token");

  const auto readable = dir.write("readable", "s3cret-token\n", 0644);
  BOOST_TEST(!read_token_file(readable, error));
  BOOST_TEST(error.find("mode 0644") != std::string::npos, error);
  BOOST_TEST(error.find("chmod 600 " + readable.string()) != std::string::npos, error);

  const auto group = dir.write("group", "s3cret-token\n", 0640);
  BOOST_TEST(!read_token_file(group, error));
  BOOST_TEST(error.find("chmod 600") != std::string::npos, error);
  const auto writable = dir.write("writable", "s3cret-token\n", 0602);
  BOOST_TEST(!read_token_file(writable, error));

  const auto empty = dir.write("empty", " \n\t\n", 0600);
  BOOST_TEST(!read_token_file(empty, error));
  BOOST_TEST(error == "token file " + empty.string() + " is empty");

  const auto spaced = dir.write("spaced", "two words\n", 0600);
  BOOST_TEST(!read_token_file(spaced, error));
  BOOST_TEST(error.find("cannot be sent in an HTTP header") != std::string::npos, error);

  BOOST_TEST(!read_token_file(dir.path / "missing", error));
  BOOST_TEST(error.find("cannot read token file " + (dir.path / "missing").string()) == 0u, error);

  BOOST_TEST(!read_token_file(dir.path, error));
  BOOST_TEST(error.find("not a regular file") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(create_token_file_writes_a_private_random_token) {
  TempDir dir;
  const auto path = dir.path / "token";
  std::string error;
  const auto old_umask = ::umask(0); // even with nothing masked, the file is 0600
  const auto token = create_token_file(path, error);
  ::umask(old_umask);
  BOOST_TEST_REQUIRE(token.has_value(), error);
  BOOST_TEST(mode_of(path) == 0600u);
  BOOST_TEST(token->size() == 64u);
  BOOST_TEST(token->find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(read_token_file(path, error).value_or("(none)") == *token);

  // Never overwrites an existing token, and leaves nothing behind trying.
  BOOST_TEST(!create_token_file(path, error));
  BOOST_TEST(error.find("cannot create token file " + path.string()) == 0u, error);
  BOOST_TEST(read_token_file(path, error).value_or("(none)") == *token);
  BOOST_TEST(std::distance(std::filesystem::directory_iterator(dir.path), std::filesystem::directory_iterator()) == 1);

  const auto other = create_token_file(dir.path / "other", error);
  BOOST_TEST_REQUIRE(other.has_value(), error);
  BOOST_TEST(*other != *token);

  BOOST_TEST(!create_token_file(dir.path / "no-such-dir" / "token", error));
  BOOST_TEST(!std::filesystem::exists(dir.path / "no-such-dir"));
}

BOOST_AUTO_TEST_SUITE_END()
