// smepilot-server: an OpenAI-compatible HTTP server for one GGUF model.
//
//   smepilot-server -m model.gguf --port 8080
//   curl http://127.0.0.1:8080/v1/chat/completions \
//     -d '{"messages": [{"role": "user", "content": "Hello"}]}'
//
// HTTP is cpp-httplib's (Debian's libcpp-httplib-dev), JSON nlohmann's. One
// engine per process, one request at a time: requests are queued, not
// batched (admission.h), with a bounded queue and 503 beyond it. Serving
// many users means several processes behind a load balancer
// (docs/server.md).
//
// Endpoints: POST /v1/chat/completions and /v1/completions (streamed as
// server-sent events with "stream": true), GET /v1/models, GET /health (no
// API key asked: for load balancers and orchestrators).
#include "admission.h"
#include "api.h"
#include "engines.h"
#include "generation.h"
#include "options.h"

#include "smepilot_rt/chat_template.h"
#include "smepilot_rt/cpu_count.h"
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/memory.h"
#include "smepilot_rt/model.h"
#include "smepilot_rt/tokenizer.h"
#include "smepilot_rt/version.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

using namespace smepilot;
using server::api_error;
using json = nlohmann::json;

namespace {

using clock_type = std::chrono::steady_clock;

int fail(const std::string &message) {
  std::fprintf(stderr, "smepilot-server: error: %s\n", message.c_str());
  return 1;
}

/// JSON text; strings that are not UTF-8 are replaced, never thrown over.
std::string dump(const json &j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// --- Noticing a client that has gone -------------------------------------
//
// cpp-httplib 0.11 does not give a handler its connection's socket, and a
// non-streaming request writes nothing until it is done, so a closed
// connection would go unnoticed for the whole generation. The socket is
// found once per request by its addresses (the connection's four-tuple is
// unique while it is open, which it is until the handler returns), then
// polled for the peer's hang-up before each token.

std::string numeric_host(const sockaddr_storage &addr, socklen_t len) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr *>(&addr), len, host,
                  sizeof host, nullptr, 0, NI_NUMERICHOST) != 0)
    return {};
  return host;
}

int port_of(const sockaddr_storage &addr) {
  if (addr.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in &>(addr).sin_port);
  if (addr.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6 &>(addr).sin6_port);
  return -1;
}

/// The socket of the connection `req` came on; -1 when not found.
int find_client_socket(const httplib::Request &req) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir)
    return -1;
  int found = -1;
  while (dirent *e = readdir(dir)) {
    char *end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    struct stat st;
    if (*end != '\0' || fd < 0 || fstat(int(fd), &st) != 0 ||
        !S_ISSOCK(st.st_mode))
      continue;
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    if (getsockname(int(fd), reinterpret_cast<sockaddr *>(&local),
                    &local_len) != 0 ||
        getpeername(int(fd), reinterpret_cast<sockaddr *>(&peer), &peer_len) !=
            0)
      continue;
    if (port_of(local) == req.local_port && port_of(peer) == req.remote_port &&
        numeric_host(peer, peer_len) == req.remote_addr) {
      found = int(fd);
      break;
    }
  }
  closedir(dir);
  return found;
}

