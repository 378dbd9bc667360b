/*
 * The credential setters end to end, against a graph-emulator playing
 * Microsoft Entra ID and the managed identity endpoints:
 *
 *   USED_INSIGHT_TEST_ENTRA_URL=http://127.0.0.1:PORT ./test_credentials [NAME...]
 *
 * The emulator must run with the test apps and a managed identity, its
 * Graph accepting only tokens it issued (scripts/test-c.sh starts it so):
 *
 *   --entra-app TENANT:SECRET_CLIENT:SECRET
 *   --entra-app-cert TENANT:CERT_CLIENT:core/tests/certs/entra-test-app.pem
 *   --entra-app-federated TENANT:FEDERATED_CLIENT:FEDERATED
 *   --managed-identity IDENTITY_HEADER:USER_ASSIGNED --require-issued-tokens
 *
 * with the values below. Run from the repository's root (the certificates
 * are read from core/tests/certs/). Each test resets the emulator and reads
 * what it received through its control endpoints (a tiny HTTP/1.0 client
 * over a socket, in test_support.c). No request goes anywhere but that emulator: the AZURE_*
 * and IDENTITY_* variables are cleared, and the metadata service is moved
 * to a closed loopback port, before any test runs. Prints one line per
 * test and "N passed, M failed".
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, setenv */

#include <arpa/inet.h>
#include <pthread.h>
#include <time.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "used_insight.h"
#include "test_support.h"

#define TENANT "aaaaaaaa-0000-4000-8000-000000000001"
#define SECRET_CLIENT "cccccccc-0000-4000-8000-000000000001"
#define CERT_CLIENT "cccccccc-0000-4000-8000-000000000002"
#define FEDERATED_CLIENT "cccccccc-0000-4000-8000-000000000003"
#define SECRET "test-only-secret~value"
#define FEDERATED "eyJhbGciOiJSUzI1NiJ9.test-only-federated-token.sig"
#define IDENTITY_HEADER "test-only-identity-header"
#define USER_ASSIGNED "77777777-0000-0000-0000-000000000001"
#define APP_PEM "core/tests/certs/entra-test-app.pem"
#define OTHER_APP_PEM "core/tests/certs/entra-test-other-app.pem"

/* ------------------------------------------------- the emulator's controls */

static const char *entra_url;
static int entra_port;

/* One request to the emulator's controls (see emulator_http), which need
 * no token. */
static int http(const char *method, const char *path, const char *body, char **body_out) {
  return emulator_http(entra_port, NULL, method, path, body, body_out);
}

static void emulator_reset(void) {
  if (http("POST", "/_emulator/reset", "{}", NULL) != 200) {
    fail_at(__LINE__, "could not reset the emulator");
  }
}

/* What the emulator received, token requests included, as its JSON
 * (caller frees). */
static char *emulator_requests(void) {
  char *body = NULL;
  if (http("GET", "/_emulator/requests", NULL, &body) != 200) {
    fail_at(__LINE__, "could not list the emulator's requests");
  }
  return body;
}

static const char *const TOKEN_REQUEST = "\"path\":\"/" TENANT "/oauth2/v2.0/token\"";
static const char *const GRAPH_REQUEST = "\"path\":\"/v1.0/users/";

/* --------------------------------------------------------------- fixtures */

static used_insight_fields valid_fields(void) {
  used_insight_fields fields = USED_INSIGHT_FIELDS_INIT;
  fields.title = "Quarterly report";
  fields.type = "Word";
  fields.web_url = "https://contoso.sharepoint.com/sites/finance/report.docx";
  fields.last_accessed = "2026-11-28T10:00:00Z";
  return fields;
}

/* Options for the emulator's Graph, its Entra ID as the authority host, and
 * no credential yet. */
static used_insight_options *entra_options(void) {
  used_insight_options *options = used_insight_options_new();
  CHECK(options != NULL);
  CHECK_STATUS(used_insight_options_set_base_url(options, entra_url), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_authority_host(options, entra_url), USED_INSIGHT_STATUS_OK,
               NULL);
  CHECK_STATUS(used_insight_options_set_max_retries(options, 0), USED_INSIGHT_STATUS_OK, NULL);
  return options;
}

