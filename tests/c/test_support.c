/* What the C tests share: see test_support.h. */
#define _POSIX_C_SOURCE 200112L

#include "test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------- the emulator's controls */

int emulator_port_of(const char *url) {
  int port = 0;
  if (url == NULL || sscanf(url, "http://127.0.0.1:%d", &port) != 1 || port <= 0 ||
      port > 65535) {
    return 0;
  }
  return port;
}

/* The whole answer, until the emulator closes the connection (HTTP/1.0);
 * NUL-terminated, malloc'd, or NULL if memory ran out. */
static char *read_all(int fd) {
  char *reply = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    ssize_t n;
    if (cap - len < 65536) {
      /* Room to grow quickly: a chaos run reads back megabytes. */
      char *grown;
      cap = cap * 2 + 65536;
      grown = (char *)realloc(reply, cap);
      if (grown == NULL) {
        free(reply);
        return NULL;
      }
      reply = grown;
    }
    n = read(fd, reply + len, cap - len - 1);
    if (n <= 0) {
      break;
    }
    len += (size_t)n;
  }
  reply[len] = '\0';
  return reply;
}

int emulator_http(int port, const char *bearer, const char *method, const char *path,
                  const char *body, char **body_out) {
  struct sockaddr_in addr;
  char head[1024];
  char authorization[512] = "";
  char *reply, *split;
  int fd, status = -1;
  const char *payload = body ? body : "";

  if (body_out != NULL) {
    *body_out = NULL;
  }
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  if (bearer != NULL) {
    snprintf(authorization, sizeof authorization, "Authorization: Bearer %s\r\n", bearer);
  }
  snprintf(head, sizeof head,
           "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%sContent-Type: application/json\r\n"
           "Content-Length: %lu\r\n\r\n",
           method, path, authorization, (unsigned long)strlen(payload));
  if (write(fd, head, strlen(head)) < 0 || write(fd, payload, strlen(payload)) < 0) {
    close(fd);
    return -1;
  }
  reply = read_all(fd);
  close(fd);
  if (reply == NULL) {
    return -1;
  }
  if (sscanf(reply, "HTTP/1.%*d %d", &status) != 1) {
    status = -1;
  }
  split = strstr(reply, "\r\n\r\n");
  if (body_out != NULL && split != NULL) {
    size_t body_len = strlen(split + 4);
    *body_out = (char *)malloc(body_len + 1);
    if (*body_out != NULL) {
      memcpy(*body_out, split + 4, body_len + 1);
    }
  }
  free(reply);
  return status;
}

int closed_port(void) {
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  int port = 0;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return 0;
  }
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
      getsockname(fd, (struct sockaddr *)&addr, &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

/* ------------------------------------------------------------------- text */

int contains(const char *haystack, const char *needle) {
  return haystack != NULL && strstr(haystack, needle) != NULL;
}

size_t count(const char *haystack, const char *needle) {
  size_t n = 0;
  const char *p = haystack;
  while (p != NULL && (p = strstr(p, needle)) != NULL) {
    n++;
    p += strlen(needle);
  }
  return n;
}

/* ------------------------------------------------------- tests run by name */

const char *current_test = "";
int test_failed = 0;

void test_fail_at(const char *file, int line, const char *what) {
  fprintf(stderr, "  %s:%d: %s: %s\n", file, line, current_test, what);
  test_failed = 1;
}

void test_check_status_at(const char *file, int line, uint32_t got, uint32_t want,
                          const used_insight_error *err) {
  char what[1024];
  if (got == want) {
    return;
  }
  snprintf(what, sizeof what, "status %s, expected %s%s%s", used_insight_status_name(got),
           used_insight_status_name(want), err ? ": " : "",
           err ? used_insight_error_message(err) : "");
  test_fail_at(file, line, what);
}

void test_check_str_at(const char *file, int line, const char *got, const char *want) {
  char what[1024];
  if (got != NULL && strcmp(got, want) == 0) {
    return;
  }
  snprintf(what, sizeof what, "got \"%s\", expected \"%s\"", got ? got : "(NULL)", want);
  test_fail_at(file, line, what);
}

/* Whether a test is selected by the names given (all when none is). */
static int selected(const char *name, int argc, char **argv) {
  int i;
  if (argc < 2) {
    return 1;
  }
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], name) == 0) {
      return 1;
    }
  }
  return 0;
}

int run_tests(const test_case *tests, size_t n, int argc, char **argv, void (*before_each)(void)) {
  size_t i;
  int passed = 0, failed = 0;
  for (i = 0; i < n; i++) {
    if (!selected(tests[i].name, argc, argv)) {
      continue;
    }
    current_test = tests[i].name;
    test_failed = 0;
    if (before_each != NULL) {
      before_each();
    }
    tests[i].run();
    printf("%s %s\n", test_failed ? "FAIL" : "ok  ", tests[i].name);
    fflush(stdout);
    if (test_failed) {
      failed++;
    } else {
      passed++;
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
