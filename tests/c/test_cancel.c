/* Cancelling calls with a used_insight_cancel_token cancelled from a signal
 * handler, as a program stopping on Ctrl+C does: during a slow answer,
 * during a Retry-After wait and during used_insight_create_many. Each call
 * must return soon after the signal with USED_INSIGHT_STATUS_CANCELLED,
 * say truthfully whether its request may have been processed, and send
 * nothing more. Prints the delay from the handler's cancel to the return.
 *
 *   USED_INSIGHT_TEST_URL=http://127.0.0.1:PORT USED_INSIGHT_TEST_TOKEN=T ./test_cancel
 *
 * USED_INSIGHT_TEST_PROMPT_MS bounds that delay (default 250; scripts/test-c.sh
 * gives more under valgrind, which slows everything down). Run by
 * scripts/test-c.sh natively and under valgrind. Exits 0 when every check
 * passed. Standalone (not in test_used_insight.c) because it installs a
 * process-wide SIGINT handler. */
#define _POSIX_C_SOURCE 200112L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <used_insight.h>

#include "test_support.h"

/* Failures of the whole run (this file's checks are not per named test). */
static int failures = 0;

#define EXPECT(cond)                                                              \
  do {                                                                            \
    if (!(cond)) {                                                                \
      fprintf(stderr, "  %s:%d: EXPECT(%s) failed\n", __FILE__, __LINE__, #cond); \
      failures++;                                                                 \
    }                                                                             \
  } while (0)

/* ---------------------------------------------------- the signal handler */

/* What the handler cancels, and when it did (both set before the handler
 * runs, read after the call returned). */
static used_insight_cancel_token *volatile to_cancel = NULL;
static struct timespec cancelled_at;
static volatile sig_atomic_t signalled = 0;

/* Only async-signal-safe calls: used_insight_cancel_token_cancel (one
 * atomic store) and clock_gettime. */
static void on_sigint(int signo) {
  (void)signo;
  clock_gettime(CLOCK_MONOTONIC, &cancelled_at);
  used_insight_cancel_token_cancel(to_cancel);
  signalled = 1;
}

static double ms_since(const struct timespec *then) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - then->tv_sec) * 1e3 + (double)(now.tv_nsec - then->tv_nsec) / 1e6;
}

/* A thread that, after its delay, sends SIGINT to the whole process, as a
 * terminal's Ctrl+C does; it blocks SIGINT itself, so the handler runs on
 * another thread (the one blocked in the library, or another). */
static void *send_sigint(void *delay_ms) {
  struct timespec wait;
  sigset_t mask;
  long ms = (long)(intptr_t)delay_ms;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, NULL);
  wait.tv_sec = ms / 1000;
  wait.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&wait, NULL);
  kill(getpid(), SIGINT);
  return NULL;
}

static pthread_t sigint_after(long ms) {
  pthread_t thread;
  signalled = 0;
  if (pthread_create(&thread, NULL, send_sigint, (void *)(intptr_t)ms) != 0) {
    perror("pthread_create");
    exit(1);
  }
  return thread;
}

static double prompt_ms = 250;

/* Joins the signalling thread and checks the delay from the cancel. */
static void check_prompt(pthread_t thread, const char *what) {
  double delay;
  pthread_join(thread, NULL);
  EXPECT(signalled);
  delay = ms_since(&cancelled_at);
  printf("cancel: %s returned %.1f ms after the SIGINT handler cancelled\n", what, delay);
  if (delay >= prompt_ms) {
    fprintf(stderr, "  %s: %.1f ms, more than %.0f ms\n", what, delay, prompt_ms);
    failures++;
  }
}

/* ------------------------------------------------- the emulator's controls */

static const char *token;
static int emulator_port;

/* One request to the emulator's controls (see emulator_http). */
static int http(const char *method, const char *path, const char *body, char **body_out) {
  return emulator_http(emulator_port, NULL, method, path, body, body_out);
}