/* Makes a client from the options (which it frees) and creates three
 * insights with it, each of which must succeed. */
static void create_three(used_insight_options *options) {
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  int i;
  CHECK_STATUS(used_insight_client_new(options, &client, &err), USED_INSIGHT_STATUS_OK, err);
  used_insight_error_free(err);
  err = NULL;
  used_insight_options_free(options);
  for (i = 0; client != NULL && i < 3; i++) {
    used_insight_fields fields = valid_fields();
    used_insight_result *result = NULL;
    CHECK_STATUS(used_insight_create_fields(client, "alice@contoso.com", &fields, &result, &err),
                 USED_INSIGHT_STATUS_OK, err);
    CHECK(result == NULL || used_insight_result_id(result) != NULL);
    used_insight_result_free(result);
    used_insight_error_free(err);
    err = NULL;
  }
  used_insight_client_free(client);
}

/* Makes a client from the options (which it frees) and returns the error of
 * one create, which must fail with `want`. */
static used_insight_error *create_failing(used_insight_options *options, uint32_t want) {
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  used_insight_fields fields = valid_fields();
  used_insight_result *result = NULL;
  CHECK_STATUS(used_insight_client_new(options, &client, &err), USED_INSIGHT_STATUS_OK, err);
  used_insight_error_free(err);
  err = NULL;
  used_insight_options_free(options);
  CHECK_STATUS(used_insight_create_fields(client, "alice@contoso.com", &fields, &result, &err),
               want, err);
  CHECK(result == NULL);
  CHECK(err != NULL);
  used_insight_client_free(client);
  return err;
}

/* The refusal of used_insight_client_new for these options (freed). */
static used_insight_error *client_new_refused(used_insight_options *options) {
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  CHECK_STATUS(used_insight_client_new(options, &client, &err), USED_INSIGHT_STATUS_INVALID_CONFIG,
               err);
  CHECK(client == NULL);
  used_insight_client_free(client);
  used_insight_options_free(options);
  return err;
}

/* A whole text file (malloc'd, caller frees), or NULL. */
static char *read_text_file(const char *path) {
  FILE *file = fopen(path, "rb");
  char *text;
  long size;
  if (file == NULL) {
    return NULL;
  }
  if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0) {
    fclose(file);
    return NULL;
  }
  text = (char *)malloc((size_t)size + 1);
  if (text != NULL && fread(text, 1, (size_t)size, file) != (size_t)size) {
    free(text);
    text = NULL;
  }
  if (text != NULL) {
    text[size] = '\0';
  }
  fclose(file);
  return text;
}

/* ------------------------------------------------------------------- tests */

static void test_client_secret_three_creates_one_token_request(void) {
  used_insight_options *options = entra_options();
  char *requests;
  CHECK_STATUS(used_insight_options_set_client_secret_credential(options, TENANT, SECRET_CLIENT,
                                                                 SECRET),
               USED_INSIGHT_STATUS_OK, NULL);
  create_three(options);
  requests = emulator_requests();
  CHECK(count(requests, TOKEN_REQUEST) == 1);
  CHECK(count(requests, GRAPH_REQUEST) == 3);
  CHECK(contains(requests, "grant_type=client_credentials&client_id=" SECRET_CLIENT));
  CHECK(contains(requests, "client_secret=test-only-secret~value"));
  CHECK(contains(requests, "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"));
  /* Graph got the issued token (it accepts no other), the same three times. */
  CHECK(count(requests, "\"authorization\":\"Bearer ey") == 3);
  free(requests);
}

static void check_certificate_token_request(void) {
  char *requests = emulator_requests();
  CHECK(count(requests, TOKEN_REQUEST) == 1);
  CHECK(count(requests, GRAPH_REQUEST) == 3);
  CHECK(contains(requests,
                 "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"));
  CHECK(contains(requests, "client_assertion=ey"));
  CHECK(!contains(requests, "client_secret="));
  free(requests);
}

