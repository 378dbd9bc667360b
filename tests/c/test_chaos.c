/*
 * Chaos through the C API: THREADS threads x PER_THREAD creates on one
 * client (used_insight_create_fields), then the same through
 * used_insight_create_many, against a graph-emulator started with chaos
 * (--chaos, --chaos-lost, --chaos-slow...: Dev Proxy's random Graph errors
 * for POST, answers lost after the insight was stored, slow answers).
 *
 *   USED_INSIGHT_TEST_CHAOS_URL=http://127.0.0.1:PORT USED_INSIGHT_TEST_TOKEN=T \
 *     ./test_chaos [THREADS PER_THREAD TIMEOUT_MS]      (default 8 500 250)
 *
 * Whatever happens, every call ends in a success or a typed error, and what
 * the emulator stored is exactly the successes plus some of the creates
 * reported as "may have been processed": none stored twice, none that an
 * error called "not processed". The same test as core/tests/chaos.rs and
 * python/tests/test_chaos.py. With 1,000 creates or more per phase it also
 * checks that chaos struck every way (a small run under valgrind may not see
 * every kind). Prints a summary per phase; exits non-zero on any failure.
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

/* ------------------------------------------------------------------ checks */

/* Counted from the worker threads too, hence the lock. */
static int failures = 0;
static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(int line, const char *what, const char *detail) {
  pthread_mutex_lock(&failures_lock);
  if (failures < 20) {
    fprintf(stderr, "  %s:%d: %s%s%s\n", __FILE__, line, what, detail ? ": " : "",
            detail ? detail : "");
  }
  failures++;
  pthread_mutex_unlock(&failures_lock);
}