static void emulator(const char *method, const char *path, const char *body) {
  if (http(method, path, body, NULL) != 200) {
    fprintf(stderr, "  the emulator refused %s %s %s\n", method, path, body ? body : "");
    failures++;
  }
}

/* Requests the emulator received (control requests excluded). */
static size_t requests_received(void) {
  char *body = NULL;
  size_t n;
  if (http("GET", "/_emulator/requests", NULL, &body) != 200 || body == NULL) {
    failures++;
    free(body);
    return 0;
  }
  n = count(body, "\"method\":");
  free(body);
  return n;
}

/* After a call returned: nothing more arrives (a cancelled call starts no
 * request, and retries none). */
static void check_nothing_more_sent(size_t had) {
  struct timespec wait = {0, 300000000L};
  nanosleep(&wait, NULL);
  EXPECT(requests_received() == had);
}

/* ------------------------------------------------------------------ tests */

static const char *const INSIGHT =
    "{\"lastUsed\":{\"lastAccessedDateTime\":\"2026-11-28T10:00:00Z\"},"
    "\"resourceVisualization\":{\"title\":\"Quarterly report\",\"type\":\"Word\"},"
    "\"resourceReference\":{\"webUrl\":\"https://contoso.sharepoint.com/report.docx\"}}";

static void test_the_token_and_null(void) {
  used_insight_cancel_token *cancel = used_insight_cancel_token_new();
  used_insight_batch_options *options = used_insight_batch_options_new();
  EXPECT(cancel != NULL && options != NULL);
  EXPECT(!used_insight_cancel_token_is_cancelled(cancel));
  used_insight_cancel_token_cancel(cancel);
  EXPECT(used_insight_cancel_token_is_cancelled(cancel));
  used_insight_cancel_token_cancel(NULL);
  EXPECT(!used_insight_cancel_token_is_cancelled(NULL));
  EXPECT(used_insight_batch_options_set_cancel(NULL, cancel) ==
        USED_INSIGHT_STATUS_NULL_PARAMETER);
  /* The options keep their own reference: the token may be freed first. */
  EXPECT(used_insight_batch_options_set_cancel(options, cancel) == USED_INSIGHT_STATUS_OK);
  used_insight_cancel_token_free(cancel);
  EXPECT(used_insight_batch_options_set_cancel(options, NULL) == USED_INSIGHT_STATUS_OK);
  used_insight_batch_options_free(options);
  used_insight_cancel_token_free(NULL);
  EXPECT(strcmp(used_insight_status_name(USED_INSIGHT_STATUS_CANCELLED),
               "USED_INSIGHT_STATUS_CANCELLED") == 0);
}

static void test_a_cancelled_token_sends_nothing(used_insight_client *client) {
  used_insight_cancel_token *cancel = used_insight_cancel_token_new();
  char *out = NULL;
  used_insight_error *err = NULL;
  used_insight_status status;
  emulator("POST", "/_emulator/reset", "{}");
  used_insight_cancel_token_cancel(cancel);
  status = used_insight_create_cancellable(client, "alice", INSIGHT, cancel, &out, &err);
  EXPECT(status == USED_INSIGHT_STATUS_CANCELLED);
  EXPECT(out == NULL);
  EXPECT(!used_insight_error_request_may_have_been_processed(err));
  used_insight_error_free(err);
  err = NULL;
  /* NULL is no token: an ordinary create. */
  status = used_insight_create_cancellable(client, "alice", INSIGHT, NULL, &out, &err);
  EXPECT(status == USED_INSIGHT_STATUS_OK);
  EXPECT(requests_received() == 1);
  used_insight_string_free(out);
  used_insight_error_free(err);
  used_insight_cancel_token_free(cancel);
}