static void test_certificate_from_a_pem_file(void) {
  used_insight_options *options = entra_options();
  CHECK_STATUS(used_insight_options_set_certificate_credential_file(options, TENANT, CERT_CLIENT,
                                                                    APP_PEM),
               USED_INSIGHT_STATUS_OK, NULL);
  create_three(options);
  check_certificate_token_request();
}

static void test_certificate_from_pem_text(void) {
  used_insight_options *options = entra_options();
  char *pem = read_text_file(APP_PEM);
  CHECK(pem != NULL);
  CHECK_STATUS(used_insight_options_set_certificate_credential_pem(options, TENANT, CERT_CLIENT, pem),
               USED_INSIGHT_STATUS_OK, NULL);
  /* The options keep their own copy. */
  memset(pem, 0, strlen(pem));
  free(pem);
  create_three(options);
  check_certificate_token_request();
}

static void test_workload_identity_from_arguments_and_from_the_environment(void) {
  /* The federated token file, as the platform writes it (removed below). */
  char token_file[] = "/tmp/used-insight-federated-token-XXXXXX";
  int fd = mkstemp(token_file);
  const char *text = FEDERATED "\n";
  used_insight_options *options;
  char *requests;
  CHECK(fd >= 0);
  if (fd < 0) {
    return;
  }
  CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  close(fd);

  options = entra_options();
  CHECK_STATUS(used_insight_options_set_workload_identity_credential(options, TENANT,
                                                                     FEDERATED_CLIENT, token_file),
               USED_INSIGHT_STATUS_OK, NULL);
  create_three(options);
  requests = emulator_requests();
  CHECK(count(requests, TOKEN_REQUEST) == 1);
  CHECK(contains(requests, "client_assertion=" FEDERATED));
  free(requests);

  /* NULLs: from AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE. */
  emulator_reset();
  setenv("AZURE_TENANT_ID", TENANT, 1);
  setenv("AZURE_CLIENT_ID", FEDERATED_CLIENT, 1);
  setenv("AZURE_FEDERATED_TOKEN_FILE", token_file, 1);
  options = entra_options();
  CHECK_STATUS(used_insight_options_set_workload_identity_credential(options, NULL, NULL, NULL),
               USED_INSIGHT_STATUS_OK, NULL);
  create_three(options);
  unsetenv("AZURE_TENANT_ID");
  unsetenv("AZURE_CLIENT_ID");
  unsetenv("AZURE_FEDERATED_TOKEN_FILE");
  requests = emulator_requests();
  CHECK(count(requests, TOKEN_REQUEST) == 1);
  CHECK(count(requests, GRAPH_REQUEST) == 3);
  free(requests);
  remove(token_file);
}

static void test_managed_identity_from_identity_endpoint_and_header(void) {
  char endpoint[256];
  used_insight_options *options;
  char *requests;
  snprintf(endpoint, sizeof endpoint, "%s/msi/token", entra_url);
  setenv("IDENTITY_ENDPOINT", endpoint, 1);
  setenv("IDENTITY_HEADER", IDENTITY_HEADER, 1);

  /* Managed identity takes no authority host. */
  options = used_insight_options_new();
  CHECK_STATUS(used_insight_options_set_base_url(options, entra_url), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_managed_identity_credential(options, NULL),
               USED_INSIGHT_STATUS_OK, NULL);
  create_three(options);
  requests = emulator_requests();
  CHECK(count(requests, "\"path\":\"/msi/token?api-version=2019-08-01&resource=") == 1);
  CHECK(contains(requests, "\"x-identity-header\":\"" IDENTITY_HEADER "\""));
  CHECK(!contains(requests, "client_id=" USER_ASSIGNED));
  CHECK(count(requests, GRAPH_REQUEST) == 3);
  free(requests);

  /* A user-assigned identity, by its client id. */
  emulator_reset();
  options = used_insight_options_new();
  CHECK_STATUS(used_insight_options_set_base_url(options, entra_url), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_managed_identity_credential(options, USER_ASSIGNED),
               USED_INSIGHT_STATUS_OK, NULL);
  create_three(options);
  requests = emulator_requests();
  CHECK(count(requests, "\"path\":\"/msi/token?") == 1);
  CHECK(contains(requests, "client_id=" USER_ASSIGNED));
  free(requests);

  unsetenv("IDENTITY_ENDPOINT");
  unsetenv("IDENTITY_HEADER");
}

