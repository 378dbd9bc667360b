// A C++11 program on the C API, built by tests/cmake/CMakeLists.txt against
// the installed CMake package: every handle owned by a std::unique_ptr whose
// deleter is the library's _free.
//
//   GRAPH_TOKEN=t ./consumer_cxx_shared [BASE_URL]
//
// Creates one usedInsight from JSON and prints "created ID" and the library
// version; on failure prints the status and message and exits 1.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <used_insight.h>

namespace {

struct OptionsFree {
  void operator()(used_insight_options *p) const { used_insight_options_free(p); }
};
struct ClientFree {
  void operator()(used_insight_client *p) const { used_insight_client_free(p); }
};
struct ErrorFree {
  void operator()(used_insight_error *p) const { used_insight_error_free(p); }
};
struct StringFree {
  void operator()(char *p) const { used_insight_string_free(p); }
};

using Options = std::unique_ptr<used_insight_options, OptionsFree>;
using Client = std::unique_ptr<used_insight_client, ClientFree>;
using Error = std::unique_ptr<used_insight_error, ErrorFree>;
using String = std::unique_ptr<char, StringFree>;

int report(const Error &err) {
  std::fprintf(stderr, "%s: %s\n", used_insight_status_name(used_insight_error_status(err.get())),
               used_insight_error_message(err.get()));
  return EXIT_FAILURE;
}

}  // namespace

int main(int argc, char **argv) {
  // The header this was compiled with and the library it runs with agree.
  if (std::strcmp(used_insight_version(), USED_INSIGHT_VERSION_STRING) != 0) {
    std::fprintf(stderr, "header %s, library %s\n", USED_INSIGHT_VERSION_STRING,
                 used_insight_version());
    return EXIT_FAILURE;
  }
  Options options(used_insight_options_new());
  if (argc > 1) used_insight_options_set_base_url(options.get(), argv[1]);
  used_insight_options_set_token(options.get(), std::getenv("GRAPH_TOKEN"));

  used_insight_error *raw_err = nullptr;
  used_insight_client *raw_client = nullptr;
  if (used_insight_client_new(options.get(), &raw_client, &raw_err) != USED_INSIGHT_STATUS_OK)
    return report(Error(raw_err));
  Client client(raw_client);

  const char *insight =
      "{\"lastUsed\": {\"lastAccessedDateTime\": \"2026-11-28T10:00:00Z\"},"
      " \"resourceVisualization\": {\"title\": \"Quarterly report\", \"type\": \"Word\"},"
      " \"resourceReference\": {\"webUrl\": "
      "\"https://contoso.sharepoint.com/sites/finance/report.docx\"}}";
  char *raw_json = nullptr;
  if (used_insight_create(client.get(), "alice@contoso.com", insight, &raw_json, &raw_err) !=
      USED_INSIGHT_STATUS_OK)
    return report(Error(raw_err));
  String json(raw_json);

  // The answer's "id", read without a JSON library: the library writes
  // compact JSON, "id":"...".
  const char *id = std::strstr(json.get(), "\"id\":\"");
  const char *end = id ? std::strchr(id + std::strlen("\"id\":\""), '"') : nullptr;
  if (end == nullptr) {
    std::fprintf(stderr, "no id in %s\n", json.get());
    return EXIT_FAILURE;
  }
  id += std::strlen("\"id\":\"");
  std::printf("created %.*s (used_insight %s)\n", static_cast<int>(end - id), id,
              used_insight_version());
  return EXIT_SUCCESS;
}
