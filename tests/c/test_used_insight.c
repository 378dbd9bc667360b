/*
 * Tests of the C API against graph-emulator, compiled as C99 and as C++11.
 *
 *   USED_INSIGHT_TEST_URL=http://127.0.0.1:PORT USED_INSIGHT_TEST_TOKEN=T ./test_used_insight [NAME...]
 *
 * The emulator must run with --token T. Each test resets it, queues faults
 * through its control endpoints (a tiny HTTP/1.0 client over a socket, in
 * test_support.c) and checks what the library returned and what the
 * emulator received.
 * Prints one line per test and closes with "N passed, M failed". Run it from
 * the repository's root: two tests read core/tests/certs/two_roots.pem.
 *
 * The test_tls_* tests also need three emulators serving HTTPS, all with
 * --token T: `--tls`, `--tls-names wrong.example` and `--tls-expired`. Each
 * is given by the URL and the CA path it prints ("listening on", "ca"), in
 * USED_INSIGHT_TEST_TLS_URL and USED_INSIGHT_TEST_TLS_CA, the same with
 * TLS_WRONG_NAME and with TLS_EXPIRED. Their controls are reached with curl.
 *
 * The test_proxy_* tests also need two tinyproxy CONNECT proxies on loopback,
 * one allowing every port and one with `ConnectPort 443` only, each given by
 * its URL and its log file (LogLevel Info): USED_INSIGHT_TEST_PROXY_URL and
 * USED_INSIGHT_TEST_PROXY_LOG, the same with REFUSING_PROXY.
 *
 * The test_env_proxy_* tests also need graph-emulator's tunnel-proxy leading
 * every tunnel to the trusted HTTPS emulator, whose certificate must also
 * name graph.microsoft.com and ::ffff:127.0.0.1 (--tls-names): its URL in
 * USED_INSIGHT_TEST_TUNNEL_URL, and in USED_INSIGHT_TEST_TUNNEL_OUT the file
 * its stdout goes to (one line per request).
 */
#define _POSIX_C_SOURCE 200112L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "used_insight.h"
#include "test_support.h"

/* The transport kind of an error (an integer in C, an enum in C++). */
#define CHECK_KIND(err, want) \
  CHECK((uint32_t)used_insight_error_transport_kind(err) == (uint32_t)(want))

/* ------------------------------------------------- the emulator's controls */

static const char *base_url;
static const char *token;
static int emulator_port;

/* One request to the emulator (see emulator_http), with the token: the
 * control endpoints ignore it, Graph's need it. */
static int http(const char *method, const char *path, const char *body, char **body_out) {
  return emulator_http(emulator_port, token, method, path, body, body_out);
}

static void emulator_reset(void) {
  if (http("POST", "/_emulator/reset", "{}", NULL) != 200 ||
      http("POST", "/_emulator/limits", "{}", NULL) != 200) {
    fail_at(__LINE__, "could not reset the emulator");
  }
}

static void emulator_fault(const char *fault_json) {
  if (http("POST", "/_emulator/faults", fault_json, NULL) != 200) {
    fail_at(__LINE__, "the emulator refused a fault");
  }
}

/* What the emulator received, as its JSON (caller frees). */
static char *emulator_requests(void) {
  char *body = NULL;
  if (http("GET", "/_emulator/requests", NULL, &body) != 200) {
    fail_at(__LINE__, "could not list the emulator's requests");
  }
  return body;
}

static size_t emulator_request_count(void) {
  char *requests = emulator_requests();
  size_t n = count(requests, "\"method\":");
  free(requests);
  return n;
}

/* The insights the emulator stored for a user, as its JSON (caller frees). */
static char *emulator_stored(const char *user_id) {
  char path[256];
  char *body = NULL;
  snprintf(path, sizeof path, "/v1.0/users/%s/insights/used", user_id);
  if (http("GET", path, NULL, &body) != 200) {
    fail_at(__LINE__, "could not read the emulator's stored insights");
  }
  return body;
}

/* --------------------------------------------- the HTTPS emulators' controls */

/* A graph-emulator serving HTTPS: its URL and the throwaway CA it made, from
 * two environment variables. With a bad certificate (for another name, or
 * expired) on purpose, its controls are read without checking it. */
typedef struct {
  const char *url_variable;
  const char *ca_variable;
  int bad_certificate;
  const char *url;
  const char *ca;
} https_emulator;

static https_emulator tls_emulator = {"USED_INSIGHT_TEST_TLS_URL", "USED_INSIGHT_TEST_TLS_CA", 0,
                                      NULL, NULL};
static https_emulator wrong_name_emulator = {"USED_INSIGHT_TEST_TLS_WRONG_NAME_URL",
                                             "USED_INSIGHT_TEST_TLS_WRONG_NAME_CA", 1, NULL, NULL};
static https_emulator expired_emulator = {"USED_INSIGHT_TEST_TLS_EXPIRED_URL",
                                          "USED_INSIGHT_TEST_TLS_EXPIRED_CA", 1, NULL, NULL};

/* One request to an HTTPS emulator's control endpoint (or, with the token, a
 * Graph path), made by curl so that what the tests check does not go through
 * the library under test. 0 on a 2xx answer, with the body in *body_out when
 * it is not NULL (malloc'd, caller frees); -1 otherwise. */
static int https_control(const https_emulator *emu, const char *method, const char *path,
                         char **body_out) {
  char command[2048];
  char trust[1024];
  char *reply = NULL;
  size_t len = 0, cap = 0;
  FILE *pipe;
  int n;

  if (body_out != NULL) {
    *body_out = NULL;
  }
  if (strchr(emu->url, '\'') != NULL || strchr(emu->ca, '\'') != NULL) {
    return -1; /* not quoted below */
  }
  if (emu->bad_certificate) {
    snprintf(trust, sizeof trust, "--insecure"); /* the certificate under test */
  } else {
    snprintf(trust, sizeof trust, "--cacert '%s'", emu->ca);
  }
  /* -q first: no ~/.curlrc; --noproxy: whatever the environment says. */
  n = snprintf(command, sizeof command,
               "curl -q --silent --show-error --fail --max-time 10 --noproxy '*' %s "
               "--request %s --header 'Authorization: Bearer %s' %s '%s%s'",
               trust, method, token,
               strcmp(method, "POST") == 0
                   ? "--header 'Content-Type: application/json' --data '{}'"
                   : "",
               emu->url, path);
  if (n < 0 || (size_t)n >= sizeof command) {
    return -1;
  }
  fflush(NULL);
  pipe = popen(command, "r");
  if (pipe == NULL) {
    return -1;
  }
  for (;;) {
    size_t got;
    if (cap - len < 4096) {
      char *bigger;
      cap = cap * 2 + 8192;
      bigger = (char *)realloc(reply, cap);
      if (bigger == NULL) {
        free(reply);
        pclose(pipe);
        return -1;
      }
      reply = bigger;
    }
    got = fread(reply + len, 1, cap - len - 1, pipe);
    if (got == 0) {
      break;
    }
    len += got;
  }
  reply[len] = '\0';
  if (pclose(pipe) != 0) {
    free(reply);
    return -1;
  }
  if (body_out != NULL) {
    *body_out = reply;
  } else {
    free(reply);
  }
  return 0;
}

/* At the start of a test using `emu`: it must have been given (else the test
 * fails, naming the variables); then it is reset. Returns whether to go on. */
static int https_emulator_ready(const https_emulator *emu) {
  if (emu->url == NULL || emu->ca == NULL) {
    char what[256];
    snprintf(what, sizeof what, "%s and %s are not set (scripts/test-c.sh sets them)",
             emu->url_variable, emu->ca_variable);
    fail_at(__LINE__, what);
    return 0;
  }
  if (https_control(emu, "POST", "/_emulator/reset", NULL) != 0) {
    fail_at(__LINE__, "could not reset the HTTPS emulator");
    return 0;
  }
  return 1;
}

/* What an HTTPS emulator received, as its JSON (caller frees). */
static char *https_emulator_requests(const https_emulator *emu) {
  char *body = NULL;
  if (https_control(emu, "GET", "/_emulator/requests", &body) != 0) {
    fail_at(__LINE__, "could not list the HTTPS emulator's requests");
  }
  return body;
}

/* How many requests an HTTPS emulator received; (size_t)-1 if unknown. */
static size_t https_emulator_request_count(const https_emulator *emu) {
  char *requests = https_emulator_requests(emu);
  size_t n = requests != NULL ? count(requests, "\"method\":") : (size_t)-1;
  free(requests);
  return n;
}

/* ---------------------------------------------------------------- fixtures */

static const char *const USER = "alice@contoso.com";

static const char *const INSIGHT_JSON =
    "{\"lastUsed\":{\"lastAccessedDateTime\":\"2026-11-28T10:00:00Z\"},"
    "\"resourceVisualization\":{\"title\":\"Quarterly report\",\"type\":\"Word\"},"
    "\"resourceReference\":{\"webUrl\":\"https://contoso.sharepoint.com/report.docx\"}}";

static used_insight_fields valid_fields(void) {
  used_insight_fields fields = USED_INSIGHT_FIELDS_INIT;
  fields.title = "Quarterly report";
  fields.type = "Word";
  fields.web_url = "https://contoso.sharepoint.com/sites/finance/report.docx";
  fields.last_accessed = "2026-11-28T10:00:00Z";
  return fields;
}

/* Options pointing at the emulator with the right token. */
static used_insight_options *emulator_options(void) {
  used_insight_options *options = used_insight_options_new();
  CHECK(options != NULL);
  CHECK_STATUS(used_insight_options_set_base_url(options, base_url), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_token(options, token), USED_INSIGHT_STATUS_OK, NULL);
  return options;
}

static used_insight_client *client_from(const used_insight_options *options) {
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  CHECK_STATUS(used_insight_client_new(options, &client, &err), USED_INSIGHT_STATUS_OK, err);
  CHECK(err == NULL);
  used_insight_error_free(err);
  return client;
}

static used_insight_client *emulator_client(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client = client_from(options);
  used_insight_options_free(options);
  return client;
}

/* ------------------------------------- the emulator's limits; limited clients */

/* The emulator's limits (its JSON); emulator_reset lifts them again. */
static void emulator_limits(const char *limits_json) {
  if (http("POST", "/_emulator/limits", limits_json, NULL) != 200) {
    fail_at(__LINE__, "the emulator refused the limits");
  }
}

/* How many requests the emulator's limits answered 429 (or -1), and the most
 * it had in progress at once. */
static long emulator_throttled(long *peak_in_flight) {
  char *report = NULL;
  const char *at;
  long throttled = -1;
  if (http("GET", "/_emulator/limits", NULL, &report) != 200 || report == NULL) {
    fail_at(__LINE__, "could not read the emulator's limits");
    free(report);
    return -1;
  }
  at = strstr(report, "\"throttled\":");
  if (at != NULL) {
    throttled = strtol(at + strlen("\"throttled\":"), NULL, 10);
  }
  at = strstr(report, "\"peak_in_flight\":");
  if (peak_in_flight != NULL && at != NULL) {
    *peak_in_flight = strtol(at + strlen("\"peak_in_flight\":"), NULL, 10);
  }
  free(report);
  return throttled;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* A client with the rate limit given, or (max_concurrent 0) without one. */
static used_insight_client *limited_client(uint32_t max_concurrent, uint32_t requests,
                                           double per_seconds) {
  used_insight_options *options = emulator_options();
  used_insight_client *client;
  if (max_concurrent == 0) {
    CHECK_STATUS(used_insight_options_disable_rate_limit(options), USED_INSIGHT_STATUS_OK, NULL);
  } else {
    CHECK_STATUS(used_insight_options_set_rate_limit(options, max_concurrent, requests, per_seconds),
                 USED_INSIGHT_STATUS_OK, NULL);
  }
  client = client_from(options);
  used_insight_options_free(options);
  return client;
}

/* ------------------------------------------------------------------- tests */

static void test_version_matches_the_header(void) {
  CHECK_STR(used_insight_version(), USED_INSIGHT_VERSION_STRING);
  CHECK_STR(used_insight_status_name(USED_INSIGHT_STATUS_TIMEOUT), "USED_INSIGHT_STATUS_TIMEOUT");
  CHECK_STR(used_insight_status_name(USED_INSIGHT_STATUS_OK), "USED_INSIGHT_STATUS_OK");
  /* A number that is no status is read as an integer, never trusted. */
  CHECK_STR(used_insight_status_name(12345u), "unknown");
  CHECK_STR(used_insight_status_name(0xFFFFFFFFu), "unknown");
}

/* At file scope: in C the INIT macros are constant initialisers. */
static const used_insight_fields STATIC_FIELDS = USED_INSIGHT_FIELDS_INIT;
static const used_insight_batch_item STATIC_ITEM = USED_INSIGHT_BATCH_ITEM_INIT;

/* Every byte after struct_size is zero: every member NULL. */
static int zero_after_struct_size(const void *object, size_t size) {
  const unsigned char *bytes = (const unsigned char *)object;
  size_t i;
  for (i = sizeof(size_t); i < size; i++) {
    if (bytes[i] != 0) {
      return 0;
    }
  }
  return 1;
}

static void test_init_macros_set_struct_size_and_nothing_else(void) {
  used_insight_fields fields = USED_INSIGHT_FIELDS_INIT;
  used_insight_batch_item items[2] = {USED_INSIGHT_BATCH_ITEM_INIT, USED_INSIGHT_BATCH_ITEM_INIT};
  CHECK(fields.struct_size == sizeof(used_insight_fields));
  CHECK(zero_after_struct_size(&fields, sizeof fields));
  CHECK(fields.title == NULL && fields.last_modified == NULL);
  CHECK(items[1].struct_size == sizeof(used_insight_batch_item));
  CHECK(zero_after_struct_size(&items[1], sizeof items[1]));
  CHECK(items[1].fields == NULL);
  CHECK(STATIC_FIELDS.struct_size == sizeof(used_insight_fields));
  CHECK(zero_after_struct_size(&STATIC_FIELDS, sizeof STATIC_FIELDS));
  CHECK(STATIC_ITEM.struct_size == sizeof(used_insight_batch_item));
  CHECK(zero_after_struct_size(&STATIC_ITEM, sizeof STATIC_ITEM));
}

static void test_free_null_is_a_no_op(void) {
  used_insight_options_free(NULL);
  used_insight_client_free(NULL);
  used_insight_error_free(NULL);
  used_insight_result_free(NULL);
  used_insight_string_free(NULL);
  used_insight_batch_options_free(NULL);
  used_insight_batch_results_free(NULL);
}

static void test_create_json_succeeds_and_sends_graphs_headers(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  char *out = NULL;
  char *requests = NULL;

  CHECK_STATUS(used_insight_options_set_user_agent(options, "c-tests/1.0"), USED_INSIGHT_STATUS_OK,
               NULL);
  client = client_from(options);
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err), USED_INSIGHT_STATUS_OK,
               err);
  CHECK(err == NULL); /* *err is written only on failure */
  CHECK(contains(out, "\"id\":\""));
  CHECK(contains(out, "\"title\":\"Quarterly report\""));
  CHECK(contains(out, "\"@odata.type\":\"#microsoft.graph.usedInsight\""));

  requests = emulator_requests();
  CHECK(count(requests, "\"method\":") == 1);
  CHECK(contains(requests, "\"path\":\"/v1.0/users/alice@contoso.com/insights/used\""));
  {
    char expected[256];
    snprintf(expected, sizeof expected, "\"authorization\":\"Bearer %s\"", token);
    CHECK(contains(requests, expected));
  }
  CHECK(contains(requests, "\"user-agent\":\"c-tests/1.0 used-insight/"));
  CHECK(contains(requests, "\"client-request-id\":\""));

  free(requests);
  used_insight_string_free(out);
  used_insight_error_free(err);
  used_insight_client_free(client);
  used_insight_options_free(options);
}

