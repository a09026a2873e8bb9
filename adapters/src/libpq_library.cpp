#include "libpq_library.hpp"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

namespace trimtab::pg {
namespace {

// The soname of libpq 5, the ABI every PostgreSQL release since 8.2 ships.
constexpr const char* libpq_soname = "libpq.so.5";

std::string dl_error(const char* fallback) {
  const char* why = ::dlerror();
  return why ? why : fallback;
}

template <typename Function>
void resolve(void* library, const char* name, Function& slot) {
  void* symbol = ::dlsym(library, name);
  if (!symbol) {
    const auto why = dl_error(name);
    ::dlclose(library);
    throw std::runtime_error(std::string(libpq_soname) + " lacks " + name + " (" + why + "): install a libpq5 of PostgreSQL 10 or later");
  }
  slot = reinterpret_cast<Function>(symbol);
}

LibpqFunctions load() {
  // RTLD_LOCAL: libpq's symbols (and OpenSSL's, Kerberos'…) stay out of the process' global scope.
  void* library = ::dlopen(libpq_soname, RTLD_NOW | RTLD_LOCAL);
  if (!library)
    throw std::runtime_error("cannot load " + std::string(libpq_soname) + " (" + dl_error("not found") +
                             "): the postgres and pgbouncer adapters and sources need libpq; on Debian it is the libpq5 package");
  LibpqFunctions f{};
  resolve(library, "PQconnectStartParams", f.connect_start_params);
  resolve(library, "PQconnectPoll", f.connect_poll);
  resolve(library, "PQfinish", f.finish);
  resolve(library, "PQstatus", f.status);
  resolve(library, "PQerrorMessage", f.error_message);
  resolve(library, "PQsocket", f.socket);
  resolve(library, "PQsetnonblocking", f.set_nonblocking);
  resolve(library, "PQsetNoticeProcessor", f.set_notice_processor);
  resolve(library, "PQsendQuery", f.send_query);
  resolve(library, "PQflush", f.flush);
  resolve(library, "PQconsumeInput", f.consume_input);
  resolve(library, "PQisBusy", f.is_busy);
  resolve(library, "PQgetResult", f.get_result);
  resolve(library, "PQresultStatus", f.result_status);
  resolve(library, "PQresultErrorField", f.result_error_field);
  resolve(library, "PQresultErrorMessage", f.result_error_message);
  resolve(library, "PQntuples", f.ntuples);
  resolve(library, "PQnfields", f.nfields);
  resolve(library, "PQfnumber", f.fnumber);
  resolve(library, "PQgetisnull", f.getisnull);
  resolve(library, "PQgetvalue", f.getvalue);
  resolve(library, "PQgetlength", f.getlength);
  resolve(library, "PQclear", f.clear);
  resolve(library, "PQescapeLiteral", f.escape_literal);
  resolve(library, "PQescapeIdentifier", f.escape_identifier);
  resolve(library, "PQfreemem", f.freemem);
  resolve(library, "PQconninfoParse", f.conninfo_parse);
  resolve(library, "PQconninfoFree", f.conninfo_free);
  return f; // the library stays loaded for the life of the process
}

} // namespace

const LibpqFunctions& libpq() {
  static const LibpqFunctions functions = load();
  return functions;
}

} // namespace trimtab::pg