/// Whether the peer of `fd` has closed the connection (or reset it).
bool peer_closed(int fd) {
  if (fd < 0)
    return false;
  pollfd p = {fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

// --- The server's state ---------------------------------------------------

struct server_state {
  server::options opts;
  std::unique_ptr<rt::gguf_file> file;
  std::unique_ptr<rt::tokenizer> tok;
  rt::chat_template chat;
  std::unique_ptr<rt::engine> eng;
  std::unique_ptr<server::generator> gen;
  std::unique_ptr<server::admission_queue> queue;
  std::string model_id;
  int64_t created = 0;
  std::string id_prefix; ///< Random per process: ids unique across restarts.
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> next_id{1}, completed{0}, cancelled{0}, rejected{0},
      failed{0}, tokens_generated{0};
};

void send_error(httplib::Response &res, const api_error &e) {
  res.status = e.status;
  res.set_content(server::error_body(e), "application/json");
}

api_error error(int status, std::string message, std::string type,
                std::string code, std::string param = {}) {
  api_error e;
  e.status = status;
  e.message = std::move(message);
  e.type = std::move(type);
  e.code = std::move(code);
  e.param = std::move(param);
  return e;
}

bool authorized(const server_state &s, const httplib::Request &req,
                httplib::Response &res) {
  if (s.opts.api_key.empty() ||
      server::bearer_token_matches(req.get_header_value("Authorization"),
                                   s.opts.api_key))
    return true;
  res.set_header("WWW-Authenticate", "Bearer");
  send_error(res, error(401,
                        "invalid or missing API key: send 'Authorization: "
                        "Bearer KEY' with the key the server was started with",
                        "invalid_request_error", "invalid_api_key"));
  return false;
}

json usage_json(const server::generation_result &r) {
  return {{"prompt_tokens", r.n_prompt},
          {"completion_tokens", r.n_completion},
          {"total_tokens", r.n_prompt + r.n_completion},
          {"prompt_tokens_details", {{"cached_tokens", r.n_cached}}}};
}

/// One request on its way: what the handler prepared for the generation.
struct job {
  bool chat = false;
  server::generation_request params;
  std::vector<int32_t> prompt;
  std::unique_ptr<server::admission_queue::ticket> ticket;
  int client_fd = -1;
  std::string id;
  clock_type::time_point admitted;
  double wait_ms = 0;
  bool ran = false;
};

/// Counts the request and, with -v, says how it went.
void finish(server_state &s, const job &j, const server::generation_result &r) {
  s.tokens_generated += uint64_t(r.n_completion);
  if (!r.status)
    ++s.failed;
  else if (r.finish_reason == "cancelled")
    ++s.cancelled;
  else
    ++s.completed;
  if (!r.status)
    std::fprintf(stderr, "smepilot-server: %s: engine error: %s\n",
                 j.id.c_str(), r.status.message().c_str());
  if (s.opts.verbose)
    std::fprintf(
        stderr,
        "smepilot-server: %s: %s%s, %lld prompt tokens (%lld cached), %lld "
        "generated, finish %s, waited %.1f ms, ran %.1f ms\n",
        j.id.c_str(), j.chat ? "chat" : "completion",
        j.params.stream ? " (stream)" : "", (long long)r.n_prompt,
        (long long)r.n_cached, (long long)r.n_completion,
        r.finish_reason.empty() ? "-" : r.finish_reason.c_str(), j.wait_ms,
        std::chrono::duration<double, std::milli>(clock_type::now() -
                                                  j.admitted)
                .count() -
            j.wait_ms);
}

json choice_text(bool chat, const std::string &text, bool delta) {
  if (!chat)
    return {{"index", 0}, {"text", text}, {"logprobs", nullptr}};
  return {{"index", 0},
          {delta ? "delta" : "message",
           delta ? json{{"content", text}}
                 : json{{"role", "assistant"}, {"content", text}}},
          {"logprobs", nullptr}};
}

json envelope(const server_state &s, const job &j, bool chunk) {
  return {{"id", j.id},
          {"object", j.chat
                         ? (chunk ? "chat.completion.chunk" : "chat.completion")
                         : "text_completion"},
          {"created", s.created},
          {"model", s.model_id},
          {"system_fingerprint", nullptr}};
}

/// Both POST endpoints: check, tokenize, admit, then answer at once or
/// stream.
void handle_generation(server_state &s, const httplib::Request &req,
                       httplib::Response &res, bool chat) {
  if (!authorized(s, req, res))
    return;
  auto j = std::make_shared<job>();
  j->chat = chat;
  if (chat) {
    auto p = server::parse_chat_request(req.body);
    if (p.error)
      return send_error(res, *p.error);
    j->params = p.request;
    j->prompt = server::chat_prompt_tokens(*s.tok, s.chat, p.request);
  } else {
    auto p = server::parse_completion_request(req.body);
    if (p.error)
      return send_error(res, *p.error);
    j->params = p.request;
    j->prompt = server::completion_prompt_tokens(*s.tok, p.request);
  }
  const int64_t n_ctx = s.eng->n_ctx(), n_prompt = int64_t(j->prompt.size());
  if (n_prompt == 0)
    return send_error(res, error(400,
                                 "the prompt gives no tokens (and this model "
                                 "does not start with a BOS token)",
                                 "invalid_request_error", "empty_prompt",
                                 chat ? "messages" : "prompt"));
  if (n_prompt >= n_ctx)
    return send_error(
        res, error(400,
                   "the prompt has " + std::to_string(n_prompt) +
                       " tokens; this server's context holds " +
                       std::to_string(n_ctx) +
                       ", one of them for the reply: shorten the prompt",
                   "invalid_request_error", "context_length_exceeded",
                   chat ? "messages" : "prompt"));
  if (j->params.max_tokens && n_prompt + *j->params.max_tokens > n_ctx)
    return send_error(
        res, error(400,
                   "the prompt (" + std::to_string(n_prompt) +
                       " tokens) plus max_tokens " +
                       std::to_string(*j->params.max_tokens) + " needs " +
                       std::to_string(n_prompt + *j->params.max_tokens) +
                       " positions; this server's context holds " +
                       std::to_string(n_ctx) + ": lower max_tokens",
                   "invalid_request_error", "context_length_exceeded",
                   "max_tokens"));

  j->ticket = s.queue->try_enter();
  if (!j->ticket) {
    ++s.rejected;
    res.set_header("Retry-After", "1");
    return send_error(
        res, error(503,
                   "the server is busy: one request is generating and " +
                       std::to_string(s.queue->max_waiting()) +
                       " are waiting (--max-queue); retry later or send it "
                       "to another server process",
                   "server_error", "server_busy"));
  }
  j->admitted = clock_type::now();
  j->id = std::string(chat ? "chatcmpl-" : "cmpl-") + s.id_prefix +
          std::to_string(s.next_id++);
  j->client_fd = find_client_socket(req);
  if (j->client_fd < 0 && s.opts.verbose)
    std::fprintf(stderr,
                 "smepilot-server: %s: the connection's socket was not found; "
                 "a client that goes away is noticed only when a write "
                 "fails\n",
                 j->id.c_str());
  const int fd = j->client_fd;
  auto gone = [&s, fd] { return s.stopping || peer_closed(fd); };
  if (!j->ticket->wait_turn(gone)) {
    ++s.cancelled;
    if (s.opts.verbose)
      std::fprintf(stderr,
                   "smepilot-server: %s: cancelled while waiting (the client "
                   "went away)\n",
                   j->id.c_str());
    return send_error(
        res, error(503, "the server is stopping", "server_error", "cancelled"));
  }
  j->wait_ms =
      std::chrono::duration<double, std::milli>(clock_type::now() - j->admitted)
          .count();

  if (!j->params.stream) {
    server::generation_result r = s.gen->run(
        j->prompt, j->params, [](std::string_view) { return true; }, gone);
    j->ticket.reset(); // the next request may start
    finish(s, *j, r);
    if (!r.status)
      return send_error(
          res, error(500, r.status.message(), "server_error", "engine_error"));
    if (r.finish_reason == "cancelled")
      return send_error(res, error(503, "the request was cancelled",
                                   "server_error", "cancelled"));
    json body = envelope(s, *j, false);
    json choice = choice_text(chat, r.text, false);
    choice["finish_reason"] = r.finish_reason;
    body["choices"] = json::array({std::move(choice)});
    body["usage"] = usage_json(r);
    res.set_content(dump(body), "application/json");
    return;
  }

  // Streamed: the ticket goes with the provider, which cpp-httplib calls
  // after this handler returns; dropping the provider ends the turn.
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream", [&s, j, gone](size_t, httplib::DataSink &sink) {
        if (j->ran) { // called again after done(): nothing more
          sink.done();
          return true;
        }
        j->ran = true;
        auto event = [&sink](const json &data) {
          const std::string text = "data: " + dump(data) + "\n\n";
          return sink.write(text.data(), text.size());
        };
        auto chunk = [&](const json &choice) {
          json c = envelope(s, *j, true);
          c["choices"] =
              choice.is_null() ? json::array() : json::array({choice});
          if (j->params.include_usage)
            c["usage"] = nullptr;
          return c;
        };
        bool ok = true;
        if (j->chat) {
          json first = {{"index", 0},
                        {"delta", {{"role", "assistant"}, {"content", ""}}},
                        {"logprobs", nullptr},
                        {"finish_reason", nullptr}};
          ok = event(chunk(first));
        }
        server::generation_result r = s.gen->run(
            j->prompt, j->params,
            [&](std::string_view text) {
              json choice = choice_text(j->chat, std::string(text), true);
              choice["finish_reason"] = nullptr;
              return event(chunk(choice));
            },
            [&] { return !ok || gone(); });
        if (!ok)
          r.finish_reason = "cancelled";
        j->ticket.reset();
        finish(s, *j, r);
        if (!r.status) {
          api_error e =
              error(500, r.status.message(), "server_error", "engine_error");
          const std::string body = server::error_body(e);
          const std::string text = "data: " + body + "\n\n";
          sink.write(text.data(), text.size());
          sink.done();
          return true;
        }
        if (r.finish_reason == "cancelled")
          return false; // the connection is dropped
        json last = choice_text(j->chat, "", true);
        if (j->chat)
          last["delta"] = json::object();
        last["finish_reason"] = r.finish_reason;
        event(chunk(last));
        if (j->params.include_usage) {
          json u = chunk(nullptr);
          u["usage"] = usage_json(r);
          event(u);
        }
        const std::string done = "data: [DONE]\n\n";
        sink.write(done.data(), done.size());
        sink.done();
        return true;
      });
}