static void test_create_fields_succeeds_with_id_readable_without_json(void) {
  used_insight_client *client = emulator_client();
  used_insight_fields fields = valid_fields();
  used_insight_result *result = NULL;
  used_insight_error *err = NULL;
  const char *id;
  char *requests = NULL;

  fields.container_display_name = "Finance";
  fields.container_web_url = "https://contoso.sharepoint.com/sites/finance";
  fields.resource_type = "microsoft.graph.driveItem";
  fields.last_modified = "2026-11-27T09:30:00.1234567+01:00";
  CHECK_STATUS(used_insight_create_fields(client, USER, &fields, &result, &err),
               USED_INSIGHT_STATUS_OK, err);
  CHECK(err == NULL);
  id = used_insight_result_id(result);
  CHECK(id != NULL && strlen(id) == 36); /* the emulator's ids are UUIDs */
  CHECK(id != NULL && contains(used_insight_result_json(result), id));
  CHECK(contains(used_insight_result_json(result), "\"containerDisplayName\":\"Finance\""));
  /* Seven fractional digits and the offset are kept exactly. */
  CHECK(contains(used_insight_result_json(result), "2026-11-27T09:30:00.1234567+01:00"));

  requests = emulator_requests();
  CHECK(count(requests, "\"method\":") == 1);
  CHECK(contains(requests, "microsoft.graph.resourceReference"));

  free(requests);
  used_insight_result_free(result);
  used_insight_client_free(client);
}

static void test_api_version_beta_is_used_in_the_path(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  char *out = NULL;
  char *requests = NULL;

  CHECK_STATUS(used_insight_options_set_api_version(options, "beta"), USED_INSIGHT_STATUS_OK, NULL);
  client = client_from(options);
  CHECK_STATUS(used_insight_create(client, "a/b?c", INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_OK, err);
  requests = emulator_requests();
  /* usersId is one percent-encoded path segment. */
  CHECK(contains(requests, "\"path\":\"/beta/users/a%2Fb%3Fc/insights/used\""));

  free(requests);
  used_insight_string_free(out);
  used_insight_error_free(err);
  used_insight_client_free(client);
  used_insight_options_free(options);
}

static void test_validation_lists_every_problem_and_sends_nothing(void) {
  used_insight_client *client = emulator_client();
  used_insight_fields fields = USED_INSIGHT_FIELDS_INIT;
  used_insight_result *result = NULL;
  used_insight_error *err = NULL;
  char *out = NULL;

  fields.title = "Quarterly report";
  fields.preview_image_url = "ftp://contoso.com/preview.png";
  fields.last_accessed = "2026-11-28 10:00"; /* no T, no offset */
  CHECK_STATUS(used_insight_create_fields(client, "", &fields, &result, &err),
               USED_INSIGHT_STATUS_VALIDATION_FAILED, err);
  CHECK(result == NULL);
  CHECK_STATUS(used_insight_error_status(err), USED_INSIGHT_STATUS_VALIDATION_FAILED, err);
  CHECK(used_insight_error_problem_count(err) == 4);
  CHECK_STR(used_insight_error_problem_path(err, 0), "usersId");
  CHECK_STR(used_insight_error_problem_reason(err, 0), "must not be empty");
  CHECK_STR(used_insight_error_problem_path(err, 1), "lastUsed.lastAccessedDateTime");
  CHECK_STR(used_insight_error_problem_path(err, 2), "resourceVisualization.previewImageUrl");
  CHECK(contains(used_insight_error_problem_reason(err, 2), "http or https"));
  CHECK_STR(used_insight_error_problem_path(err, 3), "resourceReference");
  CHECK_STR(used_insight_error_problem_reason(err, 3), "is required");
  CHECK(used_insight_error_problem_path(err, 4) == NULL);
  CHECK(used_insight_error_problem_reason(err, 4) == NULL);
  CHECK(contains(used_insight_error_message(err), "4 problems"));
  CHECK(used_insight_error_http_status(err) == 0);
  CHECK(used_insight_error_client_request_id(err) == NULL);
  used_insight_error_free(err);
  err = NULL;

  /* The JSON variant reports shape problems with their paths too. */
  CHECK_STATUS(used_insight_create(client, USER, "{\"lastUsed\":[],\"x\":1}", &out, &err),
               USED_INSIGHT_STATUS_VALIDATION_FAILED, err);
  CHECK(out == NULL);
  CHECK(used_insight_error_problem_count(err) == 3);
  CHECK_STR(used_insight_error_problem_path(err, 0), "lastUsed"); /* not an object, */
  CHECK(contains(used_insight_error_problem_reason(err, 0), "expected an object")); /* once */
  CHECK_STR(used_insight_error_problem_path(err, 1), "resourceVisualization");
  CHECK_STR(used_insight_error_problem_reason(err, 1), "is required");
  CHECK_STR(used_insight_error_problem_path(err, 2), "resourceReference");
  used_insight_error_free(err);
  err = NULL;

  CHECK_STATUS(used_insight_create(client, USER, "not json", &out, &err),
               USED_INSIGHT_STATUS_VALIDATION_FAILED, err);
  CHECK(used_insight_error_problem_count(err) >= 1);

  CHECK(emulator_request_count() == 0);
  used_insight_error_free(err);
  used_insight_client_free(client);
}

static void test_graph_400_carries_code_and_request_ids(void) {
  used_insight_client *client = emulator_client();
  used_insight_error *err = NULL;
  char *out = NULL;
  const char *client_request_id;

  emulator_fault("{\"status\":400}");
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_GRAPH_API_ERROR, err);
  CHECK(out == NULL);
  CHECK(used_insight_error_http_status(err) == 400);
  CHECK_STR(used_insight_error_graph_code(err), "BadRequest");
  CHECK(used_insight_error_request_id(err) != NULL &&
        strlen(used_insight_error_request_id(err)) == 36);
  client_request_id = used_insight_error_client_request_id(err);
  CHECK(client_request_id != NULL && strlen(client_request_id) == 36);
  CHECK(used_insight_error_retry_after_ms(err) == -1);
  CHECK(used_insight_error_problem_count(err) == 0);
  CHECK(!used_insight_error_request_may_have_been_processed(err));
  CHECK(contains(used_insight_error_message(err), "HTTP 400"));
  CHECK(emulator_request_count() == 1); /* 400 is not retried */

  used_insight_error_free(err);
  used_insight_client_free(client);
}

static void test_wrong_token_is_a_graph_401(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  char *out = NULL;

  CHECK_STATUS(used_insight_options_set_token(options, "not-the-token"), USED_INSIGHT_STATUS_OK,
               NULL);
  client = client_from(options);
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_GRAPH_API_ERROR, err);
  CHECK(used_insight_error_http_status(err) == 401);
  CHECK_STR(used_insight_error_graph_code(err), "InvalidAuthenticationToken");
  CHECK(!contains(used_insight_error_message(err), "not-the-token")); /* never the token */

  used_insight_error_free(err);
  used_insight_client_free(client);
  used_insight_options_free(options);
}

static void test_429_then_success_is_retried_with_the_same_client_request_id(void) {
  used_insight_client *client = emulator_client();
  used_insight_error *err = NULL;
  char *out = NULL;
  char *requests = NULL;
  const char *first;
  char id[64];

  emulator_fault("{\"status\":429,\"retry_after\":\"0.2\"}");
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err), USED_INSIGHT_STATUS_OK,
               err);
  CHECK(contains(out, "\"id\":\""));
  requests = emulator_requests();
  CHECK(count(requests, "\"method\":") == 2);
  first = strstr(requests ? requests : "", "\"client-request-id\":\"");
  CHECK(first != NULL);
  if (first != NULL) {
    memset(id, 0, sizeof id);
    memcpy(id, first, strlen("\"client-request-id\":\"") + 36);
    CHECK(count(requests, id) == 2);
  }
  CHECK(contains(requests, "\"retry-attempt\":\"1\""));

  free(requests);
  used_insight_string_free(out);
  used_insight_error_free(err);
  used_insight_client_free(client);
}

static void test_429_beyond_the_retries_reports_retry_after(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  char *out = NULL;

  CHECK_STATUS(used_insight_options_set_max_retries(options, 0), USED_INSIGHT_STATUS_OK, NULL);
  client = client_from(options);
  emulator_fault("{\"status\":429,\"retry_after\":\"2.5\"}");
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_GRAPH_API_ERROR, err);
  CHECK(used_insight_error_http_status(err) == 429);
  CHECK_STR(used_insight_error_graph_code(err), "TooManyRequests");
  CHECK(used_insight_error_retry_after_ms(err) == 2500);
  CHECK(emulator_request_count() == 1);

  used_insight_error_free(err);
  used_insight_client_free(client);
  used_insight_options_free(options);
}

/* The emulator's clock (its "elapsed_ms") when the nth request it recorded
 * (from 0) arrived, or -1 if there is none. */
static double arrival_ms(const char *requests, size_t n) {
  const char *at = requests;
  size_t i;
  for (i = 0; at != NULL; i++) {
    at = strstr(at, "\"elapsed_ms\":");
    if (at == NULL) {
      break;
    }
    at += strlen("\"elapsed_ms\":");
    if (i == n) {
      return strtod(at, NULL);
    }
  }
  return -1;
}

/* A 503 without Retry-After is retried after the first back-off wait set
 * with used_insight_options_set_retry_delay_ms: between half and all of it
 * (jitter), far from the default 1 s (at least 500 ms). A delay refused
 * (more than 60 s) leaves the one set before. */
static void test_503_without_retry_after_waits_the_retry_delay_set(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client;
  used_insight_error *err = NULL;
  char *out = NULL;
  char *requests;
  double gap;

  CHECK_STATUS(used_insight_options_set_retry_delay_ms(options, 200), USED_INSIGHT_STATUS_OK,
               NULL);
  CHECK_STATUS(used_insight_options_set_retry_delay_ms(options, 60001),
               USED_INSIGHT_STATUS_INVALID_ARGUMENT, NULL);
  CHECK_STATUS(used_insight_options_set_retry_delay_ms(options, UINT32_MAX),
               USED_INSIGHT_STATUS_INVALID_ARGUMENT, NULL);
  CHECK_STATUS(used_insight_options_set_retry_delay_ms(NULL, 200),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  client = client_from(options);
  emulator_fault("{\"status\":503}");
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err), USED_INSIGHT_STATUS_OK,
               err);
  requests = emulator_requests();
  CHECK(count(requests, "\"method\":") == 2);
  gap = arrival_ms(requests, 1) - arrival_ms(requests, 0);
  if (gap < 100.0 || gap >= 480.0) {
    char what[128];
    snprintf(what, sizeof what, "the retry came %.1f ms after the 503, not 100-200 ms", gap);
    fail_at(__LINE__, what);
  }

  free(requests);
  used_insight_string_free(out);
  used_insight_error_free(err);
  used_insight_client_free(client);
  used_insight_options_free(options);
}

static void test_dropped_connection_is_transport_and_never_resent(void) {
  used_insight_client *client = emulator_client(); /* 3 retries allowed */
  used_insight_result *result = NULL;
  used_insight_error *err = NULL;
  used_insight_fields fields = valid_fields();

  emulator_fault("{\"drop_connection\":true}");
  CHECK_STATUS(used_insight_create_fields(client, USER, &fields, &result, &err),
               USED_INSIGHT_STATUS_TRANSPORT, err);
  CHECK(result == NULL);
  CHECK(used_insight_error_request_may_have_been_processed(err));
  CHECK_KIND(err, USED_INSIGHT_TRANSPORT_KIND_CONNECTION_LOST);
  CHECK(used_insight_error_http_status(err) == 0);
  CHECK(used_insight_error_client_request_id(err) != NULL);
  CHECK(emulator_request_count() == 1); /* exactly one: a create is not resent */

  used_insight_error_free(err);
  used_insight_client_free(client);
}

static void test_connection_refused_is_transport_not_processed(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  char *out = NULL;

  /* Port 1 on loopback: nothing listens there. */
  CHECK_STATUS(used_insight_options_set_base_url(options, "http://127.0.0.1:1"),
               USED_INSIGHT_STATUS_OK, NULL);
  client = client_from(options);
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_TRANSPORT, err);
  CHECK(!used_insight_error_request_may_have_been_processed(err));
  CHECK_KIND(err, USED_INSIGHT_TRANSPORT_KIND_CONNECT);

  used_insight_error_free(err);
  used_insight_client_free(client);
  used_insight_options_free(options);
}

static void test_slow_answer_is_a_timeout(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  char *out = NULL;

  CHECK_STATUS(used_insight_options_set_timeout_ms(options, 800), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_connect_timeout_ms(options, 5000), USED_INSIGHT_STATUS_OK,
               NULL);
  client = client_from(options);
  emulator_fault("{\"delay_ms\":3000}");
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_TIMEOUT, err);
  CHECK(out == NULL);
  CHECK(used_insight_error_request_may_have_been_processed(err));
  CHECK(used_insight_error_client_request_id(err) != NULL);
  CHECK(emulator_request_count() == 1);

  used_insight_error_free(err);
  used_insight_client_free(client);
  used_insight_options_free(options);
}

static void test_html_201_is_an_undecodable_response(void) {
  used_insight_client *client = emulator_client();
  used_insight_error *err = NULL;
  char *out = NULL;

  emulator_fault("{\"status\":201,\"body\":\"<html>Created</html>\"}");
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_UNDECODABLE_RESPONSE, err);
  CHECK(out == NULL);
  CHECK(used_insight_error_http_status(err) == 201);
  /* A mangled 2xx means Graph did the work. */
  CHECK(used_insight_error_request_may_have_been_processed(err));
  CHECK(used_insight_error_request_id(err) != NULL);
  CHECK(emulator_request_count() == 1);

  used_insight_error_free(err);
  used_insight_client_free(client);
}