static void test_sigint_during_a_slow_answer(used_insight_client *client) {
  used_insight_cancel_token *cancel = used_insight_cancel_token_new();
  char *out = NULL;
  used_insight_error *err = NULL;
  used_insight_status status;
  pthread_t thread;
  emulator("POST", "/_emulator/reset", "{}");
  emulator("POST", "/_emulator/faults", "{\"method\":\"POST\",\"delay_ms\":5000}");
  to_cancel = cancel;
  thread = sigint_after(300);
  status = used_insight_create_cancellable(client, "alice", INSIGHT, cancel, &out, &err);
  check_prompt(thread, "a create waiting for a slow answer");
  EXPECT(status == USED_INSIGHT_STATUS_CANCELLED);
  EXPECT(out == NULL);
  /* Sent, its answer abandoned: it may have been created. */
  EXPECT(used_insight_error_request_may_have_been_processed(err));
  EXPECT(strstr(used_insight_error_message(err), "cancelled while waiting for the answer") != NULL);
  EXPECT(used_insight_error_client_request_id(err) != NULL);
  check_nothing_more_sent(1);
  used_insight_error_free(err);
  used_insight_cancel_token_free(cancel);
  to_cancel = NULL;
}

static void test_sigint_during_a_retry_after_wait(used_insight_client *client) {
  used_insight_cancel_token *cancel = used_insight_cancel_token_new();
  used_insight_fields fields = USED_INSIGHT_FIELDS_INIT;
  used_insight_result *result = NULL;
  used_insight_error *err = NULL;
  used_insight_status status;
  pthread_t thread;
  fields.title = "Quarterly report";
  fields.type = "Word";
  fields.web_url = "https://contoso.sharepoint.com/report.docx";
  fields.last_accessed = "2026-11-28T10:00:00Z";
  emulator("POST", "/_emulator/reset", "{}");
  emulator("POST", "/_emulator/faults",
           "{\"method\":\"POST\",\"status\":429,\"retry_after\":\"10\"}");
  to_cancel = cancel;
  thread = sigint_after(300);
  status =
      used_insight_create_fields_cancellable(client, "alice", &fields, cancel, &result, &err);
  check_prompt(thread, "a create waiting out Retry-After: 10");
  EXPECT(status == USED_INSIGHT_STATUS_CANCELLED);
  EXPECT(result == NULL);
  /* Graph refused the one request it got: nothing was created. */
  EXPECT(!used_insight_error_request_may_have_been_processed(err));
  check_nothing_more_sent(1);
  used_insight_error_free(err);
  used_insight_cancel_token_free(cancel);
  to_cancel = NULL;
}

/* Batches hold as many items as the client's rate limit lets fly at once
 * (4 with Graph's, the default), so the batch size is read from the results. */
enum { ITEMS = 40 };