// --- Loading ----------------------------------------------------------------

rt::status load(server_state &s) {
  rt::status st = run::check_engine(s.opts.engine);
  if (!st)
    return st;
  auto file = rt::gguf_file::open(s.opts.model);
  if (!file)
    return file.take_error();
  s.file = std::move(*file);
  auto config = rt::read_model_config(*s.file);
  if (!config)
    return config.take_error();
  auto tok = rt::tokenizer::from_gguf(*s.file);
  if (!tok)
    return tok.take_error();
  s.tok = std::move(*tok);
  // The chat template's family, as smepilot-run -cnv detects it.
  std::string_view jinja;
  if (s.file->find("tokenizer.chat_template")) {
    auto text = s.file->get_string("tokenizer.chat_template");
    if (!text)
      return text.take_error();
    jinja = *text;
  }
  auto chat = rt::detect_chat_template(jinja);
  if (!chat)
    return rt::status::error(s.opts.model + ": " + chat.error().message());
  s.chat = *chat;

  rt::engine_options eo;
  const int hardware = int(std::max(1u, std::thread::hardware_concurrency()));
  // Default: the CPUs this process may use (affinity mask, cgroup cpu.max),
  // as smepilot-run.
  eo.n_threads =
      s.opts.n_threads > 0 ? s.opts.n_threads : rt::default_thread_count();
  if (eo.n_threads > 4 * hardware)
    return rt::status::error("-t " + std::to_string(eo.n_threads) +
                             " is more than 4 threads for each of the " +
                             std::to_string(hardware) +
                             " hardware threads of this machine; lower -t");
  eo.n_ctx = s.opts.n_ctx;
  auto eng = run::create_engine(s.opts.engine, *s.file, eo);
  if (!eng)
    return eng.take_error();
  s.eng = std::move(*eng);
  // A long conversation may fill the whole context.
  st = rt::check_memory(rt::probe_memory_budget(),
                        uint64_t(s.eng->n_ctx()) *
                            s.eng->kv_bytes_per_position(),
                        "the KV cache of the whole context (" +
                            std::to_string(s.eng->n_ctx()) + " positions)",
                        "give a smaller context size (-c)");
  if (!st)
    return st;
  s.gen = std::make_unique<server::generator>(*s.eng, *s.tok);
  s.gen->token_delay = std::chrono::milliseconds(s.opts.debug_token_delay_ms);
  s.queue = std::make_unique<server::admission_queue>(size_t(s.opts.max_queue));
  const size_t slash = s.opts.model.find_last_of('/');
  s.model_id = slash == std::string::npos ? s.opts.model
                                          : s.opts.model.substr(slash + 1);
  s.created = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  std::mt19937_64 rng(std::random_device{}());
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "%08llx-",
                (unsigned long long)(rng() & 0xffffffffu));
  s.id_prefix = prefix;
  return rt::status::ok();
}

