#include <trimtab/agent/control_token.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace trimtab {

namespace {

/// Closes a file descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text() { return std::strerror(errno); }

std::string octal_mode(mode_t mode) {
  std::array<char, 8> text{};
  std::snprintf(text.data(), text.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return text.data();
}

} // namespace

bool constant_time_equal(std::string_view expected, std::string_view given) noexcept {
  // On a length mismatch, `given` is compared with itself, so the loop still reads every byte of
  // `given` and its time says nothing about `expected` beyond its length.
  const bool same_length = expected.size() == given.size();
  const char* reference = same_length ? expected.data() : given.data();
  volatile unsigned char difference = same_length ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) {
    difference = static_cast<unsigned char>(difference | (static_cast<unsigned char>(reference[i]) ^
                                                          static_cast<unsigned char>(given[i])));
  }
  return difference == 0;
}

std::optional<std::string> read_token_file(const std::filesystem::path& path, std::string& error) {
  constexpr std::size_t max_size = 4096;
  const std::string name = path.string();
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (file.fd < 0) {
    error = "cannot read token file " + name + ": " + errno_text();
    return std::nullopt;
  }
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) {
    error = "cannot read token file " + name + ": " + errno_text();
    return std::nullopt;
  }
  if (!S_ISREG(info.st_mode)) {
    error = "token file " + name + " is not a regular file";
    return std::nullopt;
  }
  if ((info.st_mode & 077) != 0) {
    error = "token file " + name + " is accessible to group or others (mode " + octal_mode(info.st_mode) +
            "); make it private with: chmod 600 " + name;
    return std::nullopt;
  }
  std::string token;
  std::array<char, 1024> chunk{};
  for (;;) {
    const auto n = ::read(file.fd, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      error = "cannot read token file " + name + ": " + errno_text();
      return std::nullopt;
    }
    if (n == 0) break;
    token.append(chunk.data(), static_cast<std::size_t>(n));
    if (token.size() > max_size) {
      error = "token file " + name + " is larger than 4 KiB; it should hold one token";
      return std::nullopt;
    }
  }
  while (!token.empty() && std::strchr(" \t\r\n\v\f", token.back()) != nullptr) token.pop_back();
  if (token.empty()) {
    error = "token file " + name + " is empty";
    return std::nullopt;
  }
  if (std::any_of(token.begin(), token.end(), [](char c) { return c < '!' || c > '~'; })) {
    error = "token file " + name +
            " holds a character that cannot be sent in an HTTP header (a token is visible ASCII, no spaces)";
    return std::nullopt;
  }
  return token;
}

std::optional<std::string> create_token_file(const std::filesystem::path& path, std::string& error) {
  const std::string name = path.string();
  std::array<unsigned char, 32> bytes{};
  {
    Fd random(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
    if (random.fd < 0) {
      error = "cannot open /dev/urandom: " + errno_text();
      return std::nullopt;
    }
    std::size_t have = 0;
    while (have < bytes.size()) {
      const auto n = ::read(random.fd, bytes.data() + have, bytes.size() - have);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error = "cannot read /dev/urandom: " + (n < 0 ? errno_text() : std::string("end of file"));
        return std::nullopt;
      }
      have += static_cast<std::size_t>(n);
    }
  }
  constexpr std::string_view digits = "0123456789abcdef";
  std::string token;
  token.reserve(bytes.size() * 2);
  for (const auto byte : bytes) {
    token += digits[byte >> 4];
    token += digits[byte & 0x0f];
  }
  std::fill(bytes.begin(), bytes.end(), 0);

  // Written whole under a temporary name, then linked into place: a crash never leaves an empty
  // token file behind (which --create-token would then keep), and link() still refuses to replace
  // a token that exists, as O_EXCL would.
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string temporary = (dir / ("." + path.filename().string() + ".tmp.XXXXXX")).string();
  Fd file(::mkostemp(temporary.data(), O_CLOEXEC));
  if (file.fd < 0) {
    error = "cannot create token file " + name + ": " + errno_text();
    return std::nullopt;
  }
  const auto fail = [&](std::string_view what) {
    error = std::string(what) + " token file " + name + ": " + errno_text();
    ::unlink(temporary.c_str());
    return std::nullopt;
  };
  // The umask may have taken bits away from 0600; set exactly 0600.
  if (::fchmod(file.fd, 0600) != 0) return fail("cannot set the mode of");
  const std::string line = token + "\n";
  std::size_t written = 0;
  while (written < line.size()) {
    const auto n = ::write(file.fd, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write");
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(file.fd) != 0) return fail("cannot write");
  if (::link(temporary.c_str(), path.c_str()) != 0) return fail("cannot create");
  ::unlink(temporary.c_str());
  if (Fd directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); directory.fd >= 0) ::fsync(directory.fd);
  return token;
}

} // namespace trimtab
