/* Records that alice used a document: the README's "Using it from C" example.
 * Usage: GRAPH_TOKEN=... ./example [BASE_URL]   (default: Microsoft Graph) */
#include <stdio.h>
#include <stdlib.h>
#include <used_insight.h>

int main(int argc, char **argv) {
  used_insight_options *options = used_insight_options_new();
  used_insight_client *client = NULL;
  used_insight_result *result = NULL;
  used_insight_error *err = NULL;
  used_insight_fields fields = USED_INSIGHT_FIELDS_INIT;
  int rc = EXIT_FAILURE;

  if (argc > 1) used_insight_options_set_base_url(options, argv[1]);
  used_insight_options_set_token(options, getenv("GRAPH_TOKEN")); /* NULL: client_new says so */
  if (used_insight_client_new(options, &client, &err) != USED_INSIGHT_STATUS_OK) goto cleanup;

  fields.title = "Quarterly report";
  fields.type = "Word";
  fields.web_url = "https://contoso.sharepoint.com/sites/finance/report.docx";
  fields.last_accessed = "2026-11-28T10:00:00Z";
  if (used_insight_create_fields(client, "alice@contoso.com", &fields, &result, &err) !=
      USED_INSIGHT_STATUS_OK)
    goto cleanup;
  printf("created %s\n", used_insight_result_id(result));
  rc = EXIT_SUCCESS;

cleanup:
  if (err) {
    fprintf(stderr, "%s: %s\n", used_insight_status_name(used_insight_error_status(err)),
            used_insight_error_message(err));
    for (size_t i = 0; i < used_insight_error_problem_count(err); i++)
      fprintf(stderr, "  %s: %s\n", used_insight_error_problem_path(err, i),
              used_insight_error_problem_reason(err, i));
  }
  used_insight_error_free(err);
  used_insight_result_free(result);
  used_insight_client_free(client);
  used_insight_options_free(options);
  return rc;
}