void add_routes(server_state &s, httplib::Server &svr) {
  svr.Get("/health", [&s](const httplib::Request &, httplib::Response &res) {
    const server::admission_queue::counts c = s.queue->current();
    json body = {{"status", "ok"},
                 {"model", s.model_id},
                 {"engine", std::string(s.eng->name())},
                 {"n_ctx", s.eng->n_ctx()},
                 {"queue",
                  {{"running", c.running},
                   {"waiting", c.waiting},
                   {"max_waiting", s.queue->max_waiting()}}},
                 {"requests",
                  {{"completed", s.completed.load()},
                   {"cancelled", s.cancelled.load()},
                   {"rejected", s.rejected.load()},
                   {"failed", s.failed.load()}}},
                 {"tokens_generated", s.tokens_generated.load()}};
    res.set_content(dump(body), "application/json");
  });
  svr.Get("/v1/models", [&s](const httplib::Request &req,
                             httplib::Response &res) {
    if (!authorized(s, req, res))
      return;
    json model = {{"id", s.model_id},
                  {"object", "model"},
                  {"created", s.created},
                  {"owned_by", "smepilot"}};
    res.set_content(dump({{"object", "list"}, {"data", json::array({model})}}),
                    "application/json");
  });
  svr.Post("/v1/chat/completions",
           [&s](const httplib::Request &req, httplib::Response &res) {
             handle_generation(s, req, res, /*chat=*/true);
           });
  svr.Post("/v1/completions",
           [&s](const httplib::Request &req, httplib::Response &res) {
             handle_generation(s, req, res, /*chat=*/false);
           });
  // cpp-httplib's own errors (no route, a body over --max-body, a
  // malformed request) get OpenAI's error body too.
  const int64_t max_body = s.opts.max_body;
  svr.set_error_handler(
      [max_body](const httplib::Request &req, httplib::Response &res) {
        if (!res.body.empty())
          return;
        api_error e;
        e.status = res.status;
        e.code = "http_" + std::to_string(res.status);
        if (res.status == 404) {
          e.message = "no such endpoint: " + req.method + " " + req.path;
          e.code = "not_found";
        } else if (res.status == 413) {
          e.message = "the request body is larger than " +
                      std::to_string(max_body) + " bytes (--max-body)";
          e.code = "request_too_large";
        } else {
          e.message = "the HTTP request could not be served (status " +
                      std::to_string(res.status) + ")";
        }
        send_error(res, e);
      });
  svr.set_exception_handler([](const httplib::Request &, httplib::Response &res,
                               std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception &e) {
      what = e.what();
    } catch (...) {
    }
    std::fprintf(stderr, "smepilot-server: internal error: %s\n", what.c_str());
    send_error(res, error(500, "internal error: " + what, "server_error",
                          "internal_error"));
  });
}

