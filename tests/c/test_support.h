/*
 * What the C tests share (tests/c/test_support.c, compiled with each test
 * by scripts/test-c.sh, as C99 or as C++11 like the test itself):
 *
 *  - a tiny HTTP/1.0 client for graph-emulator's control endpoints
 *    (faults, recorded requests, reset...) and its Graph reads, over a
 *    loopback socket: the tests need no HTTP library of their own;
 *  - text helpers for the JSON those answer (contains, count);
 *  - for the tests run by name (test_used_insight.c, test_credentials.c):
 *    CHECK, CHECK_STATUS and CHECK_STR, which mark the current test failed
 *    and say where, and run_tests, which runs the tests named on the
 *    command line (all without names) and prints "N passed, M failed".
 *
 * test_chaos.c and test_cancel.c count failures their own way (EXPECT).
 */
#ifndef USED_INSIGHT_TEST_SUPPORT_H
#define USED_INSIGHT_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "used_insight.h"

/* ------------------------------------------------- the emulator's controls */

/* The port of a test URL of the form http://127.0.0.1:PORT, or 0 for any
 * other form. */
int emulator_port_of(const char *url);

/* One HTTP/1.0 request to 127.0.0.1:port, with `Authorization: Bearer
 * bearer` unless bearer is NULL (the control endpoints ignore it; Graph's
 * need it) and body (NULL: none) as JSON. Returns the status, or -1 if the
 * emulator could not be reached or answered no HTTP; when body_out is not
 * NULL, sets *body_out to the answer's body (malloc'd, the caller frees;
 * NULL if there is none). */
int emulator_http(int port, const char *bearer, const char *method, const char *path,
                  const char *body, char **body_out);

/* A loopback port where nothing listens (bound, read, released), or 0 if
 * none could be had. */
int closed_port(void);

/* ------------------------------------------------------------------- text */

/* Whether needle occurs in haystack (NULL: never). */
int contains(const char *haystack, const char *needle);

/* How often needle occurs in haystack, not overlapping (NULL: 0). */
size_t count(const char *haystack, const char *needle);

/* ------------------------------------------------------- tests run by name */

/* The test running, and whether one of its checks failed. */
extern const char *current_test;
extern int test_failed;

/* Marks the current test failed, printing file:line, its name and what. */
void test_fail_at(const char *file, int line, const char *what);
/* The same when got is not want, naming both statuses and err's message. */
void test_check_status_at(const char *file, int line, uint32_t got, uint32_t want,
                          const used_insight_error *err);
/* The same when got (NULL included) is not the text want. */
void test_check_str_at(const char *file, int line, const char *got, const char *want);

#define fail_at(line, what) test_fail_at(__FILE__, (line), (what))

#define CHECK(cond)                          \
  do {                                       \
    if (!(cond)) {                           \
      fail_at(__LINE__, "CHECK(" #cond ")"); \
    }                                        \
  } while (0)

#define CHECK_STATUS(got, want, err) \
  test_check_status_at(__FILE__, __LINE__, (uint32_t)(got), (uint32_t)(want), (err))

#define CHECK_STR(got, want) test_check_str_at(__FILE__, __LINE__, (got), (want))

typedef struct {
  const char *name;
  void (*run)(void);
} test_case;

#define TEST(fn) {#fn, fn}

/* Runs the tests named in argv[1..] (every test when there is none), each
 * after before_each (NULL: nothing), printing "ok" or "FAIL" and its name,
 * then "N passed, M failed". Returns main's exit status: 0 when at least
 * one test ran and none failed, 1 otherwise. */
int run_tests(const test_case *tests, size_t n, int argc, char **argv, void (*before_each)(void));

#endif