static void test_sigint_during_create_many(used_insight_client *client) {
  used_insight_cancel_token *cancel = used_insight_cancel_token_new();
  used_insight_batch_options *options = used_insight_batch_options_new();
  used_insight_batch_item items[ITEMS];
  used_insight_batch_results *results = NULL;
  used_insight_error *err = NULL;
  used_insight_status status;
  size_t created = 0, uncertain = 0, not_sent = 0, received, i;
  pthread_t thread;
  for (i = 0; i < ITEMS; i++) {
    used_insight_batch_item item = USED_INSIGHT_BATCH_ITEM_INIT;
    item.user_id = "alice";
    item.insight_json = INSIGHT;
    items[i] = item;
  }
  emulator("POST", "/_emulator/reset", "{}");
  /* Every batch takes 400 ms, one at a time. */
  emulator("POST", "/_emulator/faults", "{\"path_contains\":\"$batch\",\"delay_ms\":400,\"times\":100}");
  EXPECT(used_insight_batch_options_set_cancel(options, cancel) == USED_INSIGHT_STATUS_OK);
  to_cancel = cancel;
  thread = sigint_after(1000);
  status = used_insight_create_many(client, items, ITEMS, options, &results, &err);
  check_prompt(thread, "create_many of batches of 400 ms each");
  received = requests_received();
  EXPECT(status == USED_INSIGHT_STATUS_OK);
  EXPECT(used_insight_batch_results_count(results) == ITEMS);
  for (i = 0; i < ITEMS; i++) {
    used_insight_status item = used_insight_batch_results_status(results, i);
    const used_insight_error *e = used_insight_batch_results_error(results, i);
    if (item == USED_INSIGHT_STATUS_OK) {
      created++;
    } else if (item == USED_INSIGHT_STATUS_CANCELLED &&
               used_insight_error_request_may_have_been_processed(e)) {
      uncertain++;
    } else if (item == USED_INSIGHT_STATUS_CANCELLED) {
      not_sent++;
    } else {
      fprintf(stderr, "  item %lu: %s\n", (unsigned long)i, used_insight_error_message(e));
      failures++;
    }
  }
  printf("cancel: create_many: %lu created, %lu may have been processed, %lu not sent; "
         "%lu batches received\n",
         (unsigned long)created, (unsigned long)uncertain, (unsigned long)not_sent,
         (unsigned long)received);
  EXPECT(created + uncertain + not_sent == ITEMS);
  EXPECT(created == used_insight_batch_results_created_count(results));
  EXPECT(not_sent > 0);
  /* The emulator got exactly the batches answered and the one in flight
   * (if one was: valgrind may be between two at the signal), all whole. */
  EXPECT(received > 0 && (created + uncertain) % received == 0);
  EXPECT(received > 0 && (uncertain == 0 || uncertain == (created + uncertain) / received));
  check_nothing_more_sent(received);
  used_insight_batch_results_free(results);
  used_insight_error_free(err);
  used_insight_batch_options_free(options);
  used_insight_cancel_token_free(cancel);
  to_cancel = NULL;
}

static const char *url;

/* A client of its own for each test: a 429's Retry-After pauses the whole
 * client it came to (Graph's limits), which would hold the next test back. */
static used_insight_client *new_client(void) {
  used_insight_options *options = used_insight_options_new();
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  used_insight_options_set_base_url(options, url);
  used_insight_options_set_token(options, token);
  used_insight_options_set_timeout_ms(options, 30000);
  if (used_insight_client_new(options, &client, &err) != USED_INSIGHT_STATUS_OK) {
    fprintf(stderr, "client: %s\n", used_insight_error_message(err));
    exit(1);
  }
  used_insight_options_free(options);
  return client;
}

/* Runs a test on a client of its own. */
static void run(void (*test)(used_insight_client *)) {
  used_insight_client *client = new_client();
  test(client);
  used_insight_client_free(client);
}

int main(void) {
  const char *prompt = getenv("USED_INSIGHT_TEST_PROMPT_MS");
  struct sigaction action;

  url = getenv("USED_INSIGHT_TEST_URL");
  token = getenv("USED_INSIGHT_TEST_TOKEN");
  emulator_port = emulator_port_of(url);
  if (token == NULL || emulator_port == 0) {
    fprintf(stderr, "set USED_INSIGHT_TEST_URL=http://127.0.0.1:PORT and USED_INSIGHT_TEST_TOKEN\n");
    return 2;
  }
  if (prompt != NULL) {
    prompt_ms = atof(prompt);
  }
  memset(&action, 0, sizeof action);
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0; /* no SA_RESTART: a blocked read returns EINTR */
  sigaction(SIGINT, &action, NULL);

  test_the_token_and_null();
  run(test_a_cancelled_token_sends_nothing);
  run(test_sigint_during_a_slow_answer);
  run(test_sigint_during_a_retry_after_wait);
  run(test_sigint_during_create_many);

  printf("cancel: %s\n", failures == 0 ? "all passed" : "FAILED");
  return failures == 0 ? 0 : 1;
}
