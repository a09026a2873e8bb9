#pragma once

// libpq, loaded when first needed. Internal to trimtab_adapters.
//
// Linking libpq maps it and the 21 libraries it needs (OpenSSL, GnuTLS, Kerberos, LDAP, SASL…) into
// every trimtab process, about 4 MiB resident, though most agents never talk to PostgreSQL or
// PgBouncer. So the pg code calls libpq through this table, filled by dlopen("libpq.so.5") the first
// time a postgres or pgbouncer adapter or source is built. The types and constants still come from
// libpq-fe.h; libpq 5 has kept these functions' signatures since PostgreSQL 9.

#include <libpq-fe.h>

namespace trimtab::pg {

/// The libpq functions trimtab calls, each with libpq-fe.h's own signature.
struct LibpqFunctions {
  decltype(&::PQconnectStartParams) connect_start_params;
  decltype(&::PQconnectPoll) connect_poll;
  decltype(&::PQfinish) finish;
  decltype(&::PQstatus) status;
  decltype(&::PQerrorMessage) error_message;
  decltype(&::PQsocket) socket;
  decltype(&::PQsetnonblocking) set_nonblocking;
  decltype(&::PQsetNoticeProcessor) set_notice_processor;
  decltype(&::PQsendQuery) send_query;
  decltype(&::PQflush) flush;
  decltype(&::PQconsumeInput) consume_input;
  decltype(&::PQisBusy) is_busy;
  decltype(&::PQgetResult) get_result;
  decltype(&::PQresultStatus) result_status;
  decltype(&::PQresultErrorField) result_error_field;
  decltype(&::PQresultErrorMessage) result_error_message;
  decltype(&::PQntuples) ntuples;
  decltype(&::PQnfields) nfields;
  decltype(&::PQfnumber) fnumber;
  decltype(&::PQgetisnull) getisnull;
  decltype(&::PQgetvalue) getvalue;
  decltype(&::PQgetlength) getlength;
  decltype(&::PQclear) clear;
  decltype(&::PQescapeLiteral) escape_literal;
  decltype(&::PQescapeIdentifier) escape_identifier;
  decltype(&::PQfreemem) freemem;
  decltype(&::PQconninfoParse) conninfo_parse;
  decltype(&::PQconninfoFree) conninfo_free;
};

/// libpq's functions, loading libpq.so.5 on the first call (once per process; it stays loaded).
/// Throws std::runtime_error when it cannot be loaded or lacks a function, saying which and that
/// the libpq5 package provides it; a later call tries again. Thread-safe. Code that only runs once
/// a connection or a result exists cannot be the first caller, so it may call this where nothing
/// may throw.
[[nodiscard]] const LibpqFunctions& libpq();

} // namespace trimtab::pg
