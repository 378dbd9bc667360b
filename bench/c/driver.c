/*
 * The C layer's contestant: used_insight_create in a loop on one client,
 * linked against libused_insight.so. Prints one JSON line like the Rust
 * and Python drivers: creates, wall and process CPU time around the loop
 * only (client construction and the first connection are outside it).
 *
 *   driver loop  [--ca CA_FILE] BASE_URL TOKEN USER_ID INSIGHT_FILE SECONDS [MAX_CREATES]
 *   driver first [--ca CA_FILE] BASE_URL TOKEN USER_ID INSIGHT_FILE  (one create, fresh process)
 *
 * --ca: for an https:// BASE_URL, a PEM file of the CA that signed the
 * server's certificate, added with used_insight_options_add_root_certificates_file.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "used_insight.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Peak RSS of this program (VmHWM): getrusage's ru_maxrss carries over the
 * peak of the process that forked us. */
static long peak_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    if (f) fclose(f);
    return kib;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

static int create_one(const used_insight_client *client, const char *user, const char *json) {
    char *out = NULL;
    used_insight_error *err = NULL;
    used_insight_status st = used_insight_create(client, user, json, &out, &err);
    if (st != USED_INSIGHT_STATUS_OK) {
        fprintf(stderr, "driver: %s: %s\n", used_insight_status_name(st),
                used_insight_error_message(err));
        used_insight_error_free(err);
        return -1;
    }
    used_insight_string_free(out);
    return 0;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    const char *ca = NULL;
    int first_arg = 2;
    if (argc > 3 && strcmp(argv[2], "--ca") == 0) {
        ca = argv[3];
        first_arg = 4;
    }
    /* a[0] BASE_URL, a[1] TOKEN, a[2] USER_ID, a[3] INSIGHT_FILE, a[4] SECONDS, a[5] MAX */
    char **a = argv + first_arg;
    int n = argc - first_arg;
    if (n < 4 || (strcmp(mode, "loop") != 0 && strcmp(mode, "first") != 0) ||
        (strcmp(mode, "loop") == 0 && n < 5)) {
        fprintf(stderr, "usage: driver loop|first [--ca CA_FILE] BASE_URL TOKEN USER_ID"
                        " INSIGHT_FILE [SECONDS [MAX_CREATES]]\n");
        return 2;
    }
    int rc = 1;
    const char *user = a[2];
    used_insight_options *options = NULL;
    used_insight_client *client = NULL;
    used_insight_error *err = NULL;
    char *json = read_file(a[3]);
    if (!json) {
        fprintf(stderr, "driver: cannot read %s\n", a[3]);
        goto cleanup;
    }
    options = used_insight_options_new();
    /* No rate limit: the rows measure the layer's own cost. */
    if (used_insight_options_set_base_url(options, a[0]) != USED_INSIGHT_STATUS_OK ||
        used_insight_options_set_token(options, a[1]) != USED_INSIGHT_STATUS_OK ||
        used_insight_options_disable_rate_limit(options) != USED_INSIGHT_STATUS_OK) {
        fprintf(stderr, "driver: bad base URL or token\n");
        goto cleanup;
    }
    if (ca && used_insight_options_add_root_certificates_file(options, ca) !=
                  USED_INSIGHT_STATUS_OK) {
        fprintf(stderr, "driver: bad CA file name\n");
        goto cleanup;
    }
    if (used_insight_client_new(options, &client, &err) != USED_INSIGHT_STATUS_OK) {
        fprintf(stderr, "driver: %s\n", used_insight_error_message(err));
        goto cleanup;
    }
    if (create_one(client, user, json) != 0) goto cleanup; /* connects */
    if (strcmp(mode, "first") == 0) {
        printf("{\"peak_rss_kib\":%ld}\n", peak_rss_kib());
        rc = 0;
        goto cleanup;
    }
    double seconds = atof(a[4]);
    long max_creates = n > 5 ? atol(a[5]) : -1; /* for profiling: a fixed count */
    long creates = 0;
    double cpu0 = cpu_s(), t0 = now_s(), t = t0;
    while (max_creates >= 0 ? creates < max_creates : t - t0 < seconds) {
        if (create_one(client, user, json) != 0) goto cleanup;
        creates++;
        t = now_s();
    }
    double cpu = cpu_s() - cpu0;
    printf("{\"contestant\":\"%s\",\"threads\":1,\"creates\":%ld,\"wall_s\":%.6f,"
           "\"cpu_s\":%.6f,\"peak_rss_kib\":%ld}\n",
           ca ? "c-tls" : "c", creates, t - t0, cpu, peak_rss_kib());
    rc = 0;
cleanup:
    used_insight_client_free(client);
    used_insight_options_free(options);
    used_insight_error_free(err);
    free(json);
    return rc;
}