static void test_environment_and_default_credentials_read_the_azure_variables(void) {
  used_insight_options *options;
  char *requests;
  setenv("AZURE_TENANT_ID", TENANT, 1);
  setenv("AZURE_CLIENT_ID", SECRET_CLIENT, 1);
  setenv("AZURE_CLIENT_SECRET", SECRET, 1);
  setenv("AZURE_AUTHORITY_HOST", entra_url, 1);

  options = used_insight_options_new();
  CHECK_STATUS(used_insight_options_set_base_url(options, entra_url), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_environment_credential(options), USED_INSIGHT_STATUS_OK,
               NULL);
  create_three(options);
  options = used_insight_options_new();
  CHECK_STATUS(used_insight_options_set_base_url(options, entra_url), USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_options_set_default_credential(options), USED_INSIGHT_STATUS_OK, NULL);
  create_three(options);
  requests = emulator_requests();
  /* One token per client. */
  CHECK(count(requests, TOKEN_REQUEST) == 2);
  CHECK(count(requests, "client_secret=test-only-secret~value") == 2);
  CHECK(count(requests, GRAPH_REQUEST) == 6);
  free(requests);

  unsetenv("AZURE_TENANT_ID");
  unsetenv("AZURE_CLIENT_ID");
  unsetenv("AZURE_CLIENT_SECRET");
  unsetenv("AZURE_AUTHORITY_HOST");
}

static void test_wrong_secret_is_entras_refusal_and_nothing_reaches_graph(void) {
  used_insight_options *options = entra_options();
  used_insight_error *err;
  char *requests;
  CHECK_STATUS(used_insight_options_set_client_secret_credential(options, TENANT, SECRET_CLIENT,
                                                                 "not-the-secret"),
               USED_INSIGHT_STATUS_OK, NULL);
  err = create_failing(options, USED_INSIGHT_STATUS_TOKEN_PROVIDER_FAILED);
  CHECK_STR(used_insight_error_aadsts_code(err), "AADSTS7000215");
  CHECK_STR(used_insight_error_entra_error(err), "invalid_client");
  CHECK_STR(used_insight_error_credential(err), "ClientSecretCredential");
  CHECK(used_insight_error_token_endpoint_status(err) == 401);
  CHECK(strncmp(used_insight_error_entra_error_description(err), "AADSTS7000215: ", 15) == 0);
  CHECK(used_insight_error_correlation_id(err) != NULL);
  CHECK(used_insight_error_trace_id(err) != NULL);
  CHECK(contains(used_insight_error_message(err), "AADSTS7000215"));
  CHECK(contains(used_insight_error_message(err), "nothing was sent to Graph"));
  CHECK(!contains(used_insight_error_message(err), "not-the-secret"));
  CHECK(used_insight_error_http_status(err) == 0);
  CHECK(!used_insight_error_request_may_have_been_processed(err));
  used_insight_error_free(err);
  requests = emulator_requests();
  CHECK(count(requests, TOKEN_REQUEST) == 1);
  CHECK(count(requests, GRAPH_REQUEST) == 0);
  free(requests);
}

static void test_an_assertion_signed_by_another_key_is_refused(void) {
  used_insight_options *options = entra_options();
  used_insight_error *err;
  char *requests;
  CHECK_STATUS(used_insight_options_set_certificate_credential_file(options, TENANT, CERT_CLIENT,
                                                                    OTHER_APP_PEM),
               USED_INSIGHT_STATUS_OK, NULL);
  err = create_failing(options, USED_INSIGHT_STATUS_TOKEN_PROVIDER_FAILED);
  CHECK_STR(used_insight_error_aadsts_code(err), "AADSTS700027");
  CHECK_STR(used_insight_error_credential(err), "CertificateCredential");
  used_insight_error_free(err);
  requests = emulator_requests();
  CHECK(count(requests, GRAPH_REQUEST) == 0);
  free(requests);
}