#define EXPECT(cond, detail)          \
  do {                                \
    if (!(cond)) {                    \
      fail(__LINE__, #cond, (detail)); \
    }                                 \
  } while (0)

/* --------------------------------------------------- the emulator's controls */

static const char *base_url;
static const char *token;
static int emulator_port;

/* One request to the emulator (see emulator_http), with the token: the
 * control endpoints ignore it, Graph's need it. */
static int http(const char *method, const char *path, char **body_out) {
  return emulator_http(emulator_port, token, method, path, NULL, body_out);
}

/* ---------------------------------------------------------------- outcomes */

/* Room for an id or a title (both far shorter). */
#define TEXT 128

typedef struct {
  uint32_t status;       /* USED_INSIGHT_STATUS_* */
  int may_have;          /* used_insight_error_request_may_have_been_processed */
  uint16_t http_status;  /* for GRAPH_API_ERROR */
  char id[TEXT];         /* for OK */
  int stored;            /* how often the emulator stored its title */
  char stored_id[TEXT];  /* the id it stored it under */
} outcome;

static size_t threads_n = 8, per_thread = 500;
static long timeout_ms = 250;
/* The first back-off wait for chaos's 503s and 504s, which carry no
 * Retry-After (as Dev Proxy's): 20 ms, as core/tests/chaos.rs, where the
 * default 1 s would make a run mostly waiting. */
#define RETRY_DELAY_MS 20
static used_insight_client *client;
static outcome *outcomes; /* threads_n x per_thread */
static char user_id[96];
static char phase_name[16];

static outcome *outcome_at(size_t thread, size_t index) {
  return &outcomes[thread * per_thread + index];
}

static void title_of(char *out, size_t size, size_t thread, size_t index) {
  snprintf(out, size, "chaos %s %lu %lu", phase_name, (unsigned long)thread, (unsigned long)index);
}

static used_insight_fields fields_titled(const char *title) {
  used_insight_fields fields = USED_INSIGHT_FIELDS_INIT;
  fields.title = title;
  fields.type = "Word";
  fields.web_url = "https://contoso.sharepoint.com/sites/finance/report.docx";
  fields.last_accessed = "2026-11-28T10:00:00Z";
  return fields;
}

/* Records how a call ended; an error must be one chaos causes. */
static void record(outcome *out, uint32_t status, const used_insight_error *err, const char *id) {
  char detail[512];
  out->status = status;
  if (status == USED_INSIGHT_STATUS_OK) {
    EXPECT(id != NULL && strlen(id) < sizeof out->id, "a created insight has an id");
    if (id != NULL) {
      snprintf(out->id, sizeof out->id, "%s", id);
    }
    return;
  }
  snprintf(detail, sizeof detail, "%s: %s", used_insight_status_name(status),
           err ? used_insight_error_message(err) : "(no error)");
  EXPECT(err != NULL, detail);
  if (err == NULL) {
    return;
  }
  out->may_have = used_insight_error_request_may_have_been_processed(err);
  switch (status) {
  case USED_INSIGHT_STATUS_GRAPH_API_ERROR:
    out->http_status = used_insight_error_http_status(err);
    /* Dev Proxy's statuses for POST, after the retries allowed. */
    EXPECT(out->http_status == 429 || out->http_status == 500 || out->http_status == 502 ||
              out->http_status == 503 || out->http_status == 504 || out->http_status == 507,
          detail);
    EXPECT(!out->may_have, detail);
    break;
  case USED_INSIGHT_STATUS_TRANSPORT:
    EXPECT((uint32_t)used_insight_error_transport_kind(err) ==
              (uint32_t)USED_INSIGHT_TRANSPORT_KIND_CONNECTION_LOST,
          detail);
    EXPECT(out->may_have, detail);
    break;
  case USED_INSIGHT_STATUS_TIMEOUT:
    /* Waiting for a slot (nothing sent) or for the answer: checked
     * against what was stored. */
    break;
  default:
    fail(__LINE__, "not an error chaos causes", detail);
  }
}

/* ------------------------------------------------------------------ phases */

static void *create_one_by_one(void *arg) {
  size_t thread = (size_t)(uintptr_t)arg, i;
  for (i = 0; i < per_thread; i++) {
    char title[64];
    used_insight_fields fields;
    used_insight_result *result = NULL;
    used_insight_error *err = NULL;
    uint32_t status;
    title_of(title, sizeof title, thread, i);
    fields = fields_titled(title);
    status = (uint32_t)used_insight_create_fields(client, user_id, &fields, &result, &err);
    record(outcome_at(thread, i), status, err, result ? used_insight_result_id(result) : NULL);
    used_insight_result_free(result);
    used_insight_error_free(err);
  }
  return NULL;
}

static void *create_many_at_once(void *arg) {
  size_t thread = (size_t)(uintptr_t)arg, i;
  used_insight_batch_item *items =
      (used_insight_batch_item *)calloc(per_thread, sizeof(used_insight_batch_item));
  used_insight_fields *fields = (used_insight_fields *)calloc(per_thread, sizeof(used_insight_fields));
  char(*titles)[64] = (char(*)[64])calloc(per_thread, 64);
  used_insight_batch_results *results = NULL;
  used_insight_error *err = NULL;
  uint32_t status;

  if (items == NULL || fields == NULL || titles == NULL) {
    fail(__LINE__, "out of memory", NULL);
    free(items);
    free(fields);
    free(titles);
    return NULL;
  }
  for (i = 0; i < per_thread; i++) {
    used_insight_batch_item init = USED_INSIGHT_BATCH_ITEM_INIT;
    title_of(titles[i], 64, thread, i);
    fields[i] = fields_titled(titles[i]);
    items[i] = init;
    items[i].user_id = user_id;
    items[i].fields = &fields[i];
  }
  status = (uint32_t)used_insight_create_many(client, items, per_thread, NULL, &results, &err);
  EXPECT(status == USED_INSIGHT_STATUS_OK, err ? used_insight_error_message(err) : NULL);
  if (status == USED_INSIGHT_STATUS_OK) {
    EXPECT(used_insight_batch_results_count(results) == per_thread, "one result per item");
    for (i = 0; i < per_thread; i++) {
      record(outcome_at(thread, i), (uint32_t)used_insight_batch_results_status(results, i),
             used_insight_batch_results_error(results, i), used_insight_batch_results_id(results, i));
    }
  }
  used_insight_batch_results_free(results);
  used_insight_error_free(err);
  free(items);
  free(fields);
  free(titles);
  return NULL;
}

/* ------------------------------------------------------------ what was stored */

/* The next JSON string at *p (which points at its opening quote), copied
 * into out (truncated to size); *p moves past it. */
static void read_string(const char **p, char *out, size_t size) {
  size_t n = 0;
  const char *s = *p + 1;
  while (*s != '\0' && *s != '"') {
    if (*s == '\\' && s[1] != '\0') {
      s++;
    }
    if (n + 1 < size) {
      out[n++] = *s;
    }
    s++;
  }
  out[n] = '\0';
  *p = *s == '"' ? s + 1 : s;
}

/* Reads the emulator's answer to GET .../insights/used — {"value": [insight,
 * ...]} — and counts each stored title, noting its id: the top-level "id"
 * (depth 3: the answer, the array, the insight) and resourceVisualization's
 * "title" (depth 4). Returns the number of insights read. */
static size_t read_stored(const char *json) {
  const char *p = json;
  int depth = 0;
  size_t insights = 0;
  char key[TEXT] = "", id[TEXT] = "", title[TEXT] = "";
  while (*p != '\0') {
    if (*p == '"') {
      char text[TEXT];
      const char *after;
      read_string(&p, text, sizeof text);
      after = p;
      while (*after == ' ') {
        after++;
      }
      if (*after == ':') {
        memcpy(key, text, sizeof text);
      } else if (depth == 3 && strcmp(key, "id") == 0) {
        memcpy(id, text, sizeof text);
      } else if (depth == 4 && strcmp(key, "title") == 0) {
        memcpy(title, text, sizeof text);
      }
      continue;
    }
    if (*p == '{' || *p == '[') {
      depth++;
    } else if (*p == '}' || *p == ']') {
      if (depth == 3 && *p == '}') {
        unsigned long thread, index;
        char phase[16];
        insights++;
        if (sscanf(title, "chaos %15s %lu %lu", phase, &thread, &index) == 3 &&
            strcmp(phase, phase_name) == 0 && thread < threads_n && index < per_thread) {
          outcome *o = outcome_at(thread, index);
          o->stored++;
          memcpy(o->stored_id, id, sizeof id);
        } else {
          fail(__LINE__, "an insight stored that was never created", title);
        }
        id[0] = title[0] = '\0';
      }
      depth--;
    }
    p++;
  }
  return insights;
}

/* The stored insights of this phase's user, once the emulator has stored
 * all it will (a request may still be arriving when its client gave up):
 * read again until two readings 250 ms apart hold as many. */
static void check_stored(void) {
  char path[256];
  char *body = NULL;
  size_t stored = (size_t)-1, i;
  snprintf(path, sizeof path, "/v1.0/users/%s/insights/used", user_id);
  for (i = 0; i < 40; i++) {
    struct timespec pause = {0, 250 * 1000 * 1000};
    size_t now;
    free(body);
    EXPECT(http("GET", path, &body) == 200 && body != NULL, "read back what was stored");
    now = count(body, "\"resourceVisualization\"");
    if (now == stored) {
      break;
    }
    stored = now;
    nanosleep(&pause, NULL);
  }
  if (body != NULL) {
    EXPECT(read_stored(body) == stored, "every stored insight read");
  }
  free(body);
}

/* ------------------------------------------------------------------ checks */

static void check_phase(void) {
  size_t total = threads_n * per_thread, i;
  size_t created = 0, not_processed = 0, maybe = 0, maybe_stored = 0, timeouts = 0, graph = 0,
         lost = 0;
  char detail[256];
  char *report = NULL;
  check_stored();
  for (i = 0; i < total; i++) {
    const outcome *o = &outcomes[i];
    snprintf(detail, sizeof detail, "create %lu (%s): stored %d times",
             (unsigned long)i, used_insight_status_name(o->status), o->stored);
    EXPECT(o->stored <= 1, detail);
    if (o->status == USED_INSIGHT_STATUS_OK) {
      created++;
      EXPECT(o->stored == 1 && strcmp(o->id, o->stored_id) == 0, detail);
    } else if (!o->may_have) {
      not_processed++;
      EXPECT(o->stored == 0, detail);
    } else {
      maybe++;
      maybe_stored += (size_t)o->stored;
    }
    timeouts += o->status == USED_INSIGHT_STATUS_TIMEOUT;
    graph += o->status == USED_INSIGHT_STATUS_GRAPH_API_ERROR;
    lost += o->status == USED_INSIGHT_STATUS_TRANSPORT;
  }
  http("GET", "/_emulator/chaos", &report);
  printf("%s: %lu created, %lu failed unprocessed, %lu may have been processed (%lu of them "
         "stored); %lu Graph errors, %lu answers lost, %lu timeouts\n  chaos: %s\n",
         phase_name, (unsigned long)created, (unsigned long)not_processed, (unsigned long)maybe,
         (unsigned long)maybe_stored, (unsigned long)graph, (unsigned long)lost,
         (unsigned long)timeouts, report ? report : "(no report)");
  free(report);
  if (total >= 1000) {
    EXPECT(created > total / 2, "most creates succeed");
    EXPECT(not_processed > 0 && maybe > 0 && maybe_stored > 0, "chaos struck every way");
  }
}

static void run_phase(const char *name, void *(*work)(void *)) {
  pthread_t *threads = (pthread_t *)calloc(threads_n, sizeof(pthread_t));
  size_t t;
  snprintf(phase_name, sizeof phase_name, "%s", name);
  snprintf(user_id, sizeof user_id, "chaos-c-%ld-%s@contoso.com", (long)getpid(), name);
  /* Chaos's counts start afresh (its settings stay). */
  {
    char *body = NULL;
    EXPECT(http("POST", "/_emulator/reset", &body) == 200, "reset the emulator");
    free(body);
  }
  memset(outcomes, 0, threads_n * per_thread * sizeof(outcome));
  for (t = 0; t < threads_n; t++) {
    EXPECT(pthread_create(&threads[t], NULL, work, (void *)(uintptr_t)t) == 0, "a thread starts");
  }
  for (t = 0; t < threads_n; t++) {
    pthread_join(threads[t], NULL);
  }
  free(threads);
  check_phase();
}

int main(int argc, char **argv) {
  used_insight_options *options;
  used_insight_error *err = NULL;

  base_url = getenv("USED_INSIGHT_TEST_CHAOS_URL");
  token = getenv("USED_INSIGHT_TEST_TOKEN");
  emulator_port = emulator_port_of(base_url);
  if (token == NULL || emulator_port == 0) {
    fprintf(stderr, "set USED_INSIGHT_TEST_CHAOS_URL=http://127.0.0.1:PORT (a graph-emulator "
                    "started with --token T and --chaos...) and USED_INSIGHT_TEST_TOKEN=T\n");
    return 2;
  }
  if (argc == 4) {
    threads_n = (size_t)strtoul(argv[1], NULL, 10);
    per_thread = (size_t)strtoul(argv[2], NULL, 10);
    timeout_ms = strtol(argv[3], NULL, 10);
  }
  if (threads_n == 0 || per_thread == 0 || timeout_ms <= 0) {
    fprintf(stderr, "usage: test_chaos [THREADS PER_THREAD TIMEOUT_MS]\n");
    return 2;
  }
  outcomes = (outcome *)calloc(threads_n * per_thread, sizeof(outcome));
  options = used_insight_options_new();
  if (outcomes == NULL || options == NULL ||
      used_insight_options_set_base_url(options, base_url) != USED_INSIGHT_STATUS_OK ||
      used_insight_options_set_token(options, token) != USED_INSIGHT_STATUS_OK ||
      used_insight_options_set_timeout_ms(options, (uint64_t)timeout_ms) != USED_INSIGHT_STATUS_OK ||
      used_insight_options_set_retry_delay_ms(options, RETRY_DELAY_MS) != USED_INSIGHT_STATUS_OK ||
      used_insight_client_new(options, &client, &err) != USED_INSIGHT_STATUS_OK) {
    fprintf(stderr, "could not build the client: %s\n", err ? used_insight_error_message(err) : "");
    used_insight_error_free(err);
    used_insight_options_free(options);
    free(outcomes);
    return 1;
  }
  used_insight_options_free(options);
  printf("chaos: %lu threads x %lu creates, timeout %ld ms, retry delay %d ms\n",
         (unsigned long)threads_n, (unsigned long)per_thread, timeout_ms, RETRY_DELAY_MS);

  run_phase("single", create_one_by_one);
  run_phase("many", create_many_at_once);

  used_insight_client_free(client);
  free(outcomes);
  if (failures > 0) {
    printf("chaos: %d checks failed\n", failures);
    return 1;
  }
  printf("chaos: every create succeeded or failed truthfully\n");
  return 0;
}
