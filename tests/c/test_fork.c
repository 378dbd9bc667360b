/* A client used before fork() keeps working in both processes at once:
 * the child starts with an empty connection pool of its own, so every
 * answer reaches the process that asked, and the parent's pooled
 * connection is left alone. Run by scripts/test-c.sh under valgrind (which
 * follows the child too) with USED_INSIGHT_TEST_URL and
 * USED_INSIGHT_TEST_TOKEN naming a running graph-emulator. Exits 0 when
 * every check passed. Standalone (not in test_used_insight.c) because it
 * forks the whole process. */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <used_insight.h>

enum { CREATES = 25 };

/* Creates CREATES insights titled "WHO-i"; each answer must carry the title
 * its own request sent. Returns the number of failures, printed. */
static int create_own(const used_insight_client *client, const char *who) {
  int failures = 0;
  int i;
  for (i = 0; i < CREATES; i++) {
    char title[64];
    char want[96];
    used_insight_fields fields = USED_INSIGHT_FIELDS_INIT;
    used_insight_result *result = NULL;
    used_insight_error *err = NULL;
    used_insight_status status;

    snprintf(title, sizeof title, "%s-%d", who, i);
    snprintf(want, sizeof want, "\"title\":\"%s\"", title);
    fields.title = title;
    fields.type = "Word";
    fields.web_url = "https://contoso.sharepoint.com/report.docx";
    fields.last_accessed = "2026-11-28T10:00:00Z";
    status = used_insight_create_fields(client, "alice@contoso.com", &fields, &result, &err);
    if (status != USED_INSIGHT_STATUS_OK) {
      fprintf(stderr, "%s (pid %ld): status %u: %s\n", title, (long)getpid(), (unsigned)status,
              used_insight_error_message(err));
      failures++;
    } else if (strstr(used_insight_result_json(result), want) == NULL) {
      fprintf(stderr, "%s (pid %ld): another create's answer: %s\n", title, (long)getpid(),
              used_insight_result_json(result));
      failures++;
    }
    used_insight_result_free(result);
    used_insight_error_free(err);
  }
  return failures;
}

int main(void) {
  const char *url = getenv("USED_INSIGHT_TEST_URL");
  const char *token = getenv("USED_INSIGHT_TEST_TOKEN");
  used_insight_options *options = used_insight_options_new();
  used_insight_client *client = NULL;
  used_insight_error *err = NULL;
  int failures = 0;
  int status = 0;
  pid_t child;

  if (url == NULL || token == NULL || options == NULL) {
    fprintf(stderr, "set USED_INSIGHT_TEST_URL and USED_INSIGHT_TEST_TOKEN\n");
    return 2;
  }
  used_insight_options_set_base_url(options, url);
  used_insight_options_set_token(options, token);
  if (used_insight_client_new(options, &client, &err) != USED_INSIGHT_STATUS_OK) {
    fprintf(stderr, "client: %s\n", used_insight_error_message(err));
    return 1;
  }
  used_insight_options_free(options);

  /* A pooled keep-alive connection exists before the fork. */
  failures += create_own(client, "before");
  fflush(NULL);
  child = fork();
  if (child < 0) {
    perror("fork");
    return 1;
  }
  if (child == 0) {
    failures += create_own(client, "child");
    used_insight_client_free(client);
    return failures == 0 ? 0 : 1;
  }
  failures += create_own(client, "parent");
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "the child failed (wait status %d)\n", status);
    failures++;
  }
  /* The parent's client still works once the child has gone. */
  failures += create_own(client, "after");
  used_insight_client_free(client);
  if (failures == 0) {
    printf("fork: %d creates in parent and child, each answer its own\n", 4 * CREATES);
  }
  return failures == 0 ? 0 : 1;
}