int server_main(int argc, char **argv) {
  // SIGINT and SIGTERM stop the server from a thread of their own (below);
  // blocked here, before any thread starts, so that no other thread takes
  // them. A client gone mid-write must not kill the process.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto parsed = server::parse_args(argc, argv);
  if (!parsed)
    return fail(parsed.error().message());
  server_state s;
  s.opts = std::move(*parsed);
  if (s.opts.help) {
    std::fputs(server::usage().c_str(), stdout);
    return 0;
  }
  if (s.opts.version) {
    std::printf("smepilot-server %s\n", rt::version_string());
    return 0;
  }

  httplib::Server svr;
  std::atomic<bool> listening_done{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (listening_done) // woken by stop_signal_thread: the server has stopped
      return;
    std::fprintf(stderr, "smepilot-server: %s: stopping\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    s.stopping = true;
    // stop() acts once the server listens: until then, ask again.
    while (!listening_done) {
      svr.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto stop_signal_thread = [&] {
    listening_done = true;
    if (!s.stopping)
      pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
  };

  rt::status st = load(s);
  if (!st) {
    stop_signal_thread();
    return fail(st.message());
  }
  add_routes(s, svr);
  // One request per connection: an idle keep-alive connection would hold one
  // of the threads below. Enough threads for every admitted request and a
  // few more, so that /health and 503 answers never wait for a generation.
  svr.set_keep_alive_max_count(1);
  svr.set_payload_max_length(size_t(s.opts.max_body));
  const size_t n_http_threads = size_t(s.opts.max_queue) + 1 + 4;
  svr.new_task_queue = [n_http_threads] {
    return new httplib::ThreadPool(n_http_threads);
  };
  int port = s.opts.port;
  const bool bound = port == 0 ? (port = svr.bind_to_any_port(s.opts.host)) > 0
                               : svr.bind_to_port(s.opts.host, port);
  if (!bound) {
    const int err = errno;
    stop_signal_thread();
    return fail("cannot listen on " + s.opts.host + " port " +
                std::to_string(s.opts.port) + ": " +
                (err ? std::strerror(err) : "bind failed"));
  }
  const bool ipv6 = s.opts.host.find(':') != std::string::npos;
  std::fprintf(stderr,
               "smepilot-server: listening on http://%s%s%s:%d (model %s, %.*s "
               "engine, context %d, %s chat template, max queue %d%s)\n",
               ipv6 ? "[" : "", s.opts.host.c_str(), ipv6 ? "]" : "", port,
               s.model_id.c_str(), int(s.eng->name().size()),
               s.eng->name().data(), s.eng->n_ctx(),
               std::string(rt::chat_template_name(s.chat)).c_str(),
               s.opts.max_queue, s.opts.api_key.empty() ? "" : ", API key");
  if (!s.stopping)
    svr.listen_after_bind();
  stop_signal_thread();
  std::fprintf(stderr, "smepilot-server: stopped\n");
  return 0;
}

} // namespace

int main(int argc, char **argv) { return server_main(argc, argv); }
