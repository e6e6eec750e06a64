#!/usr/bin/env python3
"""End-to-end tests: the chatwire CLI and the library (e2e_client) over real
sockets and real TLS, against local servers started here:

- tests/server/chat_server.py over TLS (good, wrong-host, expired,
  self-signed certificates; TLS 1.2-only and 1.3-only) and plain HTTP;
- nginx as a TLS-terminating reverse proxy in front of the plain server;
- openssl s_server, TLS 1.3 only, answering one canned response.

Certificates are made at test time by tests/server/make_certs.sh.
Run by ctest with CW_BUILD_DIR and CW_SOURCE_DIR set. Standard library only.
"""

import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BUILD = os.environ.get("CW_BUILD_DIR", os.path.join(os.getcwd(), "build"))
SOURCE = os.environ.get("CW_SOURCE_DIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(
                            os.path.abspath(__file__)))))
CLI = os.path.join(BUILD, "chatwire")
LIB_CLIENT = os.path.join(BUILD, "tests", "e2e_client")
SERVER = os.path.join(SOURCE, "tests", "server", "chat_server.py")
MAKE_CERTS = os.path.join(SOURCE, "tests", "server", "make_certs.sh")
IN_CI = os.environ.get("CI") == "true"

# A key that must never show up in any output.
KEY = "sk-e2e-S3CRET-key-4f9a0c"

TMP = None
CERTS = None
PROCS = []
PORTS = {}
TLS13 = False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0, proc=None, log=None):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    detail = ""
    if log is not None and os.path.exists(log):
        with open(log, errors="replace") as f:
            detail = f.read()[-2000:]
    raise RuntimeError("nothing listens on port %d %s" % (port, detail))