static void test_null_arguments_are_reported_never_crash(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client = client_from(options);
  used_insight_fields fields = valid_fields();
  used_insight_error *err = NULL;
  used_insight_result *result = NULL;
  char *out = NULL;

  /* Setters. */
  CHECK_STATUS(used_insight_options_set_base_url(NULL, base_url), USED_INSIGHT_STATUS_NULL_PARAMETER,
               NULL);
  CHECK_STATUS(used_insight_options_set_base_url(options, NULL), USED_INSIGHT_STATUS_NULL_PARAMETER,
               NULL);
  CHECK_STATUS(used_insight_options_set_cloud(NULL, USED_INSIGHT_CLOUD_GLOBAL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_set_cloud_name(options, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_set_api_version(options, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_set_token(NULL, "t"), USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_set_token(options, NULL), USED_INSIGHT_STATUS_NULL_PARAMETER,
               NULL);
  CHECK_STATUS(used_insight_options_set_token_callback(options, NULL, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_set_timeout_ms(NULL, 1), USED_INSIGHT_STATUS_NULL_PARAMETER,
               NULL);
  CHECK_STATUS(used_insight_options_set_connect_timeout_ms(NULL, 1),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_set_max_retries(NULL, 1), USED_INSIGHT_STATUS_NULL_PARAMETER,
               NULL);
  CHECK_STATUS(used_insight_options_set_user_agent(options, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_add_root_certificates_file(NULL, "roots.pem"),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_add_root_certificates_file(options, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_add_root_certificates_pem(NULL, "pem"),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_add_root_certificates_pem(options, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_set_system_roots(NULL, true),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_set_proxy(NULL, "http://127.0.0.1:1"),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_set_proxy(options, NULL), USED_INSIGHT_STATUS_NULL_PARAMETER,
               NULL);
  CHECK_STATUS(used_insight_options_set_no_proxy(NULL), USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);

  /* client_new: the error names the parameter; err itself may be NULL. */
  {
    used_insight_client *other = NULL;
    CHECK_STATUS(used_insight_client_new(NULL, &other, &err), USED_INSIGHT_STATUS_NULL_PARAMETER,
                 err);
    CHECK_STR(used_insight_error_message(err), "options is NULL");
    CHECK(other == NULL);
    used_insight_error_free(err);
    err = NULL;
    CHECK_STATUS(used_insight_client_new(options, NULL, &err), USED_INSIGHT_STATUS_NULL_PARAMETER,
                 err);
    CHECK_STR(used_insight_error_message(err), "out_client is NULL");
    used_insight_error_free(err);
    err = NULL;
    CHECK_STATUS(used_insight_client_new(NULL, NULL, NULL), USED_INSIGHT_STATUS_NULL_PARAMETER,
                 NULL);
  }

  /* create. */
  CHECK_STATUS(used_insight_create(NULL, USER, INSIGHT_JSON, &out, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_create(client, NULL, INSIGHT_JSON, &out, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_create(client, USER, NULL, &out, &err),
               USED_INSIGHT_STATUS_NULL_PARAMETER, err);
  CHECK_STR(used_insight_error_message(err), "insight_json is NULL");
  used_insight_error_free(err);
  err = NULL;
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, NULL, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK(out == NULL);

  /* create_fields. */
  CHECK_STATUS(used_insight_create_fields(NULL, USER, &fields, &result, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_create_fields(client, NULL, &fields, &result, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_create_fields(client, USER, NULL, &result, &err),
               USED_INSIGHT_STATUS_NULL_PARAMETER, err);
  CHECK_STR(used_insight_error_message(err), "fields is NULL");
  used_insight_error_free(err);
  err = NULL;
  CHECK_STATUS(used_insight_create_fields(client, USER, &fields, NULL, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK(result == NULL);

  /* Accessors on NULL objects. */
  CHECK_STATUS(used_insight_error_status(NULL), USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK(used_insight_error_message(NULL) == NULL);
  CHECK(used_insight_error_http_status(NULL) == 0);
  CHECK(used_insight_error_graph_code(NULL) == NULL);
  CHECK(used_insight_error_request_id(NULL) == NULL);
  CHECK(used_insight_error_client_request_id(NULL) == NULL);
  CHECK(used_insight_error_retry_after_ms(NULL) == -1);
  CHECK(!used_insight_error_request_may_have_been_processed(NULL));
  CHECK_KIND(NULL, USED_INSIGHT_TRANSPORT_KIND_NONE);
  CHECK(used_insight_error_problem_count(NULL) == 0);
  CHECK(used_insight_error_problem_path(NULL, 0) == NULL);
  CHECK(used_insight_error_problem_reason(NULL, 0) == NULL);
  CHECK(used_insight_result_id(NULL) == NULL);
  CHECK(used_insight_result_json(NULL) == NULL);

  CHECK(emulator_request_count() == 0);
  used_insight_client_free(client);
  used_insight_options_free(options);
}

static void test_invalid_utf8_is_reported_never_crash(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client = client_from(options);
  used_insight_fields fields = valid_fields();
  used_insight_error *err = NULL;
  used_insight_result *result = NULL;
  char sentinel = 0;
  char *out = &sentinel;
  const char *latin1 = "caf\xe9";

  CHECK_STATUS(used_insight_options_set_base_url(options, latin1), USED_INSIGHT_STATUS_INVALID_UTF8,
               NULL);
  CHECK_STATUS(used_insight_options_set_token(options, "\xff\xfe"), USED_INSIGHT_STATUS_INVALID_UTF8,
               NULL);
  CHECK_STATUS(used_insight_options_set_cloud_name(options, latin1),
               USED_INSIGHT_STATUS_INVALID_UTF8, NULL);
  CHECK_STATUS(used_insight_options_set_api_version(options, latin1),
               USED_INSIGHT_STATUS_INVALID_UTF8, NULL);
  CHECK_STATUS(used_insight_options_set_user_agent(options, latin1),
               USED_INSIGHT_STATUS_INVALID_UTF8, NULL);
  CHECK_STATUS(used_insight_options_add_root_certificates_file(options, latin1),
               USED_INSIGHT_STATUS_INVALID_UTF8, NULL);
  CHECK_STATUS(used_insight_options_add_root_certificates_pem(options, latin1),
               USED_INSIGHT_STATUS_INVALID_UTF8, NULL);
  CHECK_STATUS(used_insight_options_set_proxy(options, latin1), USED_INSIGHT_STATUS_INVALID_UTF8,
               NULL);

  CHECK_STATUS(used_insight_create(client, latin1, INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_INVALID_UTF8, err);
  CHECK_STR(used_insight_error_message(err), "user_id is not valid UTF-8 (bad byte at offset 3)");
  used_insight_error_free(err);
  err = NULL;
  CHECK_STATUS(used_insight_create(client, USER, "{\"x\":\"\xc3\x28\"}", &out, &err),
               USED_INSIGHT_STATUS_INVALID_UTF8, err);
  CHECK(contains(used_insight_error_message(err), "insight_json"));
  used_insight_error_free(err);
  err = NULL;
  CHECK(out == &sentinel); /* never written on failure */

  fields.title = latin1;
  fields.web_url = "https://contoso.com/\x80";
  CHECK_STATUS(used_insight_create_fields(client, USER, &fields, &result, &err),
               USED_INSIGHT_STATUS_INVALID_UTF8, err);
  CHECK(used_insight_error_problem_count(err) == 2);
  CHECK_STR(used_insight_error_problem_path(err, 0), "resourceVisualization.title");
  CHECK_STR(used_insight_error_problem_path(err, 1), "resourceReference.webUrl");
  CHECK(result == NULL);

  CHECK(emulator_request_count() == 0);
  used_insight_error_free(err);
  used_insight_client_free(client);
  used_insight_options_free(options);
}

static void test_invalid_arguments_and_config(void) {
  used_insight_options *options = used_insight_options_new();
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  used_insight_fields fields = valid_fields();
  used_insight_result *result = NULL;
  used_insight_client *good = emulator_client();

  CHECK_STATUS(used_insight_options_set_cloud(options, 99u), USED_INSIGHT_STATUS_INVALID_ARGUMENT,
               NULL);
  CHECK_STATUS(used_insight_options_set_cloud(options, USED_INSIGHT_CLOUD_US_GOV_DOD),
               USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_cloud_name(options, "china"), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_cloud_name(options, "moon"),
               USED_INSIGHT_STATUS_INVALID_ARGUMENT, NULL);
  CHECK_STATUS(used_insight_options_set_api_version(options, "v2.0"),
               USED_INSIGHT_STATUS_INVALID_ARGUMENT, NULL);
  CHECK_STATUS(used_insight_options_set_timeout_ms(options, 0), USED_INSIGHT_STATUS_INVALID_ARGUMENT,
               NULL);

  /* No credential. */
  CHECK_STATUS(used_insight_client_new(options, &client, &err), USED_INSIGHT_STATUS_INVALID_CONFIG,
               err);
  CHECK(client == NULL);
  CHECK(contains(used_insight_error_message(err), "token"));
  used_insight_error_free(err);
  err = NULL;

  /* Plain http:// to a host that is not loopback. */
  CHECK_STATUS(used_insight_options_set_token(options, "t"), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_base_url(options, "http://graph.example.com"),
               USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_client_new(options, &client, &err), USED_INSIGHT_STATUS_INVALID_CONFIG,
               err);
  CHECK(client == NULL);
  used_insight_error_free(err);
  err = NULL;

  /* A struct_size that is not the caller's sizeof. */
  fields.struct_size = 0;
  CHECK_STATUS(used_insight_create_fields(good, USER, &fields, &result, &err),
               USED_INSIGHT_STATUS_INVALID_ARGUMENT, err);
  CHECK(contains(used_insight_error_message(err), "struct_size"));
  CHECK(result == NULL);

  CHECK(emulator_request_count() == 0);
  used_insight_error_free(err);
  used_insight_client_free(good);
  used_insight_options_free(options);
}

/* ---------------------------------------------------- networks: trust, proxies */

/* used_insight_client_new must refuse `options` with INVALID_CONFIG; returns
 * the error (caller frees). */
static used_insight_error *refused_config(const used_insight_options *options) {
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  CHECK_STATUS(used_insight_client_new(options, &client, &err), USED_INSIGHT_STATUS_INVALID_CONFIG,
               err);
  CHECK(client == NULL);
  CHECK(err != NULL);
  CHECK_KIND(err, USED_INSIGHT_TRANSPORT_KIND_NONE);
  used_insight_client_free(client);
  return err;
}

/* One create through a client made from `options`: its status; *err_out
 * gets the error (caller frees). */
static uint32_t create_with(const used_insight_options *options, used_insight_error **err_out) {
  used_insight_client *client = client_from(options);
  char *out = NULL;
  uint32_t status = (uint32_t)used_insight_create(client, USER, INSIGHT_JSON, &out, err_out);
  CHECK(status != USED_INSIGHT_STATUS_OK || contains(out, "\"id\":\""));
  used_insight_string_free(out);
  used_insight_client_free(client);
  return status;
}

/* create_with, then its status checked, the error (read after the call)
 * left in `err` for the caller to free. */
#define CHECK_CREATE_WITH(options, err, want)       \
  do {                                              \
    uint32_t got_ = create_with((options), &(err)); \
    CHECK_STATUS(got_, (want), (err));              \
  } while (0)

static void test_root_certificates_are_read_by_client_new(void) {
  used_insight_options *options = emulator_options();
  used_insight_error *err = NULL;
  const char *missing = "/nonexistent/used-insight-c-tests/corp-root.pem";

  /* A file that cannot be read: refused, naming the file. */
  CHECK_STATUS(used_insight_options_add_root_certificates_file(options, missing),
               USED_INSIGHT_STATUS_OK, NULL);
  err = refused_config(options);
  CHECK(contains(used_insight_error_message(err), "cannot read root certificates from"));
  CHECK(contains(used_insight_error_message(err), missing));
  used_insight_error_free(err);
  used_insight_options_free(options);

  /* PEM text without a certificate: refused. */
  options = emulator_options();
  CHECK_STATUS(used_insight_options_add_root_certificates_pem(options, "not a certificate\n"),
               USED_INSIGHT_STATUS_OK, NULL);
  err = refused_config(options);
  CHECK(contains(used_insight_error_message(err), "the PEM text given holds no certificate"));
  used_insight_error_free(err);
  used_insight_options_free(options);

  /* A real file, added to the default roots (the setter may be called more
   * than once), then the system's store switched on and off: the client is
   * made and creates against the emulator. */
  options = emulator_options();
  CHECK_STATUS(used_insight_options_add_root_certificates_file(options,
                                                               "core/tests/certs/two_roots.pem"),
               USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_add_root_certificates_file(options,
                                                               "core/tests/certs/two_roots.pem"),
               USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_system_roots(options, true), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_system_roots(options, false), USED_INSIGHT_STATUS_OK, NULL);
  err = NULL;
  CHECK_CREATE_WITH(options, err, USED_INSIGHT_STATUS_OK);
  used_insight_error_free(err);
  CHECK(emulator_request_count() == 1);
  used_insight_options_free(options);
}

static void test_socks_proxy_is_invalid_config_without_its_password(void) {
  used_insight_options *options = emulator_options();
  used_insight_error *err;

  CHECK_STATUS(used_insight_options_set_proxy(options, "socks5://user:s3cret@proxy.corp:1080"),
               USED_INSIGHT_STATUS_OK, NULL);
  err = refused_config(options);
  CHECK(contains(used_insight_error_message(err), "SOCKS"));
  CHECK(contains(used_insight_error_message(err), "proxy.corp:1080"));
  CHECK(!contains(used_insight_error_message(err), "s3cret"));
  used_insight_error_free(err);
  used_insight_options_free(options);
}

/* The emulator is loopback, yet an explicit proxy is not bypassed for it
 * (only the environment's is): the create fails at the closed proxy port,
 * saying so, and never reaches the emulator. */
static void test_explicit_proxy_on_a_closed_port_is_a_connect_error_naming_it(void) {
  used_insight_options *options = emulator_options();
  used_insight_error *err = NULL;
  int port = closed_port();
  char proxy[128], shown[128];

  CHECK(port > 0);
  snprintf(proxy, sizeof proxy, "http://user:s3cret@127.0.0.1:%d", port);
  snprintf(shown, sizeof shown, "proxy http://127.0.0.1:%d", port);
  CHECK_STATUS(used_insight_options_set_proxy(options, proxy), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_CREATE_WITH(options, err, USED_INSIGHT_STATUS_TRANSPORT);
  CHECK_KIND(err, USED_INSIGHT_TRANSPORT_KIND_CONNECT);
  CHECK(!used_insight_error_request_may_have_been_processed(err));
  CHECK(contains(used_insight_error_message(err), shown));
  CHECK(!contains(used_insight_error_message(err), "s3cret"));
  CHECK(used_insight_error_client_request_id(err) != NULL);
  CHECK(emulator_request_count() == 0);

  used_insight_error_free(err);
  used_insight_options_free(options);
}

static const char *const PROXY_VARIABLES[] = {"HTTPS_PROXY", "https_proxy", "http_proxy",
                                              "ALL_PROXY", "all_proxy"};
#define PROXY_VARIABLE_COUNT (sizeof PROXY_VARIABLES / sizeof PROXY_VARIABLES[0])

/* Every proxy variable pointing at a closed port: the default (the
 * environment, never used for loopback) and set_no_proxy (also after an
 * explicit proxy) all reach the emulator. The environment is read when the
 * client is made, here on this thread alone. */
static void test_no_proxy_and_loopback_ignore_the_environment(void) {
  char *saved[PROXY_VARIABLE_COUNT];
  char proxy[64];
  size_t i;
  int port = closed_port();
  used_insight_options *options;
  used_insight_error *err = NULL;

  CHECK(port > 0);
  snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", port);
  for (i = 0; i < PROXY_VARIABLE_COUNT; i++) {
    const char *value = getenv(PROXY_VARIABLES[i]);
    saved[i] = NULL;
    if (value != NULL) {
      saved[i] = (char *)malloc(strlen(value) + 1);
      CHECK(saved[i] != NULL);
      if (saved[i] != NULL) {
        memcpy(saved[i], value, strlen(value) + 1);
      }
    }
    CHECK(setenv(PROXY_VARIABLES[i], proxy, 1) == 0);
  }

  options = emulator_options(); /* the default: the environment */
  CHECK_CREATE_WITH(options, err, USED_INSIGHT_STATUS_OK);
  used_insight_error_free(err);
  err = NULL;
  CHECK_STATUS(used_insight_options_set_no_proxy(options), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_CREATE_WITH(options, err, USED_INSIGHT_STATUS_OK);
  used_insight_error_free(err);
  err = NULL;
  /* An explicit proxy is used (and fails) until set_no_proxy replaces it. */
  CHECK_STATUS(used_insight_options_set_proxy(options, proxy), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_CREATE_WITH(options, err, USED_INSIGHT_STATUS_TRANSPORT);
  CHECK_KIND(err, USED_INSIGHT_TRANSPORT_KIND_CONNECT);
  used_insight_error_free(err);
  err = NULL;
  CHECK_STATUS(used_insight_options_set_no_proxy(options), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_CREATE_WITH(options, err, USED_INSIGHT_STATUS_OK);
  used_insight_error_free(err);
  CHECK(emulator_request_count() == 3);
  used_insight_options_free(options);

  for (i = 0; i < PROXY_VARIABLE_COUNT; i++) {
    if (saved[i] != NULL) {
      CHECK(setenv(PROXY_VARIABLES[i], saved[i], 1) == 0);
    } else {
      CHECK(unsetenv(PROXY_VARIABLES[i]) == 0);
    }
    free(saved[i]);
  }
}

/* ------------------------------------------------------ networks: real TLS */

/* Options pointing at an HTTPS emulator with the right token. */
static used_insight_options *https_options(const https_emulator *emu) {
  used_insight_options *options = used_insight_options_new();
  CHECK(options != NULL);
  CHECK_STATUS(used_insight_options_set_base_url(options, emu->url), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_token(options, token), USED_INSIGHT_STATUS_OK, NULL);
  return options;
}

/* One create_fields through a client made from `options`: its status; a
 * success must carry an id; *err_out gets the error (caller frees). */
static uint32_t create_fields_with(const used_insight_options *options,
                                   used_insight_error **err_out) {
  used_insight_client *client = client_from(options);
  used_insight_fields fields = valid_fields();
  used_insight_result *result = NULL;
  uint32_t status =
      (uint32_t)used_insight_create_fields(client, USER, &fields, &result, err_out);
  if (status == USED_INSIGHT_STATUS_OK) {
    const char *id = used_insight_result_id(result);
    CHECK(id != NULL && strlen(id) == 36);
  } else {
    CHECK(result == NULL);
  }
  used_insight_result_free(result);
  used_insight_client_free(client);
  return status;
}

/* A create through `options` succeeded on `emu`: one request received, the
 * insight stored (both read with curl). */
static void check_created_over_tls(const https_emulator *emu, const used_insight_options *options) {
  used_insight_error *err = NULL;
  char *requests, *stored = NULL;

  CHECK_STATUS(create_fields_with(options, &err), USED_INSIGHT_STATUS_OK, err);
  used_insight_error_free(err);
  requests = https_emulator_requests(emu);
  CHECK(count(requests, "\"method\":") == 1);
  CHECK(contains(requests, "\"path\":\"/v1.0/users/alice@contoso.com/insights/used\""));
  CHECK(https_control(emu, "GET", "/v1.0/users/alice@contoso.com/insights/used", &stored) == 0);
  CHECK(count(stored, "\"title\":\"Quarterly report\"") == 1);
  free(stored);
  free(requests);
}

/* A create through `options` fails on `emu` as a TLS error before anything
 * is sent, and nothing reached the emulator; returns the error (caller
 * frees) for the reason in its message. */
static used_insight_error *refused_over_tls(const https_emulator *emu,
                                            const used_insight_options *options) {
  used_insight_error *err = NULL;

  CHECK_STATUS(create_fields_with(options, &err), USED_INSIGHT_STATUS_TRANSPORT, err);
  CHECK(err != NULL);
  CHECK_KIND(err, USED_INSIGHT_TRANSPORT_KIND_TLS);
  CHECK(!used_insight_error_request_may_have_been_processed(err));
  CHECK(contains(used_insight_error_message(err), "nothing was sent"));
  CHECK(!contains(used_insight_error_message(err), token));
  CHECK(used_insight_error_client_request_id(err) != NULL);
  CHECK(used_insight_error_http_status(err) == 0);
  CHECK(https_emulator_request_count(emu) == 0);
  return err;
}

/* A whole text file (malloc'd, caller frees), or NULL. */
static char *read_text_file(const char *path) {
  FILE *file = fopen(path, "rb");
  char *text = NULL;
  size_t len = 0, cap = 0;

  if (file == NULL) {
    return NULL;
  }
  for (;;) {
    size_t got;
    if (cap - len < 4096) {
      char *bigger;
      cap = cap * 2 + 8192;
      bigger = (char *)realloc(text, cap);
      if (bigger == NULL) {
        free(text);
        fclose(file);
        return NULL;
      }
      text = bigger;
    }
    got = fread(text + len, 1, cap - len - 1, file);
    if (got == 0) {
      break;
    }
    len += got;
  }
  text[len] = '\0';
  fclose(file);
  return text;
}

static void test_tls_root_file_added_is_trusted(void) {
  used_insight_options *options;

  if (!https_emulator_ready(&tls_emulator)) {
    return;
  }
  options = https_options(&tls_emulator);
  CHECK_STATUS(used_insight_options_add_root_certificates_file(options, tls_emulator.ca),
               USED_INSIGHT_STATUS_OK, NULL);
  check_created_over_tls(&tls_emulator, options);
  used_insight_options_free(options);
}

static void test_tls_root_as_pem_text_is_trusted(void) {
  used_insight_options *options;
  char *pem;

  if (!https_emulator_ready(&tls_emulator)) {
    return;
  }
  pem = read_text_file(tls_emulator.ca);
  CHECK(contains(pem, "-----BEGIN CERTIFICATE-----"));
  options = https_options(&tls_emulator);
  CHECK_STATUS(used_insight_options_add_root_certificates_pem(options, pem ? pem : ""),
               USED_INSIGHT_STATUS_OK, NULL);
  free(pem); /* the setter copied it */
  check_created_over_tls(&tls_emulator, options);
  used_insight_options_free(options);
}

/* Mozilla's roots alone do not know the emulator's CA. */
static void test_tls_without_the_root_fails_and_nothing_is_sent(void) {
  used_insight_options *options;
  used_insight_error *err;

  if (!https_emulator_ready(&tls_emulator)) {
    return;
  }
  options = https_options(&tls_emulator);
  err = refused_over_tls(&tls_emulator, options);
  CHECK(contains(used_insight_error_message(err), "authority this client does not trust"));
  used_insight_error_free(err);
  used_insight_options_free(options);
}

static void test_tls_an_unrelated_root_does_not_help(void) {
  used_insight_options *options;
  used_insight_error *err;

  if (!https_emulator_ready(&tls_emulator)) {
    return;
  }
  options = https_options(&tls_emulator);
  CHECK_STATUS(used_insight_options_add_root_certificates_file(options,
                                                               "core/tests/certs/two_roots.pem"),
               USED_INSIGHT_STATUS_OK, NULL);
  err = refused_over_tls(&tls_emulator, options);
  CHECK(contains(used_insight_error_message(err), "does not trust"));
  used_insight_error_free(err);
  used_insight_options_free(options);
}

/* Signed by the trusted CA, for wrong.example, not 127.0.0.1. */
static void test_tls_a_certificate_for_another_name_is_refused(void) {
  used_insight_options *options;
  used_insight_error *err;

  if (!https_emulator_ready(&wrong_name_emulator)) {
    return;
  }
  options = https_options(&wrong_name_emulator);
  CHECK_STATUS(used_insight_options_add_root_certificates_file(options, wrong_name_emulator.ca),
               USED_INSIGHT_STATUS_OK, NULL);
  err = refused_over_tls(&wrong_name_emulator, options);
  CHECK(contains(used_insight_error_message(err), "not valid for this host name"));
  used_insight_error_free(err);
  used_insight_options_free(options);
}

/* Signed by the trusted CA, expired yesterday. */
static void test_tls_an_expired_certificate_is_refused(void) {
  used_insight_options *options;
  used_insight_error *err;

  if (!https_emulator_ready(&expired_emulator)) {
    return;
  }
  options = https_options(&expired_emulator);
  CHECK_STATUS(used_insight_options_add_root_certificates_file(options, expired_emulator.ca),
               USED_INSIGHT_STATUS_OK, NULL);
  err = refused_over_tls(&expired_emulator, options);
  CHECK(contains(used_insight_error_message(err), "expired"));
  used_insight_error_free(err);
  used_insight_options_free(options);
}

static const char *const CERT_VARIABLES[] = {"SSL_CERT_FILE", "SSL_CERT_DIR"};
#define CERT_VARIABLE_COUNT (sizeof CERT_VARIABLES / sizeof CERT_VARIABLES[0])

/* The system's store follows SSL_CERT_FILE, read when the client is made
 * (here on this thread alone): pointed at the emulator's CA, with
 * SSL_CERT_DIR unset, the create goes through. */
static void test_tls_system_roots_follow_ssl_cert_file(void) {
  char *saved[CERT_VARIABLE_COUNT];
  used_insight_options *options;
  size_t i;

  if (!https_emulator_ready(&tls_emulator)) {
    return;
  }
  for (i = 0; i < CERT_VARIABLE_COUNT; i++) {
    const char *value = getenv(CERT_VARIABLES[i]);
    saved[i] = NULL;
    if (value != NULL) {
      saved[i] = (char *)malloc(strlen(value) + 1);
      CHECK(saved[i] != NULL);
      if (saved[i] != NULL) {
        memcpy(saved[i], value, strlen(value) + 1);
      }
    }
  }
  CHECK(setenv("SSL_CERT_FILE", tls_emulator.ca, 1) == 0);
  CHECK(unsetenv("SSL_CERT_DIR") == 0);

  options = https_options(&tls_emulator);
  CHECK_STATUS(used_insight_options_set_system_roots(options, true), USED_INSIGHT_STATUS_OK, NULL);
  check_created_over_tls(&tls_emulator, options);
  used_insight_options_free(options);

  for (i = 0; i < CERT_VARIABLE_COUNT; i++) {
    if (saved[i] != NULL) {
      CHECK(setenv(CERT_VARIABLES[i], saved[i], 1) == 0);
    } else {
      CHECK(unsetenv(CERT_VARIABLES[i]) == 0);
    }
    free(saved[i]);
  }
}

/* ---------------------------------------------- networks: real proxies */

/* A proxy started by scripts/test-c.sh (a tinyproxy, or graph-emulator's
 * tunnel-proxy): its URL and its log file (for tunnel-proxy, its stdout),
 * from two environment variables. The log grows across runs (valgrind, C++,
 * ASan), so a test reads only what was logged after it began. */
typedef struct {
  const char *url_variable;
  const char *log_variable;
  const char *url;
  const char *log;
} logged_proxy;

static logged_proxy allowing_proxy = {"USED_INSIGHT_TEST_PROXY_URL", "USED_INSIGHT_TEST_PROXY_LOG",
                                   NULL, NULL};
static logged_proxy refusing_proxy = {"USED_INSIGHT_TEST_REFUSING_PROXY_URL",
                                   "USED_INSIGHT_TEST_REFUSING_PROXY_LOG", NULL, NULL};

/* The proxy's credentials in the tests' URLs; tinyproxy without BasicAuth
 * ignores them, so the tunnel is made all the same. */
static const char *const PROXY_USER = "proxyuser";
static const char *const PROXY_PASSWORD = "secret";

/* At the start of a test using `proxy`: it must have been given (else the
 * test fails, naming the variables). Returns whether to go on. */
static int proxy_ready(const logged_proxy *proxy) {
  if (proxy->url == NULL || proxy->log == NULL) {
    char what[256];
    snprintf(what, sizeof what, "%s and %s are not set (scripts/test-c.sh sets them)",
             proxy->url_variable, proxy->log_variable);
    fail_at(__LINE__, what);
    return 0;
  }
  return 1;
}

/* How long the proxy's log is now. */
static size_t proxy_log_length(const logged_proxy *proxy) {
  char *log = read_text_file(proxy->log);
  size_t len = log != NULL ? strlen(log) : 0;
  CHECK(log != NULL);
  free(log);
  return len;
}

/* What the proxy logged from offset `since` on (malloc'd, caller frees;
 * an empty string if nothing, never NULL unless out of memory). */
static char *proxy_log_since(const logged_proxy *proxy, size_t since) {
  char *log = read_text_file(proxy->log);
  size_t len;
  CHECK(log != NULL);
  if (log == NULL) {
    return NULL;
  }
  len = strlen(log);
  if (since > len) {
    since = len;
  }
  memmove(log, log + since, len - since + 1);
  return log;
}

/* How many CONNECT requests to 127.0.0.1:port a log holds
 * (`Request (file descriptor 5): CONNECT 127.0.0.1:8080 HTTP/1.1`). */
static size_t tunnels_to(const char *log, int port) {
  char line[64];
  snprintf(line, sizeof line, "): CONNECT 127.0.0.1:%d ", port);
  return count(log, line);
}

/* The proxy's URL with PROXY_USER:PROXY_PASSWORD@ in it. */
static void proxy_url_with_password(const logged_proxy *proxy, char *buf, size_t buf_len) {
  const char *scheme = "http://";
  const char *rest = proxy->url;
  if (strncmp(rest, scheme, strlen(scheme)) == 0) {
    rest += strlen(scheme);
  }
  snprintf(buf, buf_len, "%s%s:%s@%s", scheme, PROXY_USER, PROXY_PASSWORD, rest);
}

/* No text the error offers holds the proxy's credentials. */
static void check_no_credentials_in(const used_insight_error *err) {
  const char *texts[4];
  size_t i;
  texts[0] = used_insight_error_message(err);
  texts[1] = used_insight_error_graph_code(err);
  texts[2] = used_insight_error_request_id(err);
  texts[3] = used_insight_error_client_request_id(err);
  for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    CHECK(!contains(texts[i], PROXY_PASSWORD));
    CHECK(!contains(texts[i], PROXY_USER));
  }
}

/* ureq tunnels plain http too (CONNECT host:port), so the plain emulator
 * is reached as Graph's https would be: one tunnel to its port in the
 * proxy's log, and not the token, which went inside the tunnel. */
static void test_proxy_tunnels_create_fields_to_the_emulator_without_the_token(void) {
  used_insight_options *options;
  used_insight_error *err = NULL;
  char *log, *requests, *stored;
  char bearer[256];
  size_t since;

  if (!proxy_ready(&allowing_proxy)) {
    return;
  }
  since = proxy_log_length(&allowing_proxy);
  options = emulator_options();
  CHECK_STATUS(used_insight_options_set_proxy(options, allowing_proxy.url), USED_INSIGHT_STATUS_OK,
               NULL);
  CHECK_STATUS(create_fields_with(options, &err), USED_INSIGHT_STATUS_OK, err);
  used_insight_error_free(err);

  log = proxy_log_since(&allowing_proxy, since);
  CHECK(tunnels_to(log, emulator_port) == 1);
  CHECK(count(log, "): CONNECT ") == 1);
  CHECK(!contains(log, token));
  requests = emulator_requests();
  CHECK(count(requests, "\"method\":") == 1);
  CHECK(contains(requests, "\"path\":\"/v1.0/users/alice@contoso.com/insights/used\""));
  snprintf(bearer, sizeof bearer, "\"authorization\":\"Bearer %s\"", token);
  CHECK(contains(requests, bearer));
  CHECK(!contains(requests, "proxy-authorization"));
  stored = emulator_stored(USER);
  CHECK(count(stored, "\"title\":\"Quarterly report\"") == 1);

  free(stored);
  free(requests);
  free(log);
  used_insight_options_free(options);
}

/* Through the proxy to the HTTPS emulator, its CA added: TLS end to end
 * inside the tunnel. */
static void test_proxy_tunnels_https_to_the_tls_emulator_with_its_ca(void) {
  used_insight_options *options;
  char *log;
  size_t since;
  int tls_port = 0;

  if (!proxy_ready(&allowing_proxy) || !https_emulator_ready(&tls_emulator)) {
    return;
  }
  CHECK(sscanf(tls_emulator.url, "https://127.0.0.1:%d", &tls_port) == 1);
  since = proxy_log_length(&allowing_proxy);
  options = https_options(&tls_emulator);
  CHECK_STATUS(used_insight_options_add_root_certificates_file(options, tls_emulator.ca),
               USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_proxy(options, allowing_proxy.url), USED_INSIGHT_STATUS_OK,
               NULL);
  check_created_over_tls(&tls_emulator, options);

  log = proxy_log_since(&allowing_proxy, since);
  CHECK(tunnels_to(log, tls_port) == 1);
  CHECK(count(log, "): CONNECT ") == 1);
  CHECK(!contains(log, token));
  CHECK(emulator_request_count() == 0); /* the plain one */
  free(log);
  used_insight_options_free(options);
}

/* `ConnectPort 443` only: the proxy answers the CONNECT to the emulator's
 * port with 403. Asked once, not retried; nothing reached the emulator. */
static void test_proxy_refusing_the_tunnel_is_transport_kind_proxy_nothing_sent(void) {
  used_insight_options *options;
  used_insight_error *err = NULL;
  char shown[160];
  char *log;
  size_t since;

  if (!proxy_ready(&refusing_proxy)) {
    return;
  }
  since = proxy_log_length(&refusing_proxy);
  options = emulator_options();
  CHECK_STATUS(used_insight_options_set_proxy(options, refusing_proxy.url), USED_INSIGHT_STATUS_OK,
               NULL);
  CHECK_STATUS(create_fields_with(options, &err), USED_INSIGHT_STATUS_TRANSPORT, err);
  CHECK(err != NULL);
  CHECK_KIND(err, USED_INSIGHT_TRANSPORT_KIND_PROXY);
  CHECK(!used_insight_error_request_may_have_been_processed(err));
  CHECK(contains(used_insight_error_message(err), "nothing was sent"));
  snprintf(shown, sizeof shown, "proxy %s", refusing_proxy.url);
  CHECK(contains(used_insight_error_message(err), shown));
  CHECK(contains(used_insight_error_message(err), "403"));
  CHECK(!contains(used_insight_error_message(err), token));
  CHECK(used_insight_error_http_status(err) == 0);
  CHECK(used_insight_error_client_request_id(err) != NULL);

  log = proxy_log_since(&refusing_proxy, since);
  CHECK(tunnels_to(log, emulator_port) == 1);
  CHECK(emulator_request_count() == 0);

  free(log);
  used_insight_error_free(err);
  used_insight_options_free(options);
}

/* user:secret@ in the proxy's URL: the create goes through (tinyproxy
 * without BasicAuth ignores them); the same credentials on the refusing
 * proxy fail naming it without them. Neither Graph nor the proxy's log sees
 * the password in clear. */
static void test_proxy_credentials_in_the_url_work_and_show_in_no_error(void) {
  used_insight_options *options;
  used_insight_error *err = NULL;
  char with_password[256], shown[160];
  char *log, *requests;
  size_t since;

  if (!proxy_ready(&allowing_proxy) || !proxy_ready(&refusing_proxy)) {
    return;
  }
  since = proxy_log_length(&allowing_proxy);
  proxy_url_with_password(&allowing_proxy, with_password, sizeof with_password);
  options = emulator_options();
  CHECK_STATUS(used_insight_options_set_proxy(options, with_password), USED_INSIGHT_STATUS_OK,
               NULL);
  CHECK_STATUS(create_fields_with(options, &err), USED_INSIGHT_STATUS_OK, err);
  used_insight_error_free(err);
  err = NULL;
  used_insight_options_free(options);

  log = proxy_log_since(&allowing_proxy, since);
  CHECK(tunnels_to(log, emulator_port) == 1);
  CHECK(!contains(log, PROXY_PASSWORD));
  CHECK(!contains(log, token));
  requests = emulator_requests();
  CHECK(count(requests, "\"method\":") == 1);
  CHECK(!contains(requests, PROXY_PASSWORD)); /* for the proxy, not Graph */
  CHECK(!contains(requests, "proxy-authorization"));
  free(requests);
  free(log);

  proxy_url_with_password(&refusing_proxy, with_password, sizeof with_password);
  options = emulator_options();
  CHECK_STATUS(used_insight_options_set_proxy(options, with_password), USED_INSIGHT_STATUS_OK,
               NULL);
  CHECK_STATUS(create_fields_with(options, &err), USED_INSIGHT_STATUS_TRANSPORT, err);
  CHECK(err != NULL);
  CHECK_KIND(err, USED_INSIGHT_TRANSPORT_KIND_PROXY);
  snprintf(shown, sizeof shown, "proxy %s", refusing_proxy.url);
  CHECK(contains(used_insight_error_message(err), shown));
  check_no_credentials_in(err);
  CHECK(emulator_request_count() == 1); /* the refused create never arrived */

  used_insight_error_free(err);
  used_insight_options_free(options);
}

/* ------------------------------------------ networks: the environment's proxy */

/* graph-emulator's tunnel-proxy, leading every tunnel to tls_emulator. Its
 * output gets one line per request, written before it is answered:
 * "CONNECT graph.microsoft.com:443 user=- status=200". */
static logged_proxy tunnel_proxy = {"USED_INSIGHT_TEST_TUNNEL_URL", "USED_INSIGHT_TEST_TUNNEL_OUT",
                                    NULL, NULL};

/* Core never takes the environment's proxy for a loopback base URL, and the
 * tests talk only to loopback. So these use Graph's own host (no base URL:
 * the default cloud), which only the tunnel takes to the emulator, and
 * https://[::ffff:127.0.0.1]:PORT, the IPv4-mapped form of 127.0.0.1:
 * loopback, yet not exempted by core's rule. A direct connection to Graph's
 * host would leave loopback, so it is risked only once the same environment
 * was seen at work on the mapped address. */
static const char *const GRAPH_TUNNEL = "CONNECT graph.microsoft.com:443 user=- status=200";

static const char *const ENVIRONMENT_PROXY_VARIABLES[] = {
    "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy",
    "HTTP_PROXY",  "http_proxy",  "NO_PROXY",  "no_proxy"};
#define ENVIRONMENT_PROXY_VARIABLE_COUNT \
  (sizeof ENVIRONMENT_PROXY_VARIABLES / sizeof ENVIRONMENT_PROXY_VARIABLES[0])

/* Saves every proxy variable (malloc'd copies, or NULL) and unsets it. */
static void clear_proxy_environment(char **saved) {
  size_t i;
  for (i = 0; i < ENVIRONMENT_PROXY_VARIABLE_COUNT; i++) {
    const char *value = getenv(ENVIRONMENT_PROXY_VARIABLES[i]);
    saved[i] = NULL;
    if (value != NULL) {
      saved[i] = (char *)malloc(strlen(value) + 1);
      CHECK(saved[i] != NULL);
      if (saved[i] != NULL) {
        memcpy(saved[i], value, strlen(value) + 1);
      }
    }
    CHECK(unsetenv(ENVIRONMENT_PROXY_VARIABLES[i]) == 0);
  }
}

/* Puts back what clear_proxy_environment saved, and frees it. */
static void restore_proxy_environment(char **saved) {
  size_t i;
  for (i = 0; i < ENVIRONMENT_PROXY_VARIABLE_COUNT; i++) {
    if (saved[i] != NULL) {
      CHECK(setenv(ENVIRONMENT_PROXY_VARIABLES[i], saved[i], 1) == 0);
    } else {
      CHECK(unsetenv(ENVIRONMENT_PROXY_VARIABLES[i]) == 0);
    }
    free(saved[i]);
  }
}

/* The tunnel proxy and tls_emulator are there (the emulator reset), and
 * `mapped_url` is https://[::ffff:127.0.0.1]:PORT with tls_emulator's port,
 * `mapped_tunnel` the line a tunnel to it prints. */
static int env_proxy_ready(char *mapped_url, size_t url_len, char *mapped_tunnel,
                           size_t tunnel_len) {
  int port = 0;
  if (!proxy_ready(&tunnel_proxy) || !https_emulator_ready(&tls_emulator)) {
    return 0;
  }
  if (sscanf(tls_emulator.url, "https://127.0.0.1:%d", &port) != 1) {
    fail_at(__LINE__, "USED_INSIGHT_TEST_TLS_URL is not https://127.0.0.1:PORT");
    return 0;
  }
  snprintf(mapped_url, url_len, "https://[::ffff:127.0.0.1]:%d", port);
  snprintf(mapped_tunnel, tunnel_len, "CONNECT [::ffff:127.0.0.1]:%d user=- status=200", port);
  return 1;
}

/* Options trusting tls_emulator's CA, for `url` (NULL: the default cloud,
 * https://graph.microsoft.com). Made after the environment is set: the
 * client reads it when it is made. */
static used_insight_options *env_proxy_options(const char *url) {
  used_insight_options *options = used_insight_options_new();
  CHECK(options != NULL);
  if (url != NULL) {
    CHECK_STATUS(used_insight_options_set_base_url(options, url), USED_INSIGHT_STATUS_OK, NULL);
  }
  CHECK_STATUS(used_insight_options_set_token(options, token), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_add_root_certificates_file(options, tls_emulator.ca),
               USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_max_retries(options, 0), USED_INSIGHT_STATUS_OK, NULL);
  return options;
}

/* One create_fields for `url` with the environment as it is now; returns
 * whether it succeeded, with exactly `tunnel` printed by the tunnel proxy
 * (NULL: no tunnel at all) and one more request on tls_emulator. */
static int created_with_tunnel(const char *url, const char *tunnel) {
  used_insight_options *options = env_proxy_options(url);
  used_insight_error *err = NULL;
  size_t since = proxy_log_length(&tunnel_proxy);
  size_t before = https_emulator_request_count(&tls_emulator);
  uint32_t status = create_fields_with(options, &err);
  char *log = proxy_log_since(&tunnel_proxy, since);
  int ok = status == USED_INSIGHT_STATUS_OK &&
           count(log, "CONNECT ") == (tunnel != NULL ? 1u : 0u) &&
           (tunnel == NULL || count(log, tunnel) == 1) &&
           https_emulator_request_count(&tls_emulator) == before + 1;

  CHECK_STATUS(status, USED_INSIGHT_STATUS_OK, err);
  if (!ok) {
    char what[512];
    snprintf(what, sizeof what, "%s: expected %s, the proxy printed: %s",
             url != NULL ? url : "the default cloud", tunnel != NULL ? tunnel : "no tunnel",
             log != NULL ? log : "(unreadable)");
    fail_at(__LINE__, what);
  }
  free(log);
  used_insight_error_free(err);
  used_insight_options_free(options);
  return ok;
}

/* HTTPS_PROXY, then https_proxy, alone: Graph's own host through the tunnel
 * to the emulator, which received it for graph.microsoft.com. */
static void test_env_proxy_https_proxy_tunnels_graphs_own_host(void) {
  static const char *const NAMES[] = {"HTTPS_PROXY", "https_proxy"};
  char *saved[ENVIRONMENT_PROXY_VARIABLE_COUNT];
  char mapped_url[128], mapped_tunnel[128];
  char *requests;
  size_t i;

  if (!env_proxy_ready(mapped_url, sizeof mapped_url, mapped_tunnel, sizeof mapped_tunnel)) {
    return;
  }
  clear_proxy_environment(saved);
  for (i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
    CHECK(setenv(NAMES[i], tunnel_proxy.url, 1) == 0);
    if (created_with_tunnel(mapped_url, mapped_tunnel)) {
      created_with_tunnel(NULL, GRAPH_TUNNEL);
    }
    CHECK(unsetenv(NAMES[i]) == 0);
  }
  restore_proxy_environment(saved);

  requests = https_emulator_requests(&tls_emulator);
  CHECK(count(requests, "\"host\":\"graph.microsoft.com\"") == 2);
  CHECK(count(requests, "\"path\":\"/v1.0/users/alice@contoso.com/insights/used\"") == 4);
  free(requests);
}

/* ALL_PROXY (no HTTPS_PROXY) is the fallback. */
static void test_env_proxy_all_proxy_is_the_fallback(void) {
  char *saved[ENVIRONMENT_PROXY_VARIABLE_COUNT];
  char mapped_url[128], mapped_tunnel[128];

  if (!env_proxy_ready(mapped_url, sizeof mapped_url, mapped_tunnel, sizeof mapped_tunnel)) {
    return;
  }
  clear_proxy_environment(saved);
  CHECK(setenv("ALL_PROXY", tunnel_proxy.url, 1) == 0);
  if (created_with_tunnel(mapped_url, mapped_tunnel)) {
    created_with_tunnel(NULL, GRAPH_TUNNEL);
  }
  restore_proxy_environment(saved);
}

/* NO_PROXY written as people write it (spaces around the entries) and
 * listing the address: the create goes straight to the emulator, no tunnel;
 * without it, the same create goes through the tunnel. A direct attempt
 * where nothing listens is a connect error, nothing sent, no proxy named. */
static void test_env_proxy_no_proxy_listing_the_address_goes_direct(void) {
  char *saved[ENVIRONMENT_PROXY_VARIABLE_COUNT];
  char mapped_url[128], mapped_tunnel[128], closed_url[128];
  used_insight_options *options;
  used_insight_error *err = NULL;
  size_t since;
  char *log;

  if (!env_proxy_ready(mapped_url, sizeof mapped_url, mapped_tunnel, sizeof mapped_tunnel)) {
    return;
  }
  clear_proxy_environment(saved);
  CHECK(setenv("HTTPS_PROXY", tunnel_proxy.url, 1) == 0);
  created_with_tunnel(mapped_url, mapped_tunnel);
  CHECK(setenv("NO_PROXY", " example.org , ::ffff:127.0.0.1 ", 1) == 0);
  created_with_tunnel(mapped_url, NULL);

  snprintf(closed_url, sizeof closed_url, "https://[::ffff:127.0.0.1]:%d", closed_port());
  since = proxy_log_length(&tunnel_proxy);
  options = env_proxy_options(closed_url);
  CHECK_STATUS(create_fields_with(options, &err), USED_INSIGHT_STATUS_TRANSPORT, err);
  CHECK(err != NULL);
  CHECK_KIND(err, USED_INSIGHT_TRANSPORT_KIND_CONNECT);
  CHECK(!used_insight_error_request_may_have_been_processed(err));
  CHECK(contains(used_insight_error_message(err), "nothing was sent"));
  CHECK(!contains(used_insight_error_message(err), "proxy"));
  log = proxy_log_since(&tunnel_proxy, since);
  CHECK(count(log, "CONNECT ") == 0);
  free(log);
  used_insight_error_free(err);
  used_insight_options_free(options);
  restore_proxy_environment(saved);
  CHECK(https_emulator_request_count(&tls_emulator) == 2);
}

/* A token source shared by threads: counts its calls under a lock. */
typedef struct {
  pthread_mutex_t lock;
  int calls;
  int fail;
} token_source;

static int token_callback(void *user_data, char *buf, size_t buf_len) {
  token_source *source = (token_source *)user_data;
  int fail;
  pthread_mutex_lock(&source->lock);
  source->calls++;
  fail = source->fail;
  pthread_mutex_unlock(&source->lock);
  if (fail) {
    snprintf(buf, buf_len, "%s", "the vault is locked");
    return 7;
  }
  if (strlen(token) + 1 > buf_len) {
    return 1;
  }
  memcpy(buf, token, strlen(token) + 1);
  return 0;
}

static used_insight_client *callback_client(token_source *source) {
  used_insight_options *options = emulator_options();
  used_insight_client *client = NULL;
  CHECK_STATUS(used_insight_options_set_token_callback(options, token_callback, source),
               USED_INSIGHT_STATUS_OK, NULL);
  client = client_from(options);
  used_insight_options_free(options);
  return client;
}

static void test_token_callback_is_called_before_every_attempt(void) {
  token_source source;
  used_insight_client *client;
  used_insight_error *err = NULL;
  char *out = NULL;

  pthread_mutex_init(&source.lock, NULL);
  source.calls = 0;
  source.fail = 0;
  client = callback_client(&source);
  emulator_fault("{\"status\":503,\"retry_after\":\"0.1\"}");
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err), USED_INSIGHT_STATUS_OK,
               err);
  CHECK(source.calls == 2); /* the 503 attempt and its retry */
  CHECK(emulator_request_count() == 2);

  used_insight_string_free(out);
  used_insight_error_free(err);
  used_insight_client_free(client);
  pthread_mutex_destroy(&source.lock);
}

static void test_token_callback_failure_is_reported_and_nothing_sent(void) {
  token_source source;
  used_insight_client *client;
  used_insight_error *err = NULL;
  used_insight_fields fields = valid_fields();
  used_insight_result *result = NULL;

  pthread_mutex_init(&source.lock, NULL);
  source.calls = 0;
  source.fail = 1;
  client = callback_client(&source);
  CHECK_STATUS(used_insight_create_fields(client, USER, &fields, &result, &err),
               USED_INSIGHT_STATUS_TOKEN_PROVIDER_FAILED, err);
  CHECK(result == NULL);
  CHECK(source.calls == 1);
  CHECK(contains(used_insight_error_message(err), "returned 7: the vault is locked"));
  CHECK(emulator_request_count() == 0);

  used_insight_error_free(err);
  used_insight_client_free(client);
  pthread_mutex_destroy(&source.lock);
}

/* ------------------------------------------- header values and redirects */

/* Values a header cannot carry: CR/LF (header injection), LF alone, DEL,
 * non-ASCII (valid UTF-8, so the setters take them; client_new refuses). */
static const char *const NOT_HEADER_VALUES[] = {"abc\r\nX-Injected: 1", "abc\nX-Injected: 1",
                                                "abc\x7fX-Injected", "t\xc3\xb6k-X-Injected"};

/* client_new refuses `options`: INVALID_CONFIG, the message naming
 * `setting` and showing nothing of the value. */
static void check_refused_naming(const used_insight_options *options, const char *setting) {
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  CHECK_STATUS(used_insight_client_new(options, &client, &err), USED_INSIGHT_STATUS_INVALID_CONFIG,
               err);
  CHECK(client == NULL);
  CHECK(contains(used_insight_error_message(err), setting));
  CHECK(!contains(used_insight_error_message(err), "Injected"));
  used_insight_error_free(err);
}

static void test_a_token_or_user_agent_with_crlf_is_refused_naming_it(void) {
  size_t i;
  used_insight_options *options;
  for (i = 0; i < sizeof NOT_HEADER_VALUES / sizeof NOT_HEADER_VALUES[0]; i++) {
    options = emulator_options();
    CHECK_STATUS(used_insight_options_set_token(options, NOT_HEADER_VALUES[i]),
                 USED_INSIGHT_STATUS_OK, NULL);
    check_refused_naming(options, "the token");
    used_insight_options_free(options);

    options = emulator_options();
    CHECK_STATUS(used_insight_options_set_user_agent(options, NOT_HEADER_VALUES[i]),
                 USED_INSIGHT_STATUS_OK, NULL);
    check_refused_naming(options, "the user agent");
    used_insight_options_free(options);
  }
  /* A proxy password with an encoded CR/LF: Basic credentials cannot hold it. */
  options = emulator_options();
  CHECK_STATUS(
      used_insight_options_set_proxy(options, "http://user:pw%0D%0AX-Injected:1@127.0.0.1:3128"),
      USED_INSIGHT_STATUS_OK, NULL);
  check_refused_naming(options, "proxy `http://127.0.0.1:3128`");
  used_insight_options_free(options);
  CHECK(emulator_request_count() == 0);
}

/* A token callback that hands out a token with CR/LF in it. */
static int injecting_token_callback(void *user_data, char *buf, size_t buf_len) {
  (void)user_data;
  snprintf(buf, buf_len, "%s", "abc\r\nX-Injected: 1");
  return 0;
}

static void test_a_token_callback_s_crlf_token_is_refused_and_nothing_sent(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client;
  used_insight_error *err = NULL;
  char *out = NULL;

  CHECK_STATUS(used_insight_options_set_token_callback(options, injecting_token_callback, NULL),
               USED_INSIGHT_STATUS_OK, NULL);
  client = client_from(options);
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_TOKEN_PROVIDER_FAILED, err);
  CHECK(out == NULL);
  CHECK(contains(used_insight_error_message(err), "cannot carry"));
  CHECK(contains(used_insight_error_message(err), "nothing was sent to Graph"));
  CHECK(!contains(used_insight_error_message(err), "Injected"));
  CHECK(!used_insight_error_request_may_have_been_processed(err));
  CHECK(emulator_request_count() == 0);

  used_insight_error_free(err);
  used_insight_client_free(client);
  used_insight_options_free(options);
}

/* A redirect to anything but http(s) is a transport error of kind
 * REDIRECT that says Graph did not carry the create out (true: it answered
 * with a redirect), and nothing is followed. */
static void test_redirects_to_other_schemes_are_refused_not_processed(void) {
  static const char *const faults[] = {
      "{\"status\":302,\"headers\":{\"Location\":\"ftp://files.example.com/x\"}}",
      "{\"status\":301,\"headers\":{\"Location\":\"file:///etc/passwd\"}}",
      "{\"status\":307,\"headers\":{\"Location\":\"javascript:alert(1)\"}}",
      "{\"status\":308,\"headers\":{\"Location\":\"data:text/html,hi\"}}"};
  used_insight_client *client = emulator_client();
  used_insight_error *err = NULL;
  char *out = NULL;
  size_t i;

  for (i = 0; i < sizeof faults / sizeof faults[0]; i++) {
    emulator_reset();
    emulator_fault(faults[i]);
    CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
                 USED_INSIGHT_STATUS_TRANSPORT, err);
    CHECK(out == NULL);
    CHECK_KIND(err, USED_INSIGHT_TRANSPORT_KIND_REDIRECT);
    CHECK(contains(used_insight_error_message(err), "only http and https"));
    CHECK(contains(used_insight_error_message(err), "not carried out"));
    CHECK(!used_insight_error_request_may_have_been_processed(err));
    CHECK(emulator_request_count() == 1);
    used_insight_error_free(err);
    err = NULL;
  }
  used_insight_client_free(client);
}

/* ----------------------------------------- the README's "Bad input" table */

/* used_insight_create(user_id, json) fails VALIDATION_FAILED with its first
 * problem at `path`, the reason containing `reason`; nothing is sent. */
static void check_invalid_at(used_insight_client *client, const char *user_id, const char *json,
                             const char *path, const char *reason) {
  used_insight_error *err = NULL;
  char *out = NULL;
  CHECK_STATUS(used_insight_create(client, user_id, json, &out, &err),
               USED_INSIGHT_STATUS_VALIDATION_FAILED, err);
  CHECK(out == NULL);
  CHECK_STR(used_insight_error_problem_path(err, 0), path);
  CHECK(contains(used_insight_error_problem_reason(err, 0), reason));
  CHECK(!used_insight_error_request_may_have_been_processed(err));
  used_insight_error_free(err);
}

/* The rows the other tests do not already prove for C. */
static void test_bad_input_rows_wrong_types_user_ids_sizes_surrogates(void) {
  static const char *const pad_head = "{\"pad\":\"";
  used_insight_client *client = emulator_client();
  size_t pad = 4u * 1024u * 1024u, head = strlen(pad_head);
  /* {"pad":"aaaa…", then INSIGHT_JSON after its opening brace: over 4 MiB. */
  char *big = (char *)malloc(head + pad + 2 + strlen(INSIGHT_JSON) + 1);
  char long_user[1026];

  check_invalid_at(client, USER,
                   "{\"lastUsed\":{\"lastAccessedDateTime\":\"2026-11-28T10:00:00Z\"},"
                   "\"resourceVisualization\":{\"title\":5,\"type\":\"Word\"},"
                   "\"resourceReference\":{\"webUrl\":\"https://contoso.com/a\"}}",
                   "resourceVisualization.title", "expected a string");
  check_invalid_at(client, USER, "[1,2]", "", "expected an object");
  /* Half a surrogate pair in an unknown property, which is sent verbatim. */
  check_invalid_at(client, USER,
                   "{\"lastUsed\":{\"lastAccessedDateTime\":\"2026-11-28T10:00:00Z\"},"
                   "\"resourceVisualization\":{\"title\":\"t\",\"type\":\"Word\"},"
                   "\"resourceReference\":{\"webUrl\":\"https://contoso.com/a\"},"
                   "\"note\":\"\\ud800\"}",
                   "note", "lone surrogate");
  check_invalid_at(client, "..", INSIGHT_JSON, "usersId", "`.` or `..`");
  check_invalid_at(client, "alice\r\nX-Injected: 1", INSIGHT_JSON, "usersId", "control characters");
  memset(long_user, 'a', 1025);
  long_user[1025] = '\0';
  check_invalid_at(client, long_user, INSIGHT_JSON, "usersId", "at most 1024");
  CHECK(big != NULL);
  if (big != NULL) {
    memcpy(big, pad_head, head);
    memset(big + head, 'a', pad);
    memcpy(big + head + pad, "\",", 2);
    strcpy(big + head + pad + 2, INSIGHT_JSON + 1);
    check_invalid_at(client, USER, big, "", "at most 4194304");
  }
  CHECK(emulator_request_count() == 0);
  free(big);
  used_insight_client_free(client);
}

/* Answers Graph does not send: a 2xx that is not a usedInsight, or over
 * 4 MiB, is UNDECODABLE_RESPONSE and may have been processed; an error
 * status with an HTML page is still GRAPH_API_ERROR with its status. */
static void test_bad_input_rows_odd_answers(void) {
  static const char *const undecodable[] = {
      "{\"status\":201,\"body\":\"{\\\"lastUsed\\\":5}\",\"content_type\":\"application/json\"}",
      "{\"body_bytes\":5242880}"};
  used_insight_client *client = emulator_client();
  used_insight_error *err = NULL;
  char *out = NULL;
  size_t i;

  for (i = 0; i < sizeof undecodable / sizeof undecodable[0]; i++) {
    emulator_fault(undecodable[i]);
    CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
                 USED_INSIGHT_STATUS_UNDECODABLE_RESPONSE, err);
    CHECK(out == NULL);
    CHECK(used_insight_error_request_may_have_been_processed(err));
    used_insight_error_free(err);
    err = NULL;
  }
  emulator_fault("{\"status\":502,\"body\":\"<html>Bad gateway</html>\"}");
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_GRAPH_API_ERROR, err);
  CHECK(used_insight_error_http_status(err) == 502);
  CHECK(!used_insight_error_request_may_have_been_processed(err));
  used_insight_error_free(err);
  err = NULL;
  /* Cut short after Graph stored it: lost, may have been processed. */
  emulator_fault("{\"truncate\":true}");
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_TRANSPORT, err);
  CHECK_KIND(err, USED_INSIGHT_TRANSPORT_KIND_CONNECTION_LOST);
  CHECK(used_insight_error_request_may_have_been_processed(err));
  used_insight_error_free(err);
  used_insight_client_free(client);
}

#define THREADS 8
#define CREATES_PER_THREAD 4

typedef struct {
  used_insight_client *client;
  int index;
  int ok;
} worker;

static void *work(void *arg) {
  worker *w = (worker *)arg;
  char user[64];
  int i;
  snprintf(user, sizeof user, "user-%d@contoso.com", w->index);
  for (i = 0; i < CREATES_PER_THREAD; i++) {
    used_insight_error *err = NULL;
    if (i % 2 == 0) {
      char *out = NULL;
      if (used_insight_create(w->client, user, INSIGHT_JSON, &out, &err) == USED_INSIGHT_STATUS_OK &&
          contains(out, "\"id\":\"")) {
        w->ok++;
      }
      used_insight_string_free(out);
    } else {
      used_insight_fields fields = valid_fields();
      used_insight_result *result = NULL;
      if (used_insight_create_fields(w->client, user, &fields, &result, &err) ==
              USED_INSIGHT_STATUS_OK &&
          used_insight_result_id(result) != NULL) {
        w->ok++;
      }
      used_insight_result_free(result);
    }
    if (err != NULL) {
      fprintf(stderr, "  thread %d: %s\n", w->index, used_insight_error_message(err));
    }
    used_insight_error_free(err);
  }
  return NULL;
}

static void test_eight_threads_share_one_client(void) {
  token_source source;
  used_insight_client *client;
  pthread_t threads[THREADS];
  worker workers[THREADS];
  int i, ok = 0;

  pthread_mutex_init(&source.lock, NULL);
  source.calls = 0;
  source.fail = 0;
  client = callback_client(&source);
  for (i = 0; i < THREADS; i++) {
    workers[i].client = client;
    workers[i].index = i;
    workers[i].ok = 0;
    CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
  }
  for (i = 0; i < THREADS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    ok += workers[i].ok;
  }
  CHECK(ok == THREADS * CREATES_PER_THREAD);
  CHECK(emulator_request_count() == THREADS * CREATES_PER_THREAD);
  CHECK(source.calls == THREADS * CREATES_PER_THREAD); /* called from every thread */

  used_insight_client_free(client);
  pthread_mutex_destroy(&source.lock);
}

/* ------------------------------------------------------------- create_many */

/* What the progress callback saw, under a lock: it may be called from the
 * library's worker threads. */
typedef struct {
  pthread_mutex_t lock;
  size_t calls;
  size_t last_done;
  size_t bad_total; /* calls whose total was not the expected one */
  size_t expected_total;
  unsigned char seen[64]; /* how often each `done` value came */
} progress_log;

static void progress_init(progress_log *plog, size_t expected_total) {
  memset(plog, 0, sizeof *plog);
  pthread_mutex_init(&plog->lock, NULL);
  plog->expected_total = expected_total;
}

static void on_progress(void *user_data, size_t done, size_t total) {
  progress_log *plog = (progress_log *)user_data;
  pthread_mutex_lock(&plog->lock);
  plog->calls++;
  if (done > plog->last_done) {
    plog->last_done = done;
  }
  if (total != plog->expected_total) {
    plog->bad_total++;
  }
  if (done < sizeof plog->seen) {
    plog->seen[done]++;
  }
  pthread_mutex_unlock(&plog->lock);
}

/* Every `done` from 1 to total came exactly once, the last being total. */
static int progress_complete(const progress_log *plog) {
  size_t i;
  if (plog->calls != plog->expected_total || plog->last_done != plog->expected_total ||
      plog->bad_total != 0 || plog->seen[0] != 0) {
    return 0;
  }
  for (i = 1; i <= plog->expected_total && i < sizeof plog->seen; i++) {
    if (plog->seen[i] != 1) {
      return 0;
    }
  }
  return 1;
}

#define MANY 45

/* The core's batch scenario (core/tests/batch.rs) through the C API, with
 * even inputs as JSON and odd ones as fields, on Graph's full batches of 20
 * (so without a rate limit): inputs 7 and 30 are invalid,
 * so the batches are inputs 0-20 (less 7), 21-41 (less 30) and 42-44. In
 * the first, batch positions 3 and 9 (inputs 3 and 10) are throttled; in the
 * second, position 5 (input 26) is unavailable; the third is lost. */
static void run_many_scenario(size_t concurrency) {
  used_insight_client *client = limited_client(0, 0, 0);
  used_insight_batch_options *options = used_insight_batch_options_new();
  used_insight_batch_item items[MANY];
  used_insight_fields fields[MANY];
  char users[MANY][32];
  char titles[MANY][16];
  char jsons[MANY][512];
  used_insight_batch_results *results = NULL;
  used_insight_error *err = NULL;
  progress_log plog;
  char *requests = NULL;
  char *stored[4];
  size_t i, u, titles_stored = 0;

  for (i = 0; i < MANY; i++) {
    used_insight_batch_item init = USED_INSIGHT_BATCH_ITEM_INIT;
    items[i] = init;
    snprintf(users[i], sizeof users[i], "user%d@contoso.com", (int)(i % 4));
    snprintf(titles[i], sizeof titles[i], "doc %d", (int)i);
    items[i].user_id = users[i];
    if (i % 2 == 0) {
      snprintf(jsons[i], sizeof jsons[i],
               "{%s\"resourceVisualization\":{\"title\":\"%s\",\"type\":\"Word\"},"
               "\"resourceReference\":{\"webUrl\":\"https://contoso.sharepoint.com/%d.docx\"}}",
               i == 30 ? "" : "\"lastUsed\":{\"lastAccessedDateTime\":\"2026-11-28T10:00:00Z\"},",
               titles[i], (int)i);
      items[i].insight_json = jsons[i];
    } else {
      fields[i] = valid_fields();
      fields[i].title = titles[i];
      if (i == 7) {
        fields[i].web_url = "not a url";
      }
      items[i].fields = &fields[i];
    }
  }
  emulator_fault("["
                 "{\"body_contains\":\"\\\"id\\\":\\\"0\\\"\",\"batch_items\":[3,9],"
                 "\"status\":429,\"retry_after\":\"0.3\"},"
                 "{\"body_contains\":\"\\\"id\\\":\\\"21\\\"\",\"batch_items\":[5],"
                 "\"status\":503,\"retry_after\":\"0.1\"},"
                 "{\"body_contains\":\"\\\"id\\\":\\\"42\\\"\",\"drop_connection\":true}"
                 "]");
  progress_init(&plog, MANY);
  CHECK_STATUS(used_insight_batch_options_set_concurrency(options, concurrency),
               USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_batch_options_set_progress(options, on_progress, &plog),
               USED_INSIGHT_STATUS_OK, NULL);

  CHECK_STATUS(used_insight_create_many(client, items, MANY, options, &results, &err),
               USED_INSIGHT_STATUS_OK, err);
  CHECK(err == NULL);
  CHECK(used_insight_batch_results_count(results) == MANY);
  CHECK(used_insight_batch_results_created_count(results) == MANY - 5);
  CHECK(progress_complete(&plog));

  /* One result per input, in input order. */
  for (i = 0; i < MANY; i++) {
    uint32_t status = used_insight_batch_results_status(results, i);
    const used_insight_error *item_err = used_insight_batch_results_error(results, i);
    const char *id = used_insight_batch_results_id(results, i);
    const char *json = used_insight_batch_results_json(results, i);
    char title[64];
    snprintf(title, sizeof title, "\"title\":\"doc %d\"", (int)i);
    if (i == 7 || i == 30) {
      CHECK_STATUS(status, USED_INSIGHT_STATUS_VALIDATION_FAILED, item_err);
      CHECK(used_insight_error_problem_count(item_err) == 1);
      CHECK_STR(used_insight_error_problem_path(item_err, 0),
                i == 7 ? "resourceReference.webUrl" : "lastUsed");
      CHECK(used_insight_error_client_request_id(item_err) == NULL); /* never sent */
      CHECK(id == NULL && json == NULL);
    } else if (i >= 42) {
      CHECK_STATUS(status, USED_INSIGHT_STATUS_TRANSPORT, item_err);
      CHECK(used_insight_error_request_may_have_been_processed(item_err));
      CHECK(used_insight_error_client_request_id(item_err) != NULL);
      CHECK(id == NULL && json == NULL);
    } else {
      CHECK_STATUS(status, USED_INSIGHT_STATUS_OK, item_err);
      CHECK(item_err == NULL);
      CHECK(id != NULL && strlen(id) == 36);
      CHECK(id != NULL && contains(json, id));
      if (!contains(json, title)) {
        fail_at(__LINE__, "a result is not its input's");
        fprintf(stderr, "    input %d: %s\n", (int)i, json ? json : "(NULL)");
      }
    }
  }

  /* The wire: three batches, then the throttled items alone; inputs 7 and
   * 30 never sent, 3, 10 and 26 twice, every other one once. */
  requests = emulator_requests();
  CHECK(count(requests, "\"method\":") == 5);
  CHECK(count(requests, "\"path\":\"/v1.0/$batch\"") == 5);
  for (i = 0; i < MANY; i++) {
    char sent_id[32];
    size_t expected = (i == 7 || i == 30) ? 0 : (i == 3 || i == 10 || i == 26) ? 2 : 1;
    /* Inside the recorded body (a JSON string), quotes are escaped. */
    snprintf(sent_id, sizeof sent_id, "\\\"id\\\":\\\"%d\\\"", (int)i);
    if (count(requests, sent_id) != expected) {
      fail_at(__LINE__, "an input was sent a wrong number of times");
      fprintf(stderr, "    input %d: %lu times, expected %lu\n", (int)i,
              (unsigned long)count(requests, sent_id), (unsigned long)expected);
    }
  }

  /* The emulator stored exactly the items reported created, each once. */
  for (u = 0; u < 4; u++) {
    char user[32];
    snprintf(user, sizeof user, "user%d@contoso.com", (int)u);
    stored[u] = emulator_stored(user);
    titles_stored += count(stored[u], "\"title\":\"doc ");
  }
  CHECK(titles_stored == MANY - 5);
  for (i = 0; i < MANY; i++) {
    const char *id = used_insight_batch_results_id(results, i);
    char title[64];
    size_t found = 0;
    snprintf(title, sizeof title, "\"title\":\"doc %d\"", (int)i);
    for (u = 0; u < 4; u++) {
      found += count(stored[u], title);
      if (id != NULL) {
        CHECK(count(stored[u], id) == (u == i % 4 ? 1u : 0u));
      }
    }
    if (found != (used_insight_batch_results_status(results, i) == USED_INSIGHT_STATUS_OK ? 1u
                                                                                          : 0u)) {
      fail_at(__LINE__, "the emulator's store differs from the results");
      fprintf(stderr, "    input %d stored %lu times\n", (int)i, (unsigned long)found);
    }
  }

  for (u = 0; u < 4; u++) {
    free(stored[u]);
  }
  free(requests);
  used_insight_batch_results_free(results); /* one call frees every result and error */
  used_insight_error_free(err);
  used_insight_batch_options_free(options);
  used_insight_client_free(client);
  pthread_mutex_destroy(&plog.lock);
}

static void test_create_many_45_items_2_invalid_3_throttled_1_batch_lost(void) {
  run_many_scenario(1);
}

static void test_create_many_the_same_with_3_batches_in_flight(void) {
  run_many_scenario(3);
}

static void test_create_many_bad_items_get_their_own_result(void) {
  used_insight_client *client = emulator_client();
  used_insight_batch_item items[6];
  used_insight_fields latin1_title = valid_fields();
  used_insight_fields good_fields = valid_fields();
  used_insight_fields bad_date = valid_fields();
  used_insight_batch_results *results = NULL;
  used_insight_error *err = NULL;
  const used_insight_error *item_err;
  char *requests = NULL;
  char *stored = NULL;
  size_t i;

  for (i = 0; i < 6; i++) {
    used_insight_batch_item init = USED_INSIGHT_BATCH_ITEM_INIT;
    items[i] = init;
    items[i].user_id = USER;
  }
  latin1_title.title = "caf\xe9";
  bad_date.last_accessed = "yesterday";
  items[0].insight_json = INSIGHT_JSON;
  items[1].user_id = "caf\xe9";
  items[1].insight_json = INSIGHT_JSON;
  items[2].fields = &latin1_title;
  items[3].insight_json = "{\"x\":\"\xc3\x28\"}";
  items[4].fields = &bad_date;
  items[5].fields = &good_fields;

  /* NULL options: the defaults. */
  CHECK_STATUS(used_insight_create_many(client, items, 6, NULL, &results, &err),
               USED_INSIGHT_STATUS_OK, err);
  CHECK(used_insight_batch_results_count(results) == 6);
  CHECK(used_insight_batch_results_created_count(results) == 2);

  CHECK_STATUS(used_insight_batch_results_status(results, 0), USED_INSIGHT_STATUS_OK, NULL);
  CHECK(used_insight_batch_results_error(results, 0) == NULL);
  CHECK(contains(used_insight_batch_results_json(results, 0), "\"title\":\"Quarterly report\""));

  item_err = used_insight_batch_results_error(results, 1);
  CHECK_STATUS(used_insight_batch_results_status(results, 1), USED_INSIGHT_STATUS_INVALID_UTF8,
               item_err);
  CHECK_STATUS(used_insight_error_status(item_err), USED_INSIGHT_STATUS_INVALID_UTF8, item_err);
  CHECK_STR(used_insight_error_message(item_err),
            "user_id is not valid UTF-8 (bad byte at offset 3)");
  CHECK(used_insight_batch_results_id(results, 1) == NULL);

  item_err = used_insight_batch_results_error(results, 2);
  CHECK_STATUS(used_insight_batch_results_status(results, 2), USED_INSIGHT_STATUS_INVALID_UTF8,
               item_err);
  CHECK(used_insight_error_problem_count(item_err) == 1);
  CHECK_STR(used_insight_error_problem_path(item_err, 0), "resourceVisualization.title");

  item_err = used_insight_batch_results_error(results, 3);
  CHECK_STATUS(used_insight_batch_results_status(results, 3), USED_INSIGHT_STATUS_INVALID_UTF8,
               item_err);
  CHECK(contains(used_insight_error_message(item_err), "insight_json"));

  item_err = used_insight_batch_results_error(results, 4);
  CHECK_STATUS(used_insight_batch_results_status(results, 4), USED_INSIGHT_STATUS_VALIDATION_FAILED,
               item_err);
  CHECK_STR(used_insight_error_problem_path(item_err, 0), "lastUsed.lastAccessedDateTime");
  CHECK(used_insight_error_http_status(item_err) == 0);
  CHECK(used_insight_error_retry_after_ms(item_err) == -1);

  CHECK_STATUS(used_insight_batch_results_status(results, 5), USED_INSIGHT_STATUS_OK, NULL);
  CHECK(used_insight_batch_results_id(results, 5) != NULL &&
        strlen(used_insight_batch_results_id(results, 5)) == 36);
  CHECK(contains(used_insight_batch_results_json(results, 5),
                 "\"webUrl\":\"https://contoso.sharepoint.com/sites/finance/report.docx\""));

  /* Out of range: a status that is not OK, and NULL. */
  CHECK_STATUS(used_insight_batch_results_status(results, 6), USED_INSIGHT_STATUS_INVALID_ARGUMENT,
               NULL);
  CHECK(used_insight_batch_results_error(results, 6) == NULL);
  CHECK(used_insight_batch_results_json(results, 6) == NULL);

  /* One batch with the two valid items; both stored. */
  requests = emulator_requests();
  CHECK(count(requests, "\"method\":") == 1);
  CHECK(count(requests, "\\\"method\\\":\\\"POST\\\"") == 2);
  stored = emulator_stored(USER);
  CHECK(count(stored, "\"id\":\"") == 2);
  CHECK(contains(stored, used_insight_batch_results_id(results, 0)));
  CHECK(contains(stored, used_insight_batch_results_id(results, 5)));

  free(stored);
  free(requests);
  used_insight_batch_results_free(results);
  used_insight_error_free(err);
  used_insight_client_free(client);
}

static void test_create_many_programmer_errors_fail_the_whole_call(void) {
  used_insight_client *client = emulator_client();
  used_insight_batch_options *options = used_insight_batch_options_new();
  used_insight_batch_item items[2];
  used_insight_batch_item init = USED_INSIGHT_BATCH_ITEM_INIT;
  used_insight_fields fields = valid_fields();
  used_insight_batch_results *results = NULL;
  used_insight_batch_results *sentinel = (used_insight_batch_results *)&fields;
  used_insight_error *err = NULL;
  progress_log plog;

  items[0] = init;
  items[0].user_id = USER;
  items[0].insight_json = INSIGHT_JSON;
  items[1] = items[0];

  /* NULL arguments; err itself may be NULL. */
  results = sentinel;
  CHECK_STATUS(used_insight_create_many(NULL, items, 2, NULL, &results, &err),
               USED_INSIGHT_STATUS_NULL_PARAMETER, err);
  CHECK_STR(used_insight_error_message(err), "client is NULL");
  used_insight_error_free(err);
  err = NULL;
  CHECK_STATUS(used_insight_create_many(client, NULL, 2, NULL, &results, &err),
               USED_INSIGHT_STATUS_NULL_PARAMETER, err);
  CHECK_STR(used_insight_error_message(err), "items is NULL");
  used_insight_error_free(err);
  err = NULL;
  CHECK_STATUS(used_insight_create_many(client, items, 2, NULL, NULL, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  items[1].user_id = NULL;
  CHECK_STATUS(used_insight_create_many(client, items, 2, NULL, &results, &err),
               USED_INSIGHT_STATUS_NULL_PARAMETER, err);
  CHECK_STR(used_insight_error_message(err), "items[1].user_id is NULL");
  used_insight_error_free(err);
  err = NULL;
  items[1].user_id = USER;
  items[1].insight_json = NULL;
  CHECK_STATUS(used_insight_create_many(client, items, 2, NULL, &results, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);

  /* Both inputs, or a struct_size that is not the caller's sizeof. */
  items[1].insight_json = INSIGHT_JSON;
  items[1].fields = &fields;
  CHECK_STATUS(used_insight_create_many(client, items, 2, NULL, &results, &err),
               USED_INSIGHT_STATUS_INVALID_ARGUMENT, err);
  CHECK(contains(used_insight_error_message(err), "both set"));
  used_insight_error_free(err);
  err = NULL;
  items[1].insight_json = NULL;
  fields.struct_size = 0;
  CHECK_STATUS(used_insight_create_many(client, items, 2, NULL, &results, &err),
               USED_INSIGHT_STATUS_INVALID_ARGUMENT, err);
  CHECK(contains(used_insight_error_message(err), "items[1].fields->struct_size is 0"));
  used_insight_error_free(err);
  err = NULL;
  items[1] = items[0];
  items[1].struct_size = 0;
  CHECK_STATUS(used_insight_create_many(client, items, 2, NULL, &results, &err),
               USED_INSIGHT_STATUS_INVALID_ARGUMENT, err);
  CHECK(contains(used_insight_error_message(err), "items[1].struct_size is 0"));
  used_insight_error_free(err);
  err = NULL;
  CHECK(results == sentinel); /* never written on failure */

  /* Batch options: concurrency is 1 or more, as in core and Python. */
  CHECK_STATUS(used_insight_batch_options_set_concurrency(NULL, 2),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_batch_options_set_concurrency(options, 0),
               USED_INSIGHT_STATUS_INVALID_ARGUMENT, NULL);
  CHECK_STATUS(used_insight_batch_options_set_concurrency(options, 1), USED_INSIGHT_STATUS_OK,
               NULL);
  CHECK_STATUS(used_insight_batch_options_set_progress(NULL, on_progress, NULL),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);

  /* Accessors on a NULL set. */
  CHECK(used_insight_batch_results_count(NULL) == 0);
  CHECK(used_insight_batch_results_created_count(NULL) == 0);
  CHECK_STATUS(used_insight_batch_results_status(NULL, 0), USED_INSIGHT_STATUS_NULL_PARAMETER,
               NULL);
  CHECK(used_insight_batch_results_id(NULL, 0) == NULL);
  CHECK(used_insight_batch_results_json(NULL, 0) == NULL);
  CHECK(used_insight_batch_results_error(NULL, 0) == NULL);

  /* No items: an empty set (items may be NULL), no progress. */
  progress_init(&plog, 0);
  CHECK_STATUS(used_insight_batch_options_set_progress(options, on_progress, &plog),
               USED_INSIGHT_STATUS_OK, NULL);
  results = NULL;
  CHECK_STATUS(used_insight_create_many(client, NULL, 0, options, &results, &err),
               USED_INSIGHT_STATUS_OK, err);
  CHECK(results != NULL);
  CHECK(err == NULL);
  CHECK(used_insight_batch_results_count(results) == 0);
  CHECK_STATUS(used_insight_batch_results_status(results, 0), USED_INSIGHT_STATUS_INVALID_ARGUMENT,
               NULL);
  CHECK(plog.calls == 0);

  CHECK(emulator_request_count() == 0);
  used_insight_batch_results_free(results);
  used_insight_batch_options_free(options);
  used_insight_client_free(client);
  pthread_mutex_destroy(&plog.lock);
}

/* ------------------------------------------------------ Graph's limits */

static void test_rate_limit_setters_refuse_what_core_refuses(void) {
  used_insight_options *options = used_insight_options_new();
  const uint32_t invalid = USED_INSIGHT_STATUS_INVALID_ARGUMENT;
  CHECK_STATUS(used_insight_options_set_rate_limit(options, 0, 10, 1.0), invalid, NULL);
  CHECK_STATUS(used_insight_options_set_rate_limit(options, 4, 0, 1.0), invalid, NULL);
  CHECK_STATUS(used_insight_options_set_rate_limit(options, 4, 10, 0.0), invalid, NULL);
  CHECK_STATUS(used_insight_options_set_rate_limit(options, 4, 10, -2.0), invalid, NULL);
  CHECK_STATUS(used_insight_options_set_rate_limit(options, 4, 10, 90000.0), invalid, NULL);
  CHECK_STATUS(used_insight_options_set_rate_limit(options, 4, 10000, 600.0),
               USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_disable_rate_limit(options), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_rate_limit(NULL, 4, 10, 1.0),
               USED_INSIGHT_STATUS_NULL_PARAMETER, NULL);
  CHECK_STATUS(used_insight_options_disable_rate_limit(NULL), USED_INSIGHT_STATUS_NULL_PARAMETER,
               NULL);
  used_insight_options_free(options);
}

#define LIMIT_THREADS 16

typedef struct {
  used_insight_client *client;
  int index;
  int creates; /* how many to make; with until_ms, until then instead */
  double until_ms;
  int ok;
  int throttled; /* 429s returned */
} limit_worker;

static void *limit_work(void *arg) {
  limit_worker *w = (limit_worker *)arg;
  char user[32];
  int i;
  snprintf(user, sizeof user, "thread%d", w->index);
  for (i = 0; w->until_ms > 0 ? now_ms() < w->until_ms : i < w->creates; i++) {
    used_insight_error *err = NULL;
    char *out = NULL;
    uint32_t status = used_insight_create(w->client, user, INSIGHT_JSON, &out, &err);
    if (status == USED_INSIGHT_STATUS_OK) {
      w->ok++;
    } else if (used_insight_error_http_status(err) == 429) {
      w->throttled++;
    }
    used_insight_string_free(out);
    used_insight_error_free(err);
  }
  return NULL;
}

/* Runs `threads` workers on one client; returns the creates that succeeded. */
static int run_limit_workers(used_insight_client *client, int threads, int creates,
                             double until_ms, int *throttled) {
  pthread_t ids[LIMIT_THREADS];
  limit_worker workers[LIMIT_THREADS];
  int i, ok = 0;
  *throttled = 0;
  for (i = 0; i < threads; i++) {
    workers[i].client = client;
    workers[i].index = i;
    workers[i].creates = creates;
    workers[i].until_ms = until_ms;
    workers[i].ok = 0;
    workers[i].throttled = 0;
    CHECK(pthread_create(&ids[i], NULL, limit_work, &workers[i]) == 0);
  }
  for (i = 0; i < threads; i++) {
    CHECK(pthread_join(ids[i], NULL) == 0);
    ok += workers[i].ok;
    *throttled += workers[i].throttled;
  }
  return ok;
}

static void test_sixteen_threads_under_the_limits_get_no_429(void) {
  used_insight_client *client = limited_client(4, 40, 1.0);
  int throttled = 0;
  long peak = 0;
  emulator_limits("{\"max_concurrent\":4,\"requests\":40,\"per_ms\":1000,\"latency_ms\":50}");
  CHECK(run_limit_workers(client, LIMIT_THREADS, 2, 0, &throttled) == LIMIT_THREADS * 2);
  CHECK(throttled == 0);
  CHECK(emulator_throttled(&peak) == 0);
  CHECK(peak == 4);
  used_insight_client_free(client);
}

static void test_a_windowed_limit_is_paced_not_hammered(void) {
  used_insight_client *client = limited_client(4, 10, 0.5);
  int throttled = 0;
  double start;
  emulator_limits("{\"max_concurrent\":4,\"requests\":10,\"per_ms\":500,\"latency_ms\":10}");
  start = now_ms();
  CHECK(run_limit_workers(client, 1, 25, 0, &throttled) == 25);
  /* 10 at once, 10 after the window, 5 after the next. */
  CHECK(now_ms() - start >= 1000.0);
  CHECK(emulator_throttled(NULL) == 0);
  CHECK(emulator_request_count() == 25);
  used_insight_client_free(client);
}

/* Requests from `user` that reached the emulator in (from_ms, to_ms) of its
 * clock; *first_ms gets the arrival of that user's first one (or -1). Each
 * recorded request has one "path" and one "elapsed_ms", in whatever order
 * the emulator writes its keys (sorted: "elapsed_ms" first), so the kth of
 * each belong together. */
static int arrivals(const char *requests, const char *user, double from_ms, double to_ms,
                    double *first_ms) {
  char needle[64];
  const char *at = requests;
  const char *elapsed = requests;
  int n = 0;
  snprintf(needle, sizeof needle, "/users/%s/", user);
  *first_ms = -1;
  while ((at = strstr(at, "\"path\":\"")) != NULL &&
         (elapsed = strstr(elapsed, "\"elapsed_ms\":")) != NULL) {
    const char *end = strchr(at + 8, '"');
    size_t len = end ? (size_t)(end - at) : 0;
    double t;
    if (end == NULL) {
      break;
    }
    elapsed += strlen("\"elapsed_ms\":");
    t = strtod(elapsed, NULL);
    if (len > strlen(needle) && strstr(at, needle) != NULL && strstr(at, needle) < end) {
      if (*first_ms < 0) {
        *first_ms = t;
      }
      if (t > from_ms && t < to_ms) {
        n++;
      }
    }
    at = end;
  }
  return n;
}

/* Thread 0's first request gets 429 with Retry-After 0.5: from its answer
 * on, no thread sends more than the request or two it may already have had
 * on its way (without the shared pause, each would send one every 30 ms),
 * and thread 0 itself waits the whole pause. */
static void test_a_429_pauses_the_other_threads(void) {
  used_insight_client *client = limited_client(4, 1000, 1.0);
  int throttled = 0, i;
  char *requests;
  double t0 = -1, first;
  emulator_limits("{\"max_concurrent\":4,\"latency_ms\":30}");
  /* Connections first: each thread's user once. */
  CHECK(run_limit_workers(client, 4, 1, 0, &throttled) == 4);
  emulator_reset();
  emulator_limits("{\"max_concurrent\":4,\"latency_ms\":30}");
  emulator_fault("{\"path_contains\":\"thread0\",\"status\":429,\"retry_after\":\"0.5\"}");
  CHECK(run_limit_workers(client, 4, 0, now_ms() + 1100.0, &throttled) > 8);
  CHECK(throttled == 0); /* the 429 was retried */
  requests = emulator_requests();
  arrivals(requests, "thread0", 0, 0, &t0);
  CHECK(t0 >= 0);
  CHECK(arrivals(requests, "thread0", t0 + 1.0, t0 + 500.0, &first) == 0);
  for (i = 1; i < 4; i++) {
    char user[32];
    int n;
    snprintf(user, sizeof user, "thread%d", i);
    n = arrivals(requests, user, t0 + 5.0, t0 + 500.0, &first);
    if (n > 2) {
      fail_at(__LINE__, "a thread kept sending during the pause");
      fprintf(stderr, "    %s: %d requests in the 500 ms after %.1f ms\n", user, n, t0);
    }
    CHECK(arrivals(requests, user, t0 + 500.0, 1e12, &first) >= 1); /* and went on after */
  }
  free(requests);
  used_insight_client_free(client);
}

static void test_create_many_under_the_limits_gets_no_429(void) {
  used_insight_client *client = limited_client(4, 12, 0.5);
  used_insight_batch_item items[30];
  used_insight_batch_results *results = NULL;
  used_insight_error *err = NULL;
  char *stored;
  size_t i;
  double start;
  for (i = 0; i < 30; i++) {
    used_insight_batch_item init = USED_INSIGHT_BATCH_ITEM_INIT;
    items[i] = init;
    items[i].user_id = USER;
    items[i].insight_json = INSIGHT_JSON;
  }
  emulator_limits("{\"max_concurrent\":4,\"requests\":12,\"per_ms\":500,\"latency_ms\":20}");
  start = now_ms();
  CHECK_STATUS(used_insight_create_many(client, items, 30, NULL, &results, &err),
               USED_INSIGHT_STATUS_OK, err);
  CHECK(now_ms() - start >= 1000.0);
  CHECK(used_insight_batch_results_created_count(results) == 30);
  CHECK(emulator_throttled(NULL) == 0);
  emulator_limits("{}");
  stored = emulator_stored("alice%40contoso.com");
  CHECK(count(stored, "\"id\":\"") == 30); /* nothing lost, nothing twice */
  free(stored);
  used_insight_batch_results_free(results);
  used_insight_error_free(err);
  used_insight_client_free(client);
}

/* Proof that the tests above can fail: the same emulator throttles a client
 * without the limiter. */
static void test_without_the_limiter_the_emulator_throttles(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client;
  int throttled = 0, ok;
  CHECK_STATUS(used_insight_options_disable_rate_limit(options), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_max_retries(options, 0), USED_INSIGHT_STATUS_OK, NULL);
  client = client_from(options);
  used_insight_options_free(options);
  emulator_limits("{\"max_concurrent\":4,\"latency_ms\":300}");
  ok = run_limit_workers(client, LIMIT_THREADS, 1, 0, &throttled);
  CHECK(throttled > 0);
  CHECK(ok + throttled == LIMIT_THREADS);
  CHECK(emulator_throttled(NULL) == throttled);
  used_insight_client_free(client);
}

static void test_a_slot_not_had_within_the_timeout_is_not_sent(void) {
  used_insight_options *options = emulator_options();
  used_insight_client *client;
  used_insight_error *err = NULL;
  char *out = NULL;
  CHECK_STATUS(used_insight_options_set_rate_limit(options, 4, 1, 60.0), USED_INSIGHT_STATUS_OK,
               NULL);
  CHECK_STATUS(used_insight_options_set_timeout_ms(options, 300), USED_INSIGHT_STATUS_OK, NULL);
  client = client_from(options);
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err), USED_INSIGHT_STATUS_OK,
               err);
  used_insight_string_free(out);
  out = NULL;
  CHECK_STATUS(used_insight_create(client, USER, INSIGHT_JSON, &out, &err),
               USED_INSIGHT_STATUS_TIMEOUT, err);
  CHECK(out == NULL);
  CHECK(!used_insight_error_request_may_have_been_processed(err));
  CHECK(contains(used_insight_error_message(err), "nothing was sent"));
  CHECK(emulator_request_count() == 1);
  used_insight_error_free(err);
  used_insight_client_free(client);
  used_insight_options_free(options);
}

/* -------------------------------------------------------------------- main */

static const test_case TESTS[] = {
    TEST(test_version_matches_the_header),
    TEST(test_init_macros_set_struct_size_and_nothing_else),
    TEST(test_free_null_is_a_no_op),
    TEST(test_create_json_succeeds_and_sends_graphs_headers),
    TEST(test_create_fields_succeeds_with_id_readable_without_json),
    TEST(test_api_version_beta_is_used_in_the_path),
    TEST(test_validation_lists_every_problem_and_sends_nothing),
    TEST(test_graph_400_carries_code_and_request_ids),
    TEST(test_wrong_token_is_a_graph_401),
    TEST(test_429_then_success_is_retried_with_the_same_client_request_id),
    TEST(test_429_beyond_the_retries_reports_retry_after),
    TEST(test_503_without_retry_after_waits_the_retry_delay_set),
    TEST(test_dropped_connection_is_transport_and_never_resent),
    TEST(test_connection_refused_is_transport_not_processed),
    TEST(test_slow_answer_is_a_timeout),
    TEST(test_html_201_is_an_undecodable_response),
    TEST(test_null_arguments_are_reported_never_crash),
    TEST(test_invalid_utf8_is_reported_never_crash),
    TEST(test_invalid_arguments_and_config),
    TEST(test_root_certificates_are_read_by_client_new),
    TEST(test_socks_proxy_is_invalid_config_without_its_password),
    TEST(test_explicit_proxy_on_a_closed_port_is_a_connect_error_naming_it),
    TEST(test_no_proxy_and_loopback_ignore_the_environment),
    TEST(test_tls_root_file_added_is_trusted),
    TEST(test_tls_root_as_pem_text_is_trusted),
    TEST(test_tls_without_the_root_fails_and_nothing_is_sent),
    TEST(test_tls_an_unrelated_root_does_not_help),
    TEST(test_tls_a_certificate_for_another_name_is_refused),
    TEST(test_tls_an_expired_certificate_is_refused),
    TEST(test_tls_system_roots_follow_ssl_cert_file),
    TEST(test_proxy_tunnels_create_fields_to_the_emulator_without_the_token),
    TEST(test_proxy_tunnels_https_to_the_tls_emulator_with_its_ca),
    TEST(test_proxy_refusing_the_tunnel_is_transport_kind_proxy_nothing_sent),
    TEST(test_proxy_credentials_in_the_url_work_and_show_in_no_error),
    TEST(test_env_proxy_https_proxy_tunnels_graphs_own_host),
    TEST(test_env_proxy_all_proxy_is_the_fallback),
    TEST(test_env_proxy_no_proxy_listing_the_address_goes_direct),
    TEST(test_token_callback_is_called_before_every_attempt),
    TEST(test_token_callback_failure_is_reported_and_nothing_sent),
    TEST(test_a_token_or_user_agent_with_crlf_is_refused_naming_it),
    TEST(test_a_token_callback_s_crlf_token_is_refused_and_nothing_sent),
    TEST(test_redirects_to_other_schemes_are_refused_not_processed),
    TEST(test_bad_input_rows_wrong_types_user_ids_sizes_surrogates),
    TEST(test_bad_input_rows_odd_answers),
    TEST(test_eight_threads_share_one_client),
    TEST(test_create_many_45_items_2_invalid_3_throttled_1_batch_lost),
    TEST(test_create_many_the_same_with_3_batches_in_flight),
    TEST(test_create_many_bad_items_get_their_own_result),
    TEST(test_create_many_programmer_errors_fail_the_whole_call),
    TEST(test_rate_limit_setters_refuse_what_core_refuses),
    TEST(test_sixteen_threads_under_the_limits_get_no_429),
    TEST(test_a_windowed_limit_is_paced_not_hammered),
    TEST(test_a_429_pauses_the_other_threads),
    TEST(test_create_many_under_the_limits_gets_no_429),
    TEST(test_without_the_limiter_the_emulator_throttles),
    TEST(test_a_slot_not_had_within_the_timeout_is_not_sent),
};

int main(int argc, char **argv) {
  base_url = getenv("USED_INSIGHT_TEST_URL");
  token = getenv("USED_INSIGHT_TEST_TOKEN");
  emulator_port = emulator_port_of(base_url);
  if (token == NULL || emulator_port == 0) {
    fprintf(stderr,
            "set USED_INSIGHT_TEST_URL=http://127.0.0.1:PORT (a graph-emulator started with\n"
            "--token T) and USED_INSIGHT_TEST_TOKEN=T\n");
    return 2;
  }
  tls_emulator.url = getenv(tls_emulator.url_variable);
  tls_emulator.ca = getenv(tls_emulator.ca_variable);
  wrong_name_emulator.url = getenv(wrong_name_emulator.url_variable);
  wrong_name_emulator.ca = getenv(wrong_name_emulator.ca_variable);
  expired_emulator.url = getenv(expired_emulator.url_variable);
  expired_emulator.ca = getenv(expired_emulator.ca_variable);
  allowing_proxy.url = getenv(allowing_proxy.url_variable);
  allowing_proxy.log = getenv(allowing_proxy.log_variable);
  refusing_proxy.url = getenv(refusing_proxy.url_variable);
  refusing_proxy.log = getenv(refusing_proxy.log_variable);
  tunnel_proxy.url = getenv(tunnel_proxy.url_variable);
  tunnel_proxy.log = getenv(tunnel_proxy.log_variable);
  return run_tests(TESTS, sizeof TESTS / sizeof TESTS[0], argc, argv, emulator_reset);
}