static void test_unusable_credentials_are_refused_by_client_new(void) {
  used_insight_options *options = entra_options();
  used_insight_error *err;
  CHECK_STATUS(used_insight_options_set_certificate_credential_file(options, TENANT, CERT_CLIENT,
                                                                    "core/tests/certs/missing.pem"),
               USED_INSIGHT_STATUS_OK, NULL);
  err = client_new_refused(options);
  CHECK(contains(used_insight_error_message(err), "`core/tests/certs/missing.pem`"));
  used_insight_error_free(err);

  /* An authority host is for a credential that asks Entra ID itself. */
  options = entra_options();
  CHECK_STATUS(used_insight_options_set_token(options, "T"), USED_INSIGHT_STATUS_OK, NULL);
  err = client_new_refused(options);
  CHECK(contains(used_insight_error_message(err), "authority host"));
  used_insight_error_free(err);

  /* Nothing in the environment describes an app. */
  options = used_insight_options_new();
  CHECK_STATUS(used_insight_options_set_environment_credential(options), USED_INSIGHT_STATUS_OK,
               NULL);
  err = client_new_refused(options);
  CHECK(contains(used_insight_error_message(err), "AZURE_TENANT_ID"));
  used_insight_error_free(err);

  /* No request was made. */
  {
    char *requests = emulator_requests();
    CHECK(count(requests, "\"path\":") == 0);
    free(requests);
  }
}

static void test_entra_accessors_are_null_for_other_errors(void) {
  used_insight_options *options = used_insight_options_new();
  used_insight_error *err = client_new_refused(options); /* no token at all */
  CHECK(used_insight_error_credential(err) == NULL);
  CHECK(used_insight_error_aadsts_code(err) == NULL);
  CHECK(used_insight_error_entra_error(err) == NULL);
  CHECK(used_insight_error_entra_error_description(err) == NULL);
  CHECK(used_insight_error_correlation_id(err) == NULL);
  CHECK(used_insight_error_trace_id(err) == NULL);
  CHECK(used_insight_error_token_endpoint_status(err) == 0);
  used_insight_error_free(err);
  CHECK(used_insight_error_aadsts_code(NULL) == NULL);
  CHECK(used_insight_error_token_endpoint_status(NULL) == 0);
}

/* -------------------------------------------------------------------- main */

/* One create on the shared client, from a thread; NULL when it worked. */
static void *create_from_a_thread(void *client) {
  used_insight_fields fields = valid_fields();
  used_insight_result *result = NULL;
  used_insight_error *err = NULL;
  used_insight_status status = used_insight_create_fields((const used_insight_client *)client,
                                                          "alice@contoso.com", &fields, &result,
                                                          &err);
  used_insight_result_free(result);
  used_insight_error_free(err);
  return status == USED_INSIGHT_STATUS_OK ? NULL : client;
}

static void test_eight_threads_on_a_fresh_client_make_one_token_request(void) {
  used_insight_options *options = entra_options();
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  pthread_t threads[8];
  size_t i, started = 0;
  char *requests;
  CHECK_STATUS(used_insight_options_set_client_secret_credential(options, TENANT, SECRET_CLIENT,
                                                                 SECRET),
               USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_client_new(options, &client, &err), USED_INSIGHT_STATUS_OK, err);
  used_insight_error_free(err);
  used_insight_options_free(options);
  for (i = 0; client != NULL && i < 8; i++) {
    if (pthread_create(&threads[i], NULL, create_from_a_thread, client) == 0) {
      started++;
    }
  }
  CHECK(started == 8);
  for (i = 0; i < started; i++) {
    void *failed = NULL;
    pthread_join(threads[i], &failed);
    CHECK(failed == NULL);
  }
  used_insight_client_free(client);
  requests = emulator_requests();
  /* However many threads ask at once, one renewal. */
  CHECK(count(requests, TOKEN_REQUEST) == 1);
  CHECK(count(requests, GRAPH_REQUEST) == 8);
  free(requests);
}

static void sleep_ms(long ms) {
  struct timespec wait;
  wait.tv_sec = ms / 1000;
  wait.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&wait, NULL);
}

