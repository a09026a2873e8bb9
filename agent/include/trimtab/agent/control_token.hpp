#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace trimtab {

/// The control token: the bearer secret that lets an operator's POSTs change a running agent. It
/// lives in a private file (created by `trimtab run --create-token`, read by the agent and by the
/// CLI's commands) and is compared in constant time, so neither the file nor the timing gives it
/// away.

/// Whether `expected` and `given` are equal, in time that depends on given.size() only, not on
/// where they differ: every byte is compared, with no early exit. For comparing secrets.
[[nodiscard]] bool constant_time_equal(std::string_view expected, std::string_view given) noexcept;

/// Reads the control token from `path`, without trailing whitespace. Returns nothing, with
/// `error` saying why, when the file cannot be read, is not a regular file, is readable or
/// writable by group or others (mode & 077: "chmod 600" it), is empty, is larger than 4 KiB, or
/// holds characters that cannot travel in an HTTP header (anything but visible ASCII).
[[nodiscard]] std::optional<std::string> read_token_file(const std::filesystem::path& path, std::string& error);

/// Creates `path` (which must not exist) with mode 0600, holding a new token: 32 random bytes from
/// /dev/urandom, hex-encoded (64 characters), and a newline. Returns the token, or nothing with
/// `error` saying why (the file exists, its directory is missing, …); never leaves a partial file.
[[nodiscard]] std::optional<std::string> create_token_file(const std::filesystem::path& path, std::string& error);

} // namespace trimtab