def start_server(name, *args, port=0):
    port_file = os.path.join(TMP, name + ".port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    with open(os.path.join(TMP, name + ".log"), "a") as log:
        proc = subprocess.Popen([sys.executable, SERVER, "--port", str(port),
                                 "--port-file", port_file, "--key", KEY] +
                                list(args), stdout=log, stderr=log)
    PROCS.append(proc)
    end = time.time() + 15
    while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
        if proc.poll() is not None or time.time() > end:
            with open(os.path.join(TMP, name + ".log")) as f:
                raise RuntimeError("server %s did not start: %s" % (
                    name, f.read()))
        time.sleep(0.05)
    time.sleep(0.05)  # the port file may be half-written
    with open(port_file) as f:
        PORTS[name] = int(f.read().strip())


def tls_args(cert):
    return ["--tls-cert", os.path.join(CERTS, cert + ".pem"),
            "--tls-key", os.path.join(CERTS, cert + ".key")]


def start_nginx():
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        return False
    port = free_port()
    prefix = os.path.join(TMP, "nginx")
    os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""
worker_processes 1;
daemon off;
pid %(p)s/nginx.pid;
error_log %(p)s/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log %(p)s/logs/access.log;
  client_body_temp_path %(p)s/body;
  proxy_temp_path %(p)s/proxy;
  fastcgi_temp_path %(p)s/fastcgi;
  uwsgi_temp_path %(p)s/uwsgi;
  scgi_temp_path %(p)s/scgi;
  upstream chat { server 127.0.0.1:%(backend)d; keepalive 4; }
  server {
    listen 127.0.0.1:%(port)d ssl;
    server_name localhost;
    ssl_certificate %(certs)s/good.pem;
    ssl_certificate_key %(certs)s/good.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_timeout 30s;
    location / {
      proxy_pass http://chat;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 30s;
    }
  }
}
""" % {"p": prefix, "backend": PORTS["plain"], "port": port, "certs": CERTS})
    with open(os.path.join(TMP, "nginx.log"), "w") as log:
        proc = subprocess.Popen([nginx, "-p", prefix, "-c", conf],
                                stdout=log, stderr=log)
    PROCS.append(proc)
    wait_port(port, proc=proc, log=os.path.join(TMP, "nginx.log"))
    PORTS["nginx"] = port
    return True


def start_tinyproxy(name, *extra_lines):
    """tinyproxy on a free port, allowing CONNECT to the TLS test servers."""
    tinyproxy = shutil.which("tinyproxy")
    if tinyproxy is None:
        return False
    port = free_port()
    conf = os.path.join(TMP, name + ".conf")
    with open(conf, "w") as f:
        f.write("Port %d\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\n"
                "Allow 127.0.0.1\nLogLevel Info\nPidFile \"%s/%s.pid\"\n"
                % (port, TMP, name))
        for server in ("good", "wronghost"):
            f.write("ConnectPort %d\n" % PORTS[server])
        for line in extra_lines:
            f.write(line + "\n")
    with open(os.path.join(TMP, name + ".log"), "w") as log:
        proc = subprocess.Popen([tinyproxy, "-d", "-c", conf], stdout=log,
                                stderr=log)
    PROCS.append(proc)
    wait_port(port, proc=proc, log=os.path.join(TMP, name + ".log"))
    PORTS[name] = port
    return True


def setUpModule():
    try:
        start_everything()
    except BaseException:
        tearDownModule()  # unittest skips it when setUpModule fails
        raise


def start_everything():
    global TMP, CERTS, TLS13
    TMP = tempfile.mkdtemp(prefix="cw-e2e-")
    CERTS = os.path.join(TMP, "certs")
    subprocess.run(["bash", MAKE_CERTS, CERTS], check=True,
                   stdout=subprocess.DEVNULL)
    version = subprocess.run([CLI, "--version"], capture_output=True,
                             text=True, check=True).stdout
    TLS13 = "TLS 1.3" in version
    start_server("good", *tls_args("good"))
    start_server("rsa", *tls_args("good-rsa"))
    start_server("plain")
    start_server("wronghost", *tls_args("wronghost"))
    start_server("expired", *tls_args("expired"))
    start_server("selfsigned", *tls_args("selfsigned"))
    start_server("future", *tls_args("future"))
    start_server("ipv6", "--host", "::1")
    start_server("idle", "--idle-close-ms", "300", *tls_args("good"))
    start_server("tls12", "--tls-max", "1.2", *tls_args("good"))
    start_server("tls13", "--tls-min", "1.3", *tls_args("good"))
    start_server("clientcert", "--tls-client-ca",
                 os.path.join(CERTS, "ca.pem"), *tls_args("good"))
    start_server("certreset", "--tls-client-cert-reset",
                 os.path.join(CERTS, "ca.pem"), *tls_args("good"))
    start_server("turns", *tls_args("good"))
    start_server("turns_s", *tls_args("good"))
    start_nginx()
    start_tinyproxy("proxy")
    start_tinyproxy("authproxy", "BasicAuth alice s3cr-t")


def tearDownModule():
    for p in PROCS:
        p.terminate()
    for p in PROCS:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
    # the servers' logs must not hold the key either
    for name in os.listdir(TMP):
        path = os.path.join(TMP, name)
        if name.endswith(".log") and os.path.isfile(path):
            with open(path, errors="replace") as f:
                assert KEY not in f.read(), name
    shutil.rmtree(TMP, ignore_errors=True)


def url(name, scheme="https"):
    return "%s://localhost:%d/v1" % (scheme, PORTS[name])


class Base(unittest.TestCase):
    def cli(self, *args, key=KEY, stdin=None, env_extra=None):
        env = dict(os.environ)
        env.pop("OPENAI_API_KEY", None)
        env.pop("COMETAPI_KEY", None)
        if key is not None:
            env["COMETAPI_KEY"] = key
        if env_extra:
            env.update(env_extra)
        p = subprocess.run([CLI] + list(args), input=stdin,
                           capture_output=True, env=env, timeout=60)
        out = p.stdout.decode("utf-8")
        err = p.stderr.decode("utf-8")
        self.assertNotIn(KEY, out)
        self.assertNotIn(KEY, err)
        return p.returncode, out, err

    def ask(self, server, prompt, *extra, scheme="https"):
        return self.cli("--base-url", url(server, scheme), "--ca",
                        os.path.join(CERTS, "ca.pem"), *extra, prompt)

    def lib(self, server, mode, prompt, *tls):
        env = dict(os.environ, COMETAPI_KEY=KEY)
        p = subprocess.run([LIB_CLIENT, url(server), os.path.join(
            CERTS, "ca.pem"), mode, prompt] + list(tls), capture_output=True,
            env=env, timeout=60)
        out = p.stdout.decode("utf-8")
        self.assertNotIn(KEY, out)
        self.assertNotIn(KEY, p.stderr.decode("utf-8"))
        self.assertEqual(p.returncode, 0, p.stderr)
        return dict(line.split("=", 1) for line in out.splitlines()
                    if "=" in line)

    def one_error_line(self, err, prefix):
        lines = [l for l in err.splitlines() if l]
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith("chatwire: " + prefix),
                        "%r does not start with %r" % (lines[0], prefix))
        return lines[0]


class CliAnswers(Base):
    def test_streamed_answer_over_tls(self):
        rc, out, err = self.ask("good", "Hello there, streaming world")
        self.assertEqual((rc, out, err),
                         (0, "Echo: Hello there, streaming world\n", ""))

    def test_non_streamed_answer_over_tls(self):
        rc, out, err = self.ask("good", "Hello whole", "--no-stream")
        self.assertEqual((rc, out, err), (0, "Echo: Hello whole\n", ""))

    def test_unicode_round_trip(self):
        text = 'Quotes " back\\slash tab\t \u4e2d\u6587 \U0001F600 caf\u00e9'
        for extra in ((), ("--no-stream",)):
            rc, out, err = self.ask("good", text, *extra)
            self.assertEqual((rc, out), (0, "Echo: " + text + "\n"), err)

    def test_prompt_from_stdin_and_system_message(self):
        rc, out, err = self.cli("--base-url", url("good"), "--ca",
                                os.path.join(CERTS, "ca.pem"), "--system",
                                "Be brief.", "-",
                                stdin="from stdin\n".encode())
        self.assertEqual((rc, out), (0, "Echo: from stdin\n\n"), err)

    def test_rsa_server_certificate(self):
        rc, out, err = self.ask("rsa", "rsa works")
        self.assertEqual((rc, out), (0, "Echo: rsa works\n"), err)

    def test_plain_http_base_url(self):
        rc, out, err = self.cli("--base-url", url("plain", "http"), "plain")
        self.assertEqual((rc, out), (0, "Echo: plain\n"), err)

    def test_azure_style_api_key_header_and_deployment_url(self):
        base = ("https://localhost:%d/openai/deployments/gpt-4-0314"
                "?api-version=2024-10-21" % PORTS["good"])
        rc, out, err = self.cli("--base-url", base, "--ca",
                                os.path.join(CERTS, "ca.pem"),
                                "--api-key-header", "azure style")
        self.assertEqual((rc, out), (0, "Echo: azure style\n"), err)

    def test_ipv6_literal_base_url(self):
        rc, out, err = self.cli("--base-url", "http://[::1]:%d/v1" %
                                PORTS["ipv6"], "over IPv6")
        self.assertEqual((rc, out), (0, "Echo: over IPv6\n"), err)

    def test_chunked_non_streamed_body(self):
        rc, out, err = self.ask("good", "!mode:chunked chunky", "--no-stream")
        self.assertEqual(rc, 0, err)
        self.assertIn("chunky", out)

    def test_server_framing_variants(self):
        # one-byte TCP writes, all events in one chunk, CRLF and no-space
        # SSE, extra SSE fields, \\u escapes with surrogate pairs, compact JSON
        modes = ["fragment=1", "coalesce", "sse-crlf", "sse-nospace",
                 "sse-fields", "escape-unicode", "compact",
                 "fragment=3,escape-unicode,sse-crlf", "chunked,fragment=2"]
        for mode in modes:
            for extra in ((), ("--no-stream",)):
                with self.subTest(mode=mode, extra=extra):
                    prompt = '!mode:%s \u00fcn\u00ef \U0001F600 "q" \\ end' % mode
                    rc, out, err = self.ask("good", prompt, *extra)
                    self.assertEqual((rc, out, err),
                                     (0, "Echo: " + prompt + "\n", ""))

    def test_large_answers(self):
        rc, out, err = self.ask("good", "!mode:big=100000")
        self.assertEqual((rc, len(out)), (0, 100001), err)
        rc, out, err = self.ask("good", "!mode:big=100000", "--no-stream")
        self.assertEqual((rc, len(out)), (0, 100001), err)
        # larger than the CLI's 256 KiB work buffer: refused, not cut
        rc, out, err = self.ask("good", "!mode:big=300000", "--no-stream")
        self.assertEqual((rc, out), (5, ""))
        line = self.one_error_line(err, "the answer needs a buffer of ")
        self.assertRegex(line, r"of 30\d{4} bytes; this command has 262144 "
                               r"for whole answers: stream it \(leave out "
                               r"--no-stream\)")
        rc, out, err = self.ask("good", "!mode:big=300000")
        self.assertEqual((rc, len(out)), (0, 300001), err)

    def test_verbose_reports_status_request_id_and_usage(self):
        rc, out, err = self.ask("good", "verbose please", "-v")
        self.assertEqual(rc, 0)
        self.assertRegex(err, r"HTTP 200, request id req_[0-9a-f]+, model "
                              r"gpt-4-0314, finish stop, tokens \d+ prompt")

    def test_max_tokens_and_temperature_accepted(self):
        rc, out, err = self.ask("good", "one two three four five",
                                "--max-tokens", "2", "--temperature", "0.5",
                                "-v")
        self.assertEqual(rc, 0, err)
        self.assertIn("finish length", err)


class CliErrors(Base):
    def test_no_key_says_how_to_set_one(self):
        rc, out, err = self.cli("--base-url", url("good"), "hi", key=None)
        self.assertEqual((rc, out), (1, ""))
        self.one_error_line(err, "no API key: set COMETAPI_KEY")

    def test_wrong_key_is_401_invalid_api_key(self):
        rc, out, err = self.cli("--base-url", url("good"), "--ca",
                                os.path.join(CERTS, "ca.pem"), "hi",
                                key="sk-wrong-key-123456")
        self.assertEqual((rc, out), (4, ""))
        line = self.one_error_line(err, "HTTP 401 invalid_api_key: Incorrect")
        self.assertRegex(line, r"\(request id req_[0-9a-f]+\)$")
        self.assertNotIn("sk-wrong-key-123456", err)

    def test_unknown_model_is_404_model_not_found(self):
        rc, out, err = self.ask("good", "hi", "--model", "gpt-nope")
        self.assertEqual(rc, 4)
        self.one_error_line(err, "HTTP 404 model_not_found: The model")

    def test_each_error_mode(self):
        cases = [
            ("!mode:429", 4, "HTTP 429 rate_limit_exceeded: Rate limit"),
            ("!mode:quota", 4, "HTTP 429 insufficient_quota: You exceeded"),
            ("!mode:500", 4, "HTTP 500 server_error: The server had an error"),
            ("!mode:503", 4, "HTTP 503 server_error: The engine is currently"),
            ("!mode:llamacpp-error", 4, "HTTP 500 500: "),
            ("!mode:vllm-error", 4, "HTTP 400 400: "),
            ("!mode:401", 4, "HTTP 401 invalid_api_key"),
        ]
        for prompt, code, prefix in cases:
            for extra in (("--max-retries", "0"),
                          ("--no-stream", "--max-retries", "0")):
                with self.subTest(prompt=prompt, extra=extra):
                    rc, out, err = self.ask("good", prompt, *extra)
                    self.assertEqual((rc, out), (code, ""), err)
                    self.one_error_line(err, prefix)

    def test_error_event_mid_stream(self):
        rc, out, err = self.ask("good", "!mode:stream-error some words here")
        self.assertEqual(rc, 4)
        self.assertTrue(out.startswith("Echo:"), out)
        line = self.one_error_line(err, "stream error server_error: ")
        self.assertIn("(answer incomplete)", line)

    def test_connection_dropped_mid_stream(self):
        rc, out, err = self.ask("good", "!mode:drop some words here")
        self.assertEqual(rc, 2)
        self.assertTrue(out.startswith("Echo:"), out)
        line = self.one_error_line(err, "connection closed before the "
                                        "response was complete")
        self.assertIn("(answer incomplete)", line)

    def test_refusal_exit_code(self):
        for extra in (("--no-stream",), ()):
            rc, out, err = self.ask("good", "!mode:refusal", *extra)
            self.assertEqual((rc, out), (6, ""), err)
            self.one_error_line(err, "the model gave no content; it refused: "
                                     "I'm sorry, I can't help with that.")

    def test_timeout_names_only_the_limit_that_fired(self):
        rc, out, err = self.ask("good", "!mode:slow-headers=3000",
                                "--timeout-ms", "500")
        self.assertEqual(rc, 2)
        line = self.one_error_line(err, "timed out: the call took longer "
                                        "than its timeout_ms (500 ms) while "
                                        "waiting for the response (set with "
                                        "--timeout-ms)")
        self.assertNotIn("idle", line)
        rc, out, err = self.ask("good", "!mode:slow-headers=3000",
                                "--idle-timeout-ms", "500")
        self.assertEqual(rc, 2)
        line = self.one_error_line(err, "timed out: no byte moved for "
                                        "idle_timeout_ms (500 ms) while "
                                        "waiting for the response (set with "
                                        "--idle-timeout-ms)")

    def test_idle_timeout_cuts_a_stalled_stream_not_a_slow_one(self):
        # tokens every 300 ms for ~2 s: never 1 s of silence, so it completes
        words = " ".join("w%d" % i for i in range(7))
        rc, out, err = self.ask("good", "!mode:pace=300 " + words,
                                "--idle-timeout-ms", "1000")
        self.assertEqual((rc, out), (0, "Echo: !mode:pace=300 %s\n" % words),
                         err)
        # a stream that stops after its first event is cut after 1 s idle
        t0 = time.time()
        rc, out, err = self.ask("good", "!mode:stall=5000 a b c",
                                "--idle-timeout-ms", "1000")
        self.assertLess(time.time() - t0, 4.0)
        self.assertEqual(rc, 2, err)
        self.assertIn("timed out", err)

    def test_connection_refused(self):
        rc, out, err = self.cli("--base-url", "https://127.0.0.1:%d/v1" %
                                free_port(), "hi")
        self.assertEqual(rc, 2)
        self.one_error_line(err, "cannot connect to 127.0.0.1 port ")

    def test_unresolvable_host(self):
        rc, out, err = self.cli("--base-url",
                                "https://no-such-host.invalid/v1", "hi")
        self.assertEqual(rc, 2)
        self.one_error_line(err, "cannot resolve no-such-host.invalid")

    def test_bad_option(self):
        rc, out, err = self.cli("--temperature", "9", "hi")
        self.assertEqual(rc, 1)
        self.one_error_line(err, "bad --temperature")


class Proxy(Base):
    def setUp(self):
        if "proxy" not in PORTS:
            if IN_CI:
                self.fail("tinyproxy is not installed")
            self.skipTest("tinyproxy is not installed")

    def proxy_url(self, name="proxy", cred=""):
        return "http://%s127.0.0.1:%d" % (cred, PORTS[name])

    def test_stream_through_connect_tunnel(self):
        rc, out, err = self.ask("good", "via tinyproxy", "--proxy",
                                self.proxy_url())
        self.assertEqual((rc, out), (0, "Echo: via tinyproxy\n"), err)
        with open(os.path.join(TMP, "proxy.log")) as f:
            self.assertIn("CONNECT localhost:%d" % PORTS["good"], f.read())

    def test_origin_certificate_still_verified_through_tunnel(self):
        rc, out, err = self.ask("wronghost", "hi", "--proxy",
                                self.proxy_url(), "--max-retries", "0")
        self.assertEqual(rc, 3)
        self.one_error_line(err, "TLS: certificate is for wrong.example")

    def test_https_proxy_environment_and_no_proxy(self):
        rc, out, err = self.cli("--base-url", url("good"), "--ca",
                                os.path.join(CERTS, "ca.pem"), "env proxy",
                                env_extra={"HTTPS_PROXY": self.proxy_url(
                                    "authproxy")})
        # the auth proxy refuses us: proof the variable was used
        self.assertEqual(rc, 2)
        self.one_error_line(err, "proxy 127.0.0.1:%d: requires "
                                 "authentication (407)" % PORTS["authproxy"])
        rc, out, err = self.cli("--base-url", url("good"), "--ca",
                                os.path.join(CERTS, "ca.pem"), "no proxy",
                                env_extra={"HTTPS_PROXY": self.proxy_url(
                                    "authproxy"), "NO_PROXY": "localhost"})
        self.assertEqual((rc, out), (0, "Echo: no proxy\n"), err)

    def test_407_without_and_with_wrong_credentials(self):
        rc, out, err = self.ask("good", "hi", "--proxy",
                                self.proxy_url("authproxy"))
        self.assertEqual((rc, out), (2, ""))
        self.one_error_line(err, "proxy 127.0.0.1:%d: requires "
                                 "authentication (407)" % PORTS["authproxy"])
        rc, out, err = self.ask("good", "hi", "--proxy", self.proxy_url(
            "authproxy", "alice:wrong-pass@"))
        self.assertEqual(rc, 2)
        self.one_error_line(err, "proxy 127.0.0.1:%d: authentication "
                                 "failed (40" % PORTS["authproxy"])
        self.assertNotIn("wrong-pass", err)

    def test_credentials_percent_encoded(self):
        rc, out, err = self.ask("good", "authorized", "--proxy",
                                self.proxy_url("authproxy",
                                               "alice:s3cr%2Dt@"))
        self.assertEqual((rc, out), (0, "Echo: authorized\n"), err)
        self.assertNotIn("s3cr", err)

    def test_tunnel_to_a_port_the_proxy_forbids(self):
        rc, out, err = self.ask("expired", "hi", "--proxy", self.proxy_url())
        self.assertEqual(rc, 2)
        self.one_error_line(err, "proxy 127.0.0.1:%d: refused the tunnel "
                                 "(HTTP 403)" % PORTS["proxy"])

    def test_proxy_not_listening(self):
        rc, out, err = self.ask("good", "hi", "--proxy",
                                "http://127.0.0.1:%d" % free_port(),
                                "--max-retries", "0")
        self.assertEqual(rc, 2)
        self.one_error_line(err, "proxy 127.0.0.1:")
        self.assertIn("could not connect", err)


class Retries(Base):
    def test_503_twice_then_success(self):
        rc, out, err = self.ask("good", "!mode:fail-n=2 retry me", "-v")
        self.assertEqual((rc, out), (0, "Echo: !mode:fail-n=2 retry me\n"),
                         err)
        self.assertEqual(len(re.findall(r"HTTP 503; attempt \d in \d+ ms",
                                        err)), 2, err)
        self.assertIn("3 attempts", err)

    def test_429_waits_as_the_server_asks(self):
        t0 = time.time()
        rc, out, err = self.ask("good", "!mode:fail-n=1,fail-code=429 wait",
                                "-v")
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"HTTP 429; attempt 2 in \d+ ms \(as the "
                              r"server asked\)")
        self.assertGreaterEqual(time.time() - t0, 0.9)

    def test_no_retry_when_disabled(self):
        rc, out, err = self.ask("good", "!mode:fail-n=1 once",
                                "--max-retries", "0", "-v")
        self.assertEqual(rc, 4)
        self.assertNotIn("attempt 2", err)

    def test_insufficient_quota_never_retried(self):
        t0 = time.time()
        rc, out, err = self.ask("good", "!mode:quota", "-v")
        self.assertEqual(rc, 4)
        self.assertIn("1 attempt,", err)
        self.assertLess(time.time() - t0, 2.0)

    def test_gives_up_after_max_retries(self):
        rc, out, err = self.ask("good", "!mode:fail-n=5 never", "-v",
                                "--max-retries", "1")
        self.assertEqual(rc, 4)
        self.assertIn("(after 2 attempts)", err)


class CliCertificates(Base):
    def test_wrong_host_refused(self):
        rc, out, err = self.ask("wronghost", "hi")
        self.assertEqual((rc, out), (3, ""))
        self.one_error_line(err, "TLS: certificate is for wrong.example, "
                                 "not localhost")

    def test_expired_refused(self):
        rc, out, err = self.ask("expired", "hi")
        self.assertEqual((rc, out), (3, ""))
        self.one_error_line(err, "TLS: certificate for localhost has expired")

    def test_not_yet_valid_refused(self):
        rc, out, err = self.ask("future", "hi")
        self.assertEqual((rc, out), (3, ""))
        self.one_error_line(err, "TLS: certificate for localhost is not yet "
                                 "valid (check the clock)")

    def test_self_signed_refused(self):
        rc, out, err = self.ask("selfsigned", "hi")
        self.assertEqual((rc, out), (3, ""))
        self.one_error_line(err, "TLS: certificate for localhost is "
                                 "self-signed")

    def test_unknown_ca_refused(self):
        rc, out, err = self.cli("--base-url", url("good"), "--ca",
                                os.path.join(CERTS, "otherca.pem"), "hi")
        self.assertEqual((rc, out), (3, ""))
        self.one_error_line(err, "TLS: certificate for localhost is signed "
                                 "by an unknown CA")

    def test_system_bundle_does_not_trust_test_ca(self):
        rc, out, err = self.cli("--base-url", url("good"), "hi")
        self.assertEqual(rc, 3)
        self.one_error_line(err, "TLS: certificate for localhost is signed "
                                 "by an unknown CA")


class TlsVersions(Base):
    def test_tls12(self):
        rc, out, err = self.ask("tls12", "twelve", "-v")
        self.assertEqual(rc, 0, err)
        self.assertIn("TLSv1.2", err)
        rc, out, err = self.ask("good", "twelve", "--tls-max", "1.2", "-v")
        self.assertEqual(rc, 0, err)
        self.assertIn("TLSv1.2", err)

    def test_tls13(self):
        rc, out, err = self.ask("tls13", "thirteen", "-v")
        if TLS13:
            self.assertEqual((rc, out), (0, "Echo: thirteen\n"), err)
            self.assertIn("TLSv1.3", err)
        else:
            # this mbedTLS cannot do 1.3: refused cleanly, as a TLS error
            self.assertEqual((rc, out), (3, ""))
            self.assertIn("TLS handshake failed", err)

    def test_tls13_preferred_when_both_offered(self):
        rc, out, err = self.ask("good", "default", "-v")
        self.assertEqual(rc, 0, err)
        self.assertIn("TLSv1.3" if TLS13 else "TLSv1.2", err)

    def test_openssl_s_server_tls13_only(self):
        openssl = shutil.which("openssl")
        self.assertIsNotNone(openssl)
        port = free_port()
        body = ('{"id":"chatcmpl-s","object":"chat.completion","model":"m",'
                '"choices":[{"index":0,"message":{"role":"assistant",'
                '"content":"from s_server"},"finish_reason":"stop"}]}')
        response = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                    % (len(body), body)).encode()
        srv = subprocess.Popen(
            [openssl, "s_server", "-accept", "127.0.0.1:%d" % port,
             "-tls1_3", "-cert", os.path.join(CERTS, "good.pem"), "-key",
             os.path.join(CERTS, "good.key"), "-naccept", "1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        def read_until(marker, timeout):
            got = b""
            end = time.time() + timeout
            while marker not in got and time.time() < end:
                r, _, _ = select.select([srv.stdout], [], [], 0.2)
                if r:
                    chunk = os.read(srv.stdout.fileno(), 65536)
                    if not chunk:
                        break
                    got += chunk
            return got

        try:
            # not wait_port(): with -naccept 1 a probe would be its one
            # connection. s_server prints ACCEPT once it listens.
            self.assertIn(b"ACCEPT", read_until(b"ACCEPT", 10))
            cli = subprocess.Popen(
                [CLI, "--base-url", "https://localhost:%d/v1" % port, "--ca",
                 os.path.join(CERTS, "ca.pem"), "--no-stream", "-v",
                 "--timeout-ms", "10000", "s_server"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=dict(os.environ, COMETAPI_KEY=KEY))
            if TLS13:
                got = read_until(b'"}]}', 10)
                self.assertIn(b"POST /v1/chat/completions HTTP/1.1", got)
                srv.stdin.write(response)
                srv.stdin.flush()
            out, err = cli.communicate(timeout=20)
            self.assertNotIn(KEY.encode(), out + err)
            if TLS13:
                self.assertEqual((cli.returncode, out), (0, b"from s_server\n"),
                                 err)
                self.assertIn(b"TLSv1.3", err)
            else:
                self.assertEqual(cli.returncode, 3, err)
        finally:
            srv.kill()
            srv.communicate()


class ThroughNginx(Base):
    def setUp(self):
        if "nginx" not in PORTS:
            if IN_CI:
                self.fail("nginx is not installed")
            self.skipTest("nginx is not installed")

    def test_streamed_through_nginx(self):
        rc, out, err = self.ask("nginx", "through the proxy we go", "-v")
        self.assertEqual((rc, out), (0, "Echo: through the proxy we go\n"),
                         err)

    def test_non_streamed_through_nginx(self):
        rc, out, err = self.ask("nginx", "whole via nginx", "--no-stream")
        self.assertEqual((rc, out), (0, "Echo: whole via nginx\n"), err)

    def test_errors_through_nginx(self):
        rc, out, err = self.ask("nginx", "!mode:429")
        self.assertEqual(rc, 4)
        self.one_error_line(err, "HTTP 429 rate_limit_exceeded")

    def test_library_through_nginx(self):
        r = self.lib("nginx", "stream", "lib via nginx")
        self.assertEqual(r["rc"], "0")
        self.assertEqual(r["content"], "Echo: lib via nginx")


class Diagnostics(Base):
    """Errors whose cause is known say it; answers of real shapes work."""

    def test_tool_calls_exit_7_and_name_the_tools(self):
        for extra in ((), ("--no-stream",)):
            with self.subTest(extra=extra):
                rc, out, err = self.ask("good", "!mode:tool-call go", *extra)
                self.assertEqual((rc, out), (7, ""), err)
                self.one_error_line(err, "the model called 2 tools instead "
                                         "of answering: set_led, "
                                         "read_temperature")

    def test_answer_with_ten_url_citations(self):
        for extra in ((), ("--no-stream",)):
            with self.subTest(extra=extra):
                rc, out, err = self.ask("good", "!mode:citations=10 cite",
                                        *extra)
                self.assertEqual((rc, out, err),
                                 (0, "Echo: !mode:citations=10 cite\n", ""))

    def test_html_page_says_content_type_and_first_bytes(self):
        for extra in ((), ("--no-stream",)):
            with self.subTest(extra=extra):
                rc, out, err = self.ask("good", "!mode:html x", *extra)
                self.assertEqual(rc, 5, err)
                line = self.one_error_line(err, "malformed response: the "
                                                "body (Content-Type text/html")
                self.assertIn('"<!DOCTYPE html>\\x0a<html><head><title>',
                              line)

    def test_two_choices_only_choice_0_is_printed(self):
        for extra in ((), ("--no-stream",)):
            with self.subTest(extra=extra):
                rc, out, err = self.ask("good", "!mode:two-choices a b",
                                        *extra)
                self.assertEqual((rc, out, err),
                                 (0, "Echo: !mode:two-choices a b\n", ""))

    def test_scheme_is_case_insensitive(self):
        rc, out, err = self.cli("--base-url", "HTTPS://localhost:%d/v1" %
                                PORTS["good"], "--ca",
                                os.path.join(CERTS, "ca.pem"), "upper")
        self.assertEqual((rc, out), (0, "Echo: upper\n"), err)

    def test_bad_base_url_says_why_on_one_line(self):
        cases = [
            ("ftp://x/v1", "the URL must start with https:// or http:// "
                           "(at byte 0)"),
            ("https:///v1", "the host name is missing (at byte 8)"),
            ("https://h:99999/v1", "the port must be a number from 1 to "
                                   "65535 (at byte 10)"),
            ("https://u:p@h/v1", "user:password@ is not taken"),
            ("https://h/v1\r\nX: y", "the path has a space, a control "
                                     "character"),
        ]
        for base, why in cases:
            with self.subTest(base=base):
                rc, out, err = self.cli("--base-url", base, "hi")
                self.assertEqual(rc, 1, err)
                line = self.one_error_line(err, "bad --base-url ")
                self.assertIn(why, line)
        self.assertIn("https://h/v1\\x0d\\x0aX: y", line)  # escaped

    def test_missing_ca_file_names_the_path(self):
        missing = os.path.join(TMP, "no-such-ca.pem")
        rc, out, err = self.cli("--base-url", url("good"), "--ca", missing,
                                "hi")
        self.assertEqual(rc, 1, err)
        self.one_error_line(err, "TLS: cannot read the trust anchors file "
                                 "%s (missing or unreadable)" % missing)

    def test_client_certificate_requirement_is_named(self):
        versions = [("1.2", "1.2")] + ([("1.3", "1.3")] if TLS13 else [])
        for lo, hi in versions:
            with self.subTest(tls=hi):
                rc, out, err = self.ask("clientcert", "hi", "--tls-min", lo,
                                        "--tls-max", hi)
                self.assertEqual(rc, 3, err)
                # TLS 1.3 says it after the client's last flight, on the
                # first read
                line = self.one_error_line(err, "TLS ")
                self.assertIn("client certificate", line)
                self.assertNotIn("no TLS version or cipher in common", line)

    def test_reset_after_a_certificate_request_is_named(self):
        # the server asks for a client certificate and, given none,
        # resets the connection: no alert to read, and no retry will help
        versions = [("1.2", "1.2")] + ([("1.3", "1.3")] if TLS13 else [])
        for lo, hi in versions:
            with self.subTest(tls=hi):
                rc, out, err = self.ask("certreset", "hi", "--tls-min", lo,
                                        "--tls-max", hi)
                self.assertEqual(rc, 3, err)
                line = self.one_error_line(err, "TLS ")
                self.assertIn("closed the connection after the handshake, "
                              "before any answer: it had asked for a client "
                              "certificate", line)
                self.assertNotIn("attempts", line)

    def test_tls13_only_server_says_versions_do_not_meet(self):
        # this build's highest version (or TLS 1.2, asked for) against a
        # server that takes only TLS 1.3
        rc, out, err = self.ask("tls13", "hi", "--tls-max", "1.2")
        self.assertEqual(rc, 3, err)
        line = self.one_error_line(err, "TLS handshake failed: the server "
                                        "sent alert protocol_version (70): "
                                        "it accepts none of the TLS "
                                        "versions offered")
        if not TLS13:
            self.assertIn("this build has TLS 1.2 only", line)

    def test_wrong_scheme_for_the_port_gets_a_hint(self):
        rc, out, err = self.cli("--base-url", url("good", "http"), "hi",
                                "--max-retries", "0")
        self.assertIn(rc, (2, 5), err)
        line = self.one_error_line(err, "")
        self.assertIn("https://", line)
        rc, out, err = self.ask("plain", "hi", scheme="https")
        self.assertEqual(rc, 3, err)
        self.one_error_line(err, "TLS handshake failed: the server answered "
                                 "in plain HTTP: use an http:// URL")

    def test_key_or_model_with_stray_bytes_is_a_usage_error(self):
        rc, out, err = self.cli("--base-url", url("good"), "hi",
                                key=KEY + "\r")
        self.assertEqual((rc, out), (1, ""), err)
        self.one_error_line(err, "bad COMETAPI_KEY: it has a carriage "
                                 "return (\\r) at its end (byte %d of %d): "
                                 "read from a file with a line end? remove "
                                 "it" % (len(KEY), len(KEY) + 1))
        rc, out, err = self.cli("--base-url", url("good"), "hi",
                                key=KEY + " ")
        self.assertEqual(rc, 1, err)
        self.one_error_line(err, "bad COMETAPI_KEY: it has a space at its end")
        rc, out, err = self.ask("good", "hi", "--model", "gpt-4-0314 ")
        self.assertEqual(rc, 1, err)
        self.one_error_line(err, "bad --model: it has a space at its end")
        rc, out, err = self.ask("good", "hi", "--model", "gpt\x01x")
        self.assertEqual(rc, 1, err)
        self.one_error_line(err, "bad --model: it has a control character")

    def test_ip_literal_is_verified_but_not_sent_as_sni(self):
        rc, out, err = self.cli("--base-url", "https://127.0.0.1:%d/v1" %
                                PORTS["good"], "--ca",
                                os.path.join(CERTS, "ca.pem"), "-v", "by ip")
        self.assertEqual((rc, out), (0, "Echo: by ip\n"), err)
        rid = re.search(r"request id (req_[0-9a-f]+)", err).group(1)
        time.sleep(0.2)
        self.assertEqual(server_logged(rid, "sni"), "-")
        # a name is sent
        rc, out, err = self.ask("good", "by name", "-v")
        rid = re.search(r"request id (req_[0-9a-f]+)", err).group(1)
        time.sleep(0.2)
        self.assertEqual(server_logged(rid, "sni"), "localhost")
        # and an address the certificate does not hold is refused
        rc, out, err = self.cli("--base-url", "https://127.0.0.1:%d/v1" %
                                PORTS["wronghost"], "--ca",
                                os.path.join(CERTS, "ca.pem"), "hi")
        self.assertEqual(rc, 3, err)
        self.one_error_line(err, "TLS: certificate is for wrong.example, "
                                 "not 127.0.0.1")

    def test_prompt_of_exactly_one_mib(self):
        for size, rc_want in ((1048575, 0), (1048576, 0), (1048577, 1)):
            with self.subTest(size=size):
                prompt = ("a " * (size // 2 + 1))[:size]
                rc, out, err = self.cli("--base-url", url("good"), "--ca",
                                        os.path.join(CERTS, "ca.pem"),
                                        "--max-tokens", "3", "-",
                                        stdin=prompt.encode())
                self.assertEqual(rc, rc_want, err)
                if rc_want:
                    self.one_error_line(err, "the prompt on standard input "
                                             "is over 1048576 bytes")
                else:
                    self.assertEqual(out, "Echo: a a\n")

    def test_verbose_without_usage_and_through_a_proxy(self):
        rc, out, err = self.ask("good", "!mode:no-usage hi", "-v")
        self.assertEqual(rc, 0, err)
        self.assertIn(", usage not reported, ", err)
        self.assertNotIn("-1", err)
        if "proxy" in PORTS:
            rc, out, err = self.ask("good", "hi", "-v", "--proxy",
                                    "http://127.0.0.1:%d" % PORTS["proxy"])
            self.assertEqual(rc, 0, err)
            self.assertIn(", via proxy 127.0.0.1:%d, " % PORTS["proxy"], err)


class Conversations(Base):
    def multiturn(self, server, *args):
        env = dict(os.environ, COMETAPI_KEY=KEY,
                   CHATWIRE_BASE_URL=url(server),
                   CHATWIRE_CA=os.path.join(CERTS, "ca.pem"))
        p = subprocess.run([os.path.join(BUILD, "multiturn")] + list(args),
                           env=env, capture_output=True, timeout=60)
        out = p.stdout.decode()
        self.assertNotIn(KEY, out + p.stderr.decode())
        return p.returncode, out, p.stderr.decode()

    def test_answers_go_into_the_next_turn_with_a_429_between(self):
        # the second turn meets a 429 (its retry succeeds); the third sees
        # the whole conversation: system, 3 prompts and 2 answers. One
        # server each: fail-n counts requests for the server's lifetime.
        for server, stream in (("turns", ()), ("turns_s", ("--stream",))):
            with self.subTest(stream=stream):
                rc, out, err = self.multiturn(
                    server, *stream, "Hello",
                    "!mode:fail-n=1,fail-code=429 more",
                    "!mode:count thanks")
                self.assertEqual(rc, 0, out + err)
                self.assertIn("Echo: Hello\n[turn 1: success, 1 attempt, "
                              "3 messages]", out)
                self.assertIn("[turn 2: success, 2 attempts, 5 messages]",
                              out)
                self.assertIn("Echo: !mode:count thanks (6 messages)\n"
                              "[turn 3: success, 1 attempt, 7 messages]",
                              out)


TOOLS_JSON = json.dumps([
    {"type": "function", "function": {
        "name": "set_led", "description": "Switch the \"LED\" on or off",
        "parameters": {"type": "object", "properties": {
            "on": {"type": "boolean"}}, "required": ["on"]},
        "strict": True}},
    {"type": "function", "function": {
        "name": "read_temperature",
        "parameters": {"type": "object", "properties": {
            "unit": {"type": "string"}}}}}])
# a tool command: its name and call id from the environment, the
# arguments from standard input, all in its answer
RUN_TOOL = ('printf \'{"tool":"%s","id":"%s","args":%s}\' '
            '"$CHATWIRE_TOOL_NAME" "$CHATWIRE_TOOL_CALL_ID" "$(cat)"')
SHAPES = ("openai", "interleaved", "qwen", "ollama", "gemini", "mistral",
          "glm", "kimi", "deepseek")


class ToolsAndParts(Base):
    @classmethod
    def setUpClass(cls):
        cls.tools = os.path.join(TMP, "tools.json")
        with open(cls.tools, "w") as f:
            f.write(TOOLS_JSON)

    def round_trip(self, shape, *extra):
        return self.ask("good", "!mode:tools=%s LED on; how warm?" % shape,
                        "--tools", self.tools, "--tool-exec", RUN_TOOL,
                        *extra)

    def test_a_tool_round_trip_in_every_shape_streamed_and_not(self):
        for shape in SHAPES:
            for stream in ((), ("--no-stream",)):
                with self.subTest(shape=shape, stream=stream):
                    rc, out, err = self.round_trip(shape, *stream)
                    self.assertEqual(rc, 0, err)
                    m = re.fullmatch(
                        r'Done: set_led -> \{"tool":"set_led","id":"([^"]+)",'
                        r'"args":\{"on": ?true\}\}; read_temperature -> '
                        r'\{"tool":"read_temperature","id":"([^"]+)",'
                        r'"args":\{"unit": ?"C"\}\}\n', out)
                    self.assertIsNotNone(m, out)
                    self.assertNotEqual(m.group(1), m.group(2))
                    self.assertEqual(err, "")

    def test_calls_without_tool_exec_exit_7_with_the_calls_in_json(self):
        for shape, args in (("openai", '{"on": true}'),
                            ("glm", '{"on":true}')):
            with self.subTest(shape=shape):
                rc, out, err = self.ask(
                    "good", "!mode:tools=%s go" % shape, "--tools",
                    self.tools, "--output", "json")
                self.assertEqual(rc, 7, err)
                doc = json.loads(out)  # exactly one object
                self.assertEqual(out.count("\n"), 1)
                self.assertEqual([c["name"] for c in doc["tool_calls"]],
                                 ["set_led", "read_temperature"])
                self.assertEqual(doc["tool_calls"][0]["arguments"], args)
                self.assertEqual(doc["tool_calls"][0]["type"], "function")
                self.assertEqual(doc["finish_reason"], "tool_calls")
                self.assertIsNone(doc["content"])
                self.assertIsNone(doc["error"])
                self.assertEqual(doc["http_status"], 200)
                self.one_error_line(err, "the model called 2 tools instead "
                                         "of answering: set_led, "
                                         "read_temperature (give "
                                         "--tool-exec CMD to run them)")

    def test_json_output_on_an_api_error_says_it_and_keeps_the_code(self):
        rc, out, err = self.ask("good", "!mode:429 hi", "--output", "json",
                                "--max-retries", "0")
        self.assertEqual(rc, 4, err)
        doc = json.loads(out)
        self.assertEqual(doc["http_status"], 429)
        self.assertEqual(doc["error"]["code"], "rate_limit_exceeded")
        self.assertIsNone(doc["content"])
        self.assertEqual(doc["tool_calls"], [])
        self.assertIsNone(doc["usage"])

    def test_json_output_of_a_text_answer_with_reasoning(self):
        for shape in ("deepseek", "openrouter", "groq"):
            for stream in ((), ("--no-stream",)):
                with self.subTest(shape=shape, stream=stream):
                    rc, out, err = self.ask(
                        "good", "!mode:reasoning=%s hi" % shape, "--output",
                        "json", *stream)
                    self.assertEqual(rc, 0, err)
                    doc = json.loads(out)
                    self.assertEqual(doc["content"],
                                     "Echo: !mode:reasoning=%s hi" % shape)
                    self.assertEqual(doc["reasoning"],
                                     "The user wants an echo.")
                    self.assertEqual(doc["finish_reason"], "stop")
                    self.assertEqual(doc["usage"]["reasoning_tokens"], 5)

    def test_show_reasoning_goes_to_stderr_and_never_into_the_answer(self):
        rc, out, err = self.ask("good", "!mode:reasoning=deepseek hi",
                                "--show-reasoning")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "Echo: !mode:reasoning=deepseek hi\n")
        self.assertEqual(err, "The user wants an echo.")

    def test_arguments_over_the_storage_say_how_much_they_need(self):
        rc, out, err = self.ask("good", "!mode:tools=openai,tools-args=300000 "
                                "go", "--tools", self.tools, "--tool-exec",
                                RUN_TOOL)
        self.assertEqual(rc, 5, err)
        self.one_error_line(err, "the tool calls' arguments need 600002 "
                                 "bytes (with a NUL each), more than "
                                 "tool_args_size (262144)")

    def test_a_3_mb_image_streams_from_the_file_in_fixed_memory(self):
        # the server hashes what it decoded; the CLI's peak memory (the
        # kernel's VmHWM, which -v reports) does not grow with the image
        peak = {}
        for name, size in (("small", 3000), ("big", 3 * 1000 * 1000)):
            path = os.path.join(TMP, name + ".jpg")
            data = os.urandom(size)
            with open(path, "wb") as f:
                f.write(data)
            rc, out, err = self.ask("good", "What is on it?", "--image", path,
                                    "-v")
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, "Echo: What is on it? [image image/jpeg "
                             "%d bytes sha256:%s]\n"
                             % (size, hashlib.sha256(data).hexdigest()[:16]))
            m = re.search(r"peak resident memory (\d+) KiB", err)
            self.assertIsNotNone(m, err)
            peak[name] = int(m.group(1))
        # its base64 alone is 4 MB: any buffering of it would show
        self.assertLess(peak["big"] - peak["small"], 256, peak)

    def test_a_chat_on_standard_input_keeps_the_conversation(self):
        p = subprocess.run(
            [CLI, "--base-url", url("good"), "--ca",
             os.path.join(CERTS, "ca.pem"), "-i"],
            input=b"Hello\n\n!mode:count again\n", capture_output=True,
            env=dict(os.environ, COMETAPI_KEY=KEY), timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.decode(), "Echo: Hello\n"
                         "Echo: !mode:count again (3 messages)\n")

    def test_extra_headers_arrive_and_bad_ones_are_refused(self):
        rc, out, err = self.ask("good", "hi", "--header", "X-Title: chatwire "
                                "e2e", "--header", "x-test-echo-header: "
                                "X-Title")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "Echo: hi [X-Title: chatwire e2e]\n")
        rc, out, err = self.ask("good", "hi", "--header", "Host: evil")
        self.assertEqual((rc, out), (1, ""), err)
        self.one_error_line(err, "headers[0] is a header chatwire writes "
                                 "itself")

    def test_structured_output_schema_from_a_file(self):
        schema = os.path.join(TMP, "reading.json")
        with open(schema, "w") as f:
            json.dump({"type": "object", "properties": {
                "celsius": {"type": "number"}}, "required": ["celsius"]}, f)
        rc, out, err = self.ask("good", "hi", "--json-schema", schema,
                                "--seed", "-42", "--max-completion-tokens",
                                "100", "--reasoning-effort", "low")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "Echo: hi\n")
        bad = os.path.join(TMP, "bad.json")
        with open(bad, "w") as f:
            f.write('{"type": }')
        rc, out, err = self.ask("good", "hi", "--json-schema", bad)
        self.assertEqual((rc, out), (1, ""), err)
        self.one_error_line(err, "json_schema is not one well-formed JSON "
                                 "value: at byte 9")

    def test_the_tools_example_acts_on_the_model_s_calls(self):
        for shape in ("openai", "gemini", "kimi"):
            with self.subTest(shape=shape):
                env = dict(os.environ, COMETAPI_KEY=KEY,
                           CHATWIRE_BASE_URL=url("good"),
                           CHATWIRE_CA=os.path.join(CERTS, "ca.pem"))
                p = subprocess.run(
                    [os.path.join(BUILD, "tools"),
                     "!mode:tools=%s Turn the LED on" % shape],
                    env=env, capture_output=True, timeout=60)
                out = p.stdout.decode()
                self.assertEqual(p.returncode, 0, out + p.stderr.decode())
                self.assertIn('[set_led({"on": true}) -> {"led": "on"}]',
                              out.replace('{"on":true}', '{"on": true}'))
                self.assertIn("read_temperature(", out)
                self.assertIn('Done: set_led -> {"led": "on"}; '
                              'read_temperature -> {"celsius": 21.5}', out)
                self.assertTrue(out.endswith("[LED on]\n"), out)


def server_logged(request_id, field):
    """A field (tls=..., conn=...) of the test server's log line for a
    request: what the server saw of it."""
    for name in os.listdir(TMP):
        if name.endswith(".log"):
            with open(os.path.join(TMP, name), errors="replace") as f:
                for line in f:
                    if "request_id=%s " % request_id in line:
                        return re.search(r"\b%s=(\S+)" % field,
                                         line).group(1)
    return None


def server_tls_for(request_id):
    return server_logged(request_id, "tls")


def server_conn_for(request_id):
    return server_logged(request_id, "conn")


class Batch(Base):
    """--batch: many streamed chats in one thread over the step API."""

    def batch(self, lines, *extra, server="good"):
        path = os.path.join(TMP, "batch-%d.txt" % len(lines))
        with open(path, "w") as f:
            f.write("".join(l + "\n" for l in lines))
        t0 = time.monotonic()
        rc, out, err = self.cli("--base-url", url(server), "--ca",
                                os.path.join(CERTS, "ca.pem"), "--batch",
                                path, *extra)
        took = time.monotonic() - t0
        rows = [json.loads(l) for l in out.splitlines()]
        return rc, rows, err, took

    def test_eight_paced_chats_run_at_once_in_one_thread(self):
        # each answer comes in ten events 100 ms apart: about 1 s a chat,
        # 8 s one after the other
        prompts = ["!mode:pace=100 chat %d one two three four five six" % i
                   for i in range(8)]
        rc, rows, err, took = self.batch(prompts, "--concurrency", "8")
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["index"] for r in rows], list(range(8)))
        for i, r in enumerate(rows):
            self.assertEqual(r["content"], "Echo: " + prompts[i])
            self.assertEqual(r["finish_reason"], "stop")
            self.assertIsNone(r["error"])
            self.assertIsNone(r["status"])
            self.assertGreater(r["usage"]["total_tokens"], 0)
        self.assertLess(took, 2.5, "8 paced chats took %.2f s" % took)

    def test_more_prompts_than_connections_keep_their_order(self):
        # later prompts answer faster: the lines still come in file order
        prompts = ["!mode:pace=%d p%d" % (60 - 5 * i, i) for i in range(10)]
        rc, rows, err, took = self.batch(prompts, "--concurrency", "3")
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["content"] for r in rows],
                         ["Echo: " + p for p in prompts])

    def test_failures_are_lines_with_their_cause(self):
        prompts = ["fine", "!mode:401 denied", "!mode:fail-n=1,fail-code=500"
                   " retried", "!mode:stream-error broken", "also fine"]
        rc, rows, err, took = self.batch(prompts, "--concurrency", "2",
                                         "--max-retries", "1")
        self.assertEqual(rc, 8, err)
        self.assertEqual(len(rows), 5)
        self.assertEqual(rows[0]["content"], "Echo: fine")
        self.assertIsNone(rows[0]["status"])
        self.assertEqual(rows[1]["http_status"], 401)
        self.assertIsNotNone(rows[1]["error"])
        self.assertIsNotNone(rows[1]["status"])
        self.assertEqual(rows[2]["content"],
                         "Echo: !mode:fail-n=1,fail-code=500 retried")
        self.assertIsNotNone(rows[3]["status"])
        self.assertIsNotNone(rows[3]["error"])
        self.assertEqual(rows[4]["content"], "Echo: also fine")

    def test_plain_http_and_a_refused_connection(self):
        # https:// to a plain HTTP port: that chat fails, and says so
        rc, rows, err, _ = self.batch(["over plain http"], server="plain")
        self.assertEqual(rc, 8, err)
        self.assertEqual(rows[0]["status"], "TLS error")
        self.assertTrue(rows[0]["detail"], rows[0])
        path = os.path.join(TMP, "batch-plain.txt")
        with open(path, "w") as f:
            f.write("a\nb\n")
        rc, out, err = self.cli("--base-url", url("plain", "http"),
                                "--batch", path)
        rows = [json.loads(l) for l in out.splitlines()]
        self.assertEqual((rc, [r["content"] for r in rows]),
                         (0, ["Echo: a", "Echo: b"]), err)
        rc, out, err = self.cli("--base-url", "http://127.0.0.1:1/v1",
                                "--batch", path, "--max-retries", "0")
        rows = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(rc, 8, err)
        self.assertEqual(len(rows), 2)
        self.assertTrue(all(r["status"] and r["content"] is None and
                            "refused" in r["detail"] for r in rows), rows)

    def test_the_step_loop_example(self):
        env = dict(os.environ, COMETAPI_KEY=KEY,
                   CHATWIRE_BASE_URL=url("good"),
                   CHATWIRE_CA=os.path.join(CERTS, "ca.pem"))
        prompts = ["!mode:pace=100 first of three chats",
                   "!mode:pace=100 second one",
                   "!mode:pace=100,fail-n=1,fail-code=503 third, retried"]
        t0 = time.monotonic()
        p = subprocess.run([os.path.join(BUILD, "steploop")] + prompts,
                           capture_output=True, env=env, timeout=60)
        took = time.monotonic() - t0
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(out.splitlines()),
                         ["%d: Echo: %s" % (i, t)
                          for i, t in enumerate(prompts)])
        # one after the other they take 3 x 0.5 s and more
        self.assertLess(took, 1.4, "the three chats took %.2f s" % took)
        self.assertNotIn(KEY, out)

    def test_through_a_proxy_connect_included(self):
        if "proxy" not in PORTS:
            if IN_CI:
                self.fail("tinyproxy is not installed")
            self.skipTest("tinyproxy is not installed")
        prompts = ["!mode:pace=50 via the proxy %d" % i for i in range(3)]
        rc, rows, err, _ = self.batch(
            prompts, "--concurrency", "3", "--proxy",
            "http://127.0.0.1:%d" % PORTS["proxy"])
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["content"] for r in rows],
                         ["Echo: " + p for p in prompts])
        with open(os.path.join(TMP, "proxy.log")) as f:
            self.assertIn("CONNECT localhost:%d" % PORTS["good"], f.read())
        rc, rows, err, _ = self.batch(
            ["refused"], "--proxy",
            "http://127.0.0.1:%d" % PORTS["authproxy"])
        self.assertEqual(rc, 8, err)
        self.assertIn("requires authentication (407)", rows[0]["detail"])

    def test_bad_batch_use_is_a_usage_error(self):
        path = os.path.join(TMP, "batch-nul.txt")
        with open(path, "wb") as f:
            f.write(b"fine\nbad\x00line\n")
        rc, out, err = self.cli("--base-url", url("good"), "--batch", path)
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("line 2", err)
        rc, out, err = self.cli("--batch", path, "a prompt")
        self.assertEqual(rc, 1)
        rc, out, err = self.cli("--concurrency", "2", "a prompt")
        self.assertEqual(rc, 1)
        self.assertIn("--batch", err)
        rc, out, err = self.cli("--batch", os.path.join(TMP, "no-such"))
        self.assertEqual(rc, 1)
        self.assertIn("no-such", err)


class Resumption(Base):
    def check_resumed(self, *tls):
        r = self.lib("good", "twice", "resume me", *tls)
        self.assertEqual((r["first_rc"], r["rc"]), ("0", "0"), r)
        self.assertEqual(r["first_resumed"], "0", r)
        self.assertEqual(r["resumed"], "1", r)  # mbedTLS: no certificate
        time.sleep(0.2)  # let the server write its log line
        self.assertNotIn("/resumed", server_tls_for(r["first_request_id"]))
        self.assertIn("/resumed", server_tls_for(r["request_id"]))  # agreed
        return r

    def test_tls12_session_resumed(self):
        r = self.check_resumed("2", "2")
        self.assertEqual(r["tls_version"], "TLSv1.2")

    def test_tls13_ticket_resumed(self):
        if not TLS13:
            # a build without TLS 1.3 says so when asked for it
            rc, out, err = self.ask("good", "hi", "--tls-min", "1.3")
            self.assertEqual(rc, 1, err)
            self.one_error_line(err, "TLS: this mbedTLS build")
            return
        r = self.check_resumed("3", "3")
        self.assertEqual(r["tls_version"], "TLSv1.3")


class SessionFile(Base):
    """--tls-session FILE: the TLS session kept across runs (as a device
    keeps it across a reboot), and every way a kept session can go wrong
    falls back to a full handshake and says why."""

    def run_with(self, path, server="good", *extra):
        rc, out, err = self.ask(server, "keep my session", "-v",
                                "--tls-session", path, *extra)
        self.assertEqual(rc, 0, err)
        note = re.search(r"TLS session \([^)]*\): (.*)", err).group(1)
        resumed = " resumed, " in err
        return note, resumed, err

    def versions(self):
        return [("1.2",)] + ([("1.3",)] if TLS13 else [])

    def test_second_run_resumes_and_file_is_private(self):
        for (v,) in self.versions():
            with self.subTest(tls=v):
                path = os.path.join(TMP, "sess-%s" % v)
                if os.path.exists(path):
                    os.unlink(path)
                note, resumed, err = self.run_with(path, "good", "--tls-max",
                                                   v)
                self.assertEqual((note, resumed), ("no saved session", False))
                self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
                rid1 = re.search(r"request id (req_\w+)", err).group(1)
                note, resumed, err = self.run_with(path, "good", "--tls-max",
                                                   v)
                self.assertEqual((note, resumed), ("resumed", True), err)
                rid2 = re.search(r"request id (req_\w+)", err).group(1)
                time.sleep(0.2)
                self.assertNotIn("/resumed", server_tls_for(rid1))
                self.assertIn("/resumed", server_tls_for(rid2))  # agreed
                with open(path, "rb") as f:
                    self.assertNotIn(KEY.encode(), f.read())

    def make_session(self, name, server="good"):
        path = os.path.join(TMP, name)
        if os.path.exists(path):
            os.unlink(path)
        self.run_with(path, server)
        with open(path, "rb") as f:
            return path, bytearray(f.read())

    @staticmethod
    def rewrite(path, blob):
        import hashlib
        blob[-32:] = hashlib.sha256(bytes(blob[:-32])).digest()
        with open(path, "wb") as f:
            f.write(blob)

    def test_damaged_foreign_expired_and_open_files(self):
        # damaged: one bit flipped
        path, blob = self.make_session("sess-damaged")
        blob[40] ^= 1
        with open(path, "wb") as f:
            f.write(blob)
        note, resumed, _ = self.run_with(path)
        self.assertFalse(resumed)
        self.assertIn("damaged (its checksum does not match)", note)
        # foreign: a session made for 127.0.0.1, offered to localhost
        path = os.path.join(TMP, "sess-foreign")
        if os.path.exists(path):
            os.unlink(path)
        rc, out, err = self.cli("--base-url", "https://127.0.0.1:%d/v1" %
                                PORTS["good"], "--ca",
                                os.path.join(CERTS, "ca.pem"),
                                "--tls-session", path, "hi")
        self.assertEqual(rc, 0, err)
        note, resumed, _ = self.run_with(path)
        self.assertEqual((note, resumed),
                         ("the saved session is for another host", False))
        # expired: saved two days ago (checksum made right again)
        path, blob = self.make_session("sess-expired")
        saved = int.from_bytes(blob[12:20], "little")
        blob[12:20] = (saved - 2 * 86400).to_bytes(8, "little")
        self.rewrite(path, blob)
        note, resumed, _ = self.run_with(path)
        self.assertFalse(resumed)
        self.assertIn("has expired", note)
        # not a session at all
        with open(path, "wb") as f:
            f.write(b"hello")
        note, resumed, _ = self.run_with(path)
        self.assertIn("not a chatwire TLS session", note)
        # readable by others: refused, the keys are not used
        os.chmod(path, 0o644)
        rc, out, err = self.ask("good", "hi", "--tls-session", path)
        self.assertEqual((rc, out), (1, ""))
        self.one_error_line(err, "the TLS session file %s holds session "
                                 "keys" % path)

    def test_session_the_server_forgot_falls_back(self):
        # a server restarted since: its ticket keys and cache are new
        name = "forgetful"
        start_server(name, *tls_args("good"))
        for (v,) in self.versions():
            with self.subTest(tls=v):
                path = os.path.join(TMP, "sess-forgot-" + v)
                if os.path.exists(path):
                    os.unlink(path)
                self.ask(name, "one", "--tls-session", path, "--tls-max", v)
                self.assertTrue(os.path.exists(path))
                proc = PROCS.pop()
                proc.terminate()
                proc.wait(timeout=5)
                start_server(name, *tls_args("good"), port=PORTS[name])
                note, resumed, err = self.run_with(path, name, "--tls-max",
                                                   v)
                self.assertFalse(resumed, err)
                self.assertIn("declined the saved session", note)


class KeepAlive(Base):
    def test_second_request_reuses_the_connection(self):
        r = self.lib("good", "again", "reuse")
        self.assertEqual((r["first_rc"], r["rc"]), ("0", "0"), r)
        self.assertEqual(r["reused_connection"], "1", r)
        time.sleep(0.2)
        self.assertEqual(server_conn_for(r["first_request_id"]),
                         server_conn_for(r["request_id"]))

    def test_connection_closed_by_idle_server_is_replaced(self):
        # this server closes kept connections after 300 ms of quiet
        os.environ["CW_E2E_PAUSE_MS"] = "800"
        try:
            r = self.lib("idle", "again", "stale")
        finally:
            del os.environ["CW_E2E_PAUSE_MS"]
        self.assertEqual((r["first_rc"], r["rc"]), ("0", "0"), r)
        self.assertEqual(r["content"], "Echo: stale")
        self.assertEqual(r["stale_reconnect"], "1", r)
        self.assertEqual(r["reused_connection"], "0", r)
        time.sleep(0.2)
        self.assertNotEqual(server_conn_for(r["first_request_id"]),
                            server_conn_for(r["request_id"]))


class Soak(Base):
    # the soak binary counts the heap by interposing malloc, which the
    # sanitizers own: it is not built (nor this test run) with them
    def test_1000_requests_keep_alive_reconnects_heap_flat(self):
        soak = os.path.join(BUILD, "tests", "soak")
        env = dict(os.environ, COMETAPI_KEY=KEY)
        t0 = time.time()
        p = subprocess.run([soak, url("good"), os.path.join(CERTS, "ca.pem"),
                            "1000"], capture_output=True, env=env,
                           timeout=300)
        r = dict(line.split("=", 1) for line in
                 p.stdout.decode().splitlines() if "=" in line)
        self.assertEqual(p.returncode, 0, p.stdout.decode() +
                         p.stderr.decode()[-2000:])
        self.assertEqual(r["failures"], "0")
        # answers 50, 100, ... 1000 close the connection: 1 + 19 handshakes
        self.assertEqual(r["handshakes"], "20")
        self.assertEqual(r["resumed"], "19")      # every reconnect resumed
        self.assertEqual(r["reused"], str(1000 - 20))
        # the high-water mark was reached in the first 100 requests
        self.assertEqual(r["peak_end"], r["peak_after_100"])
        print("\nsoak: %s in %.1f s" % (r, time.time() - t0))


class ReadmeExample(Base):
    def test_hello_example_streams_an_answer(self):
        env = dict(os.environ, COMETAPI_KEY=KEY,
                   CHATWIRE_BASE_URL=url("good"),
                   CHATWIRE_CA=os.path.join(CERTS, "ca.pem"))
        p = subprocess.run([os.path.join(BUILD, "hello")], env=env,
                           capture_output=True, timeout=60)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        self.assertTrue(out.startswith(
            "Echo: Explain snapshot model versions in APIs.\n[success, "
            "HTTP 200"), out)
        self.assertNotIn(KEY, out)


class Library(Base):
    def test_streamed(self):
        r = self.lib("good", "stream", "library streaming test")
        self.assertEqual(r["rc"], "0", r)
        self.assertEqual(r["content"], "Echo: library streaming test")
        self.assertEqual(r["done"], "1")
        self.assertEqual(r["finish"], "stop")
        self.assertRegex(r["usage"], r"^\d+/\d+/\d+$")
        self.assertGreater(int(r["delta_calls"]), 1)

    def test_non_streamed(self):
        r = self.lib("good", "nostream", "library whole test")
        self.assertEqual((r["rc"], r["status"]), ("0", "200"), r)
        self.assertEqual(r["content"], "Echo: library whole test")
        self.assertRegex(r["request_id"], r"^req_[0-9a-f]+$")

    def test_request_leaves_in_one_record(self):
        # a typical request fits the 2 KiB io buffer: one TLS write, one
        # record, one send() -- not one per header line
        for mode in ("stream", "nostream"):
            r = self.lib("good", mode, "how many records?")
            self.assertEqual(r["rc"], "0", r)
            self.assertEqual(r["client_sends"], "1", r)
            self.assertEqual(r["request_socket_sends"], "1", r)

    def test_errors_keep_details(self):
        r = self.lib("good", "nostream", "!mode:429")
        self.assertEqual(r["rc"], "-12")
        self.assertEqual(r["status"], "429")
        self.assertEqual(r["error_code"], "rate_limit_exceeded")
        self.assertEqual(r["retry_after"], "1")
        self.assertEqual(r["retry_after_ms"], "1000")

    def test_certificate_refusal_status(self):
        r = self.lib("expired", "stream", "hi")
        self.assertEqual(r["rc"], "-10")  # CW_ERR_CERT
        self.assertIn("expired", r["tls_error"])

    def test_tls_versions(self):
        r = self.lib("good", "stream", "v12", "2", "2")
        self.assertEqual((r["rc"], r["tls_version"]), ("0", "TLSv1.2"), r)
        if TLS13:
            r = self.lib("good", "stream", "v13", "3", "3")
            self.assertEqual((r["rc"], r["tls_version"]), ("0", "TLSv1.3"), r)


if not os.path.exists(os.path.join(BUILD, "tests", "soak")):
    del Soak


if __name__ == "__main__":
    prog = unittest.main(verbosity=2, exit=False)
    skipped = len(prog.result.skipped)
    if IN_CI and skipped:
        # in CI every tool is installed: a skip means a test did not run
        print("e2e: %d tests were skipped, which CI does not accept"
              % skipped, file=sys.stderr)
        sys.exit(1)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