static void test_a_token_near_its_expiry_is_renewed_before_graph_would_refuse_it(void) {
  used_insight_options *options = entra_options();
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  int i;
  char *requests;
  /* Tokens live 2 s: the client renews once fewer than 1 s (half) remain.
   * Graph here accepts only unexpired tokens the emulator issued, and the
   * client may not retry: a stale token would fail a create. */
  CHECK(http("POST", "/_emulator/entra/config", "{\"token_lifetime_secs\":2}", NULL) == 200);
  CHECK_STATUS(used_insight_options_set_client_secret_credential(options, TENANT, SECRET_CLIENT,
                                                                 SECRET),
               USED_INSIGHT_STATUS_OK, NULL);
  CHECK_STATUS(used_insight_client_new(options, &client, &err), USED_INSIGHT_STATUS_OK, err);
  used_insight_error_free(err);
  err = NULL;
  used_insight_options_free(options);
  for (i = 0; client != NULL && i < 4; i++) {
    used_insight_fields fields = valid_fields();
    used_insight_result *result = NULL;
    CHECK_STATUS(used_insight_create_fields(client, "alice@contoso.com", &fields, &result, &err),
                 USED_INSIGHT_STATUS_OK, err);
    used_insight_result_free(result);
    used_insight_error_free(err);
    err = NULL;
    sleep_ms(700);
  }
  used_insight_client_free(client);
  requests = emulator_requests();
  /* Creates at about 0, 0.7, 1.4 and 2.1 s: the first token expires at
   * 2 s, so the last create works only if the client renewed it before
   * (at 1.4 s, with 0.6 s left). One request per create: no 401 and no
   * retry; at least two token requests (more on a slow machine). */
  CHECK(count(requests, GRAPH_REQUEST) == 4);
  CHECK(count(requests, TOKEN_REQUEST) >= 2);
  free(requests);
}

static const test_case TESTS[] = {
    TEST(test_client_secret_three_creates_one_token_request),
    TEST(test_certificate_from_a_pem_file),
    TEST(test_certificate_from_pem_text),
    TEST(test_workload_identity_from_arguments_and_from_the_environment),
    TEST(test_managed_identity_from_identity_endpoint_and_header),
    TEST(test_environment_and_default_credentials_read_the_azure_variables),
    TEST(test_wrong_secret_is_entras_refusal_and_nothing_reaches_graph),
    TEST(test_an_assertion_signed_by_another_key_is_refused),
    TEST(test_unusable_credentials_are_refused_by_client_new),
    TEST(test_entra_accessors_are_null_for_other_errors),
    TEST(test_eight_threads_on_a_fresh_client_make_one_token_request),
    TEST(test_a_token_near_its_expiry_is_renewed_before_graph_would_refuse_it),
};

static const char *const AZURE_VARIABLES[] = {
    "AZURE_TENANT_ID",        "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",   "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",        "IDENTITY_SERVER_THUMBPRINT",
};

int main(int argc, char **argv) {
  char metadata[64];
  size_t i;
  int port;

  entra_url = getenv("USED_INSIGHT_TEST_ENTRA_URL");
  entra_port = emulator_port_of(entra_url);
  if (entra_port == 0) {
    fprintf(stderr, "set USED_INSIGHT_TEST_ENTRA_URL=http://127.0.0.1:PORT (a graph-emulator\n"
                    "playing Entra ID, see the top of this file)\n");
    return 2;
  }
  /* Nothing but the emulator: no credential from the caller's environment,
   * and never the real metadata address. */
  for (i = 0; i < sizeof AZURE_VARIABLES / sizeof AZURE_VARIABLES[0]; i++) {
    unsetenv(AZURE_VARIABLES[i]);
  }
  port = closed_port();
  if (port == 0) {
    fprintf(stderr, "no free loopback port\n");
    return 2;
  }
  snprintf(metadata, sizeof metadata, "http://127.0.0.1:%d", port);
  setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", metadata, 1);

  return run_tests(TESTS, sizeof TESTS / sizeof TESTS[0], argc, argv, emulator_reset);
}
