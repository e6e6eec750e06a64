#!/usr/bin/env python3
"""chat_server.py - a local OpenAI-compatible Chat Completions test server.

Used by the chatwire end-to-end tests and by the README demo.  Python 3
standard library only (http.server + ssl).  See README.md next to this file
for the list of test modes.

    python3 tests/server/chat_server.py --port 0 --port-file /tmp/port \
        [--tls-cert good.pem --tls-key good.key] [--key test-key] [--quiet]

Behaviour in one paragraph: POST /v1/chat/completions (or any path ending in
/chat/completions) checks the API key, validates the request strictly, and
answers "Echo: <last user message>" either as one chat.completion object or as
a stream of chat.completion.chunk server-sent events (one word per event).  A
last user message starting with "!mode:<name>[,<name>...]" (or a request header
"x-test-mode: <name>[,...]") selects an error or transport behaviour such as
429, chunked encoding, pacing, dropped connections, or a stalled stream;
"tools=<shape>" and "reasoning=<shape>" answer with tool calls or
reasoning in the wire shapes of real servers (OpenAI, Qwen, Ollama, Gemini,
Mistral, GLM, Kimi, DeepSeek, OpenRouter, Groq).

The API key is never written anywhere in full (logs, bodies, headers); error
messages show a masked form such as "te***ey".
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import string
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

DEFAULT_MODELS = ("gpt-4-0314", "gpt-4o-mini", "test-model")
SYSTEM_FINGERPRINT = "fp_c7a1e5f00d"
VALID_ROLES = ("system", "user", "assistant", "developer", "tool")
MAX_BODY_BYTES = 16 * 1024 * 1024   # a 3 MB image fits (4 MB of base64)
MAX_BIG_BYTES = 64 * 1024 * 1024
LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
         "eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim "
         "ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut "
         "aliquip ex ea commodo consequat. ")
REFUSAL_TEXT = "I'm sorry, I can't help with that."
# Sizes used (cyclically) for the body pieces of the "chunked" mode: a 1-byte
# chunk, sizes whose hex form has letters (0x11, 0xFF) and a larger one.
CHUNK_PATTERN = (5, 1, 17, 64, 255, 4096)

# Known test modes and the kind of argument each takes:
#   None  - a flag, no "=value" allowed
#   "int" - "=N" required (non-negative integer)
#   "opt" - "=N" optional
#   "str" - "=NAME" required, one of MODE_VALUES[name]
MODES = {
    "401": None, "404": None, "429": None, "quota": None, "500": None,
    "503": None, "stream-error": None, "drop": None, "drop-rst": None,
    "fail-n": "int", "fail-code": "int", "close": None, "slow-headers": "int",
    "stall": "opt", "refusal": None, "llamacpp-error": None,
    "vllm-error": None, "big": "int", "chunked": None, "pace": "int",
    "fragment": "int", "coalesce": None, "sse-crlf": None,
    "sse-nospace": None, "sse-fields": None, "escape-unicode": None,
    "compact": None, "tool-call": None, "citations": "int", "html": None,
    "two-choices": None, "count": None, "no-usage": None,
    "tools": "str", "tools-args": "int", "reasoning": "str",
}

# The server shapes "tools=NAME" and "reasoning=NAME" imitate (see README).
TOOL_SHAPES = ("openai", "interleaved", "qwen", "ollama", "gemini",
               "mistral", "glm", "kimi", "deepseek")
REASONING_SHAPES = ("deepseek", "openrouter", "groq")
MODE_VALUES = {"tools": TOOL_SHAPES, "reasoning": REASONING_SHAPES}

# The calls of the "tool-call" mode: OpenAI's shape, two parallel calls.
TOOL_CALLS = (("call_led_1", "set_led", '{"on": true}'),
              ("call_temp_2", "read_temperature", '{"unit": "C"}'))
# Arguments of the calls of "tools=SHAPE", by tool name (others get {}).
TOOL_ARGS = {"set_led": {"on": True}, "read_temperature": {"unit": "C"}}
MAX_TOOL_CALLS = 3
TOOL_ARG_PIECE = 5           # streamed arguments come in ~5-char fragments
MAX_ARG_PIECES = 256         # ... but at most this many per call
REASONING_TEXT = "The user wants an echo."
REASONING_TEXT_TOOLS = "Thinking about the tools."
TOOL_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
HTML_PAGE = ("<!DOCTYPE html>\n<html><head><title>Sign in to the network"
             "</title></head><body>Please log in.</body></html>\n")

# OpenAI error message texts (verbatim where the real service is known).
MSG_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an "
    "Authorization header using Bearer auth (i.e. Authorization: Bearer "
    "YOUR_KEY), or as the password field (with blank username) if you're "
    "accessing the API from your browser and are prompted for a username and "
    "password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys.")
MSG_BAD_KEY = ("Incorrect API key provided: {masked}. You can find your API "
               "key at https://platform.openai.com/account/api-keys.")
MSG_RATE = ("Rate limit reached for gpt-4-0314 in organization org-xyz on "
            "requests per min (RPM): Limit 3, Used 3, Requested 1. Please "
            "try again in 20s.")
MSG_QUOTA = ("You exceeded your current quota, please check your plan and "
             "billing details. For more information on this error, read the "
             "docs: https://platform.openai.com/docs/guides/error-codes/"
             "api-errors.")
MSG_500 = ("The server had an error while processing your request. Sorry "
           "about that!")
MSG_503 = "The engine is currently overloaded, please try again later."
MSG_STREAM_ERR = "The server had an error while processing your request."
MSG_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely "
    "means you aren't using your HTTP library correctly. The OpenAI API "
    "expects a JSON payload, but what was sent was not valid JSON. If you "
    "have trouble figuring out how to fix this, please contact us through "
    "our help center at help.openai.com.)")


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

class ApiError(Exception):
    """An HTTP error response: status, JSON-serialisable body, extra headers.

    close=True also closes the connection afterwards (used when the request
    framing is broken, so the rest of the byte stream cannot be trusted)."""

    def __init__(self, status, body, headers=None, close=False, indent=4):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or []
        self.close = close
        self.indent = indent


def oai_error(status, message, etype="invalid_request_error", param=None,
              code=None, headers=None, close=False):
    """Build an ApiError with OpenAI's {"error": {...}} shape."""
    return ApiError(status, {"error": {"message": message, "type": etype,
                                       "param": param, "code": code}},
                    headers=headers, close=close)


def mask_key(key):
    """Mask a key like OpenAI does: keep 2 chars on each side ("te***ey").
    Short keys are masked completely so they can never be reconstructed."""
    if len(key) < 8:
        return "***"
    return key[:2] + "***" + key[-2:]


def json_type(value):
    """Type name used in OpenAI validation messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def split_words(text):
    """Split text into stream pieces, one word each, keeping the spaces.

    Each piece is optional leading whitespace + one word, like model tokens
    (" world"); trailing whitespace is attached to the last piece.  The
    pieces concatenate back to exactly `text`."""
    pieces = re.findall(r"\s*\S+", text)
    rest = text[len("".join(pieces)):]
    if rest:
        if pieces:
            pieces[-1] += rest
        else:
            pieces = [rest]
    return pieces


def lorem(nbytes):
    """Exactly nbytes bytes (ASCII) of lorem-ipsum text."""
    reps = nbytes // len(LOREM) + 1
    return (LOREM * reps)[:nbytes]


def random_id(prefix, n):
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


def strict_json_loads(data):
    """json.loads that rejects duplicate keys, NaN/Infinity, bad UTF-8, BOM."""
    def pairs(items):
        obj = {}
        for k, v in items:
            if k in obj:
                raise ValueError("duplicate key %r" % k)
            obj[k] = v
        return obj

    def bad_constant(name):
        raise ValueError("invalid constant %s" % name)

    text = data.decode("utf-8")  # strict: raises on invalid UTF-8
    return json.loads(text, object_pairs_hook=pairs,
                      parse_constant=bad_constant)


def parse_modes(spec, into):
    """Parse "name[=V][,name[=V]...]" into the dict `into` (name -> value).
    Raises ValueError with a readable message on unknown/ill-formed modes."""
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, eq, value = item.partition("=")
        if name not in MODES:
            raise ValueError("unknown test mode %r" % name)
        kind = MODES[name]
        if kind is None:
            if eq:
                raise ValueError("test mode %r takes no value" % name)
            into[name] = True
        elif not eq:
            if kind == "int":
                raise ValueError("test mode %r needs =N" % name)
            if kind == "str":
                raise ValueError("test mode %r needs =%s" % (
                    name, "|".join(MODE_VALUES[name])))
            into[name] = True
        elif kind == "str":
            if value not in MODE_VALUES[name]:
                raise ValueError("test mode %r needs one of %s, got %r"
                                 % (name, "|".join(MODE_VALUES[name]),
                                    value))
            into[name] = value
        else:
            if not value.isdigit() or not value.isascii():
                raise ValueError("test mode %r needs a non-negative "
                                 "integer, got %r" % (name, value))
            into[name] = int(value)
    return into


# --------------------------------------------------------------------------
# Request validation
# --------------------------------------------------------------------------

def _type_error(param, expected, value):
    return oai_error(400, "Invalid type for '%s': expected %s, but got %s "
                     "instead." % (param, expected, json_type(value)),
                     param=param, code="invalid_type")


def _unknown(param):
    return oai_error(400, "Unknown parameter: '%s'." % param, param=param,
                     code="unknown_parameter")


def _missing(param):
    return oai_error(400, "Missing required parameter: '%s'." % param,
                     param=param, code="missing_required_parameter")


def _check_utf8(param, text):
    """Strings decoded from \\ud800-style escapes may hold lone surrogates;
    those cannot be echoed back as UTF-8, so reject them like bad JSON."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise oai_error(400, "Invalid '%s': string contains invalid "
                        "Unicode (lone surrogate)." % param, param=param,
                        code="invalid_value")


def _check_range(param, value, lo, hi):
    if not is_number(value):
        raise _type_error(param, "a decimal", value)
    if value < lo:
        raise oai_error(400, "Invalid '%s': decimal below minimum value. "
                        "Expected a value >= %s, but got %s instead."
                        % (param, lo, value), param=param,
                        code="decimal_below_min_value")
    if value > hi:
        raise oai_error(400, "Invalid '%s': decimal above maximum value. "
                        "Expected a value <= %s, but got %s instead."
                        % (param, hi, value), param=param,
                        code="decimal_above_max_value")


def _oxford(values):
    """'a', 'b', and 'c' (as OpenAI lists supported values)."""
    q = ["'%s'" % v for v in values]
    if len(q) <= 2:
        return " and ".join(q)
    return ", ".join(q[:-1]) + ", and " + q[-1]


def _invalid(param, what, code="invalid_value"):
    return oai_error(400, "Invalid '%s': %s" % (param, what), param=param,
                     code=code)


def _check_str(param, value):
    if not isinstance(value, str):
        raise _type_error(param, "a string", value)
    _check_utf8(param, value)
    return value


def _check_bool(param, value):
    if not isinstance(value, bool):
        raise _type_error(param, "a boolean", value)
    return value


def _check_object(param, value, allowed):
    """An object whose keys are all in `allowed` (else unknown_parameter)."""
    if not isinstance(value, dict):
        raise _type_error(param, "an object", value)
    for k in value:
        if k not in allowed:
            raise _unknown("%s.%s" % (param, k))
    return value


def _required(param, obj, key):
    if key not in obj:
        raise _missing("%s.%s" % (param, key))
    return obj[key]


def _check_enum(param, value, supported):
    _check_str(param, value)
    if value not in supported:
        raise oai_error(400, "Invalid value for '%s': '%s'. Supported values "
                        "are: %s." % (param, value[:100], _oxford(supported)),
                        param=param, code="invalid_value")
    return value


def _check_name(param, name):
    """A function name: [A-Za-z0-9_-]{1,64}, with OpenAI's messages."""
    _check_str(param, name)
    if not name:
        raise _invalid(param, "string too short. Expected a string with "
                       "minimum length 1, but got an empty string instead.",
                       "string_below_min_length")
    if len(name) > 64:
        raise _invalid(param, "string too long. Expected a string with "
                       "maximum length 64, but got a string with length %d "
                       "instead." % len(name), "string_above_max_length")
    if not TOOL_NAME_RE.fullmatch(name):
        raise _invalid(param, "string does not match pattern. Expected a "
                       "string that matches the pattern '^[a-zA-Z0-9_-]+$'.")
    return name


def _check_empty_array(param, value):
    if not value:
        raise _invalid(param, "empty array. Expected an array with minimum "
                       "length 1, but got an empty array instead.",
                       "empty_array")


def strict_b64decode(text):
    """Standard base64 (RFC 4648 alphabet, '=' padding), decoded strictly:
    any other character, a missing or misplaced '=', or stray bits in the
    last character raise ValueError."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(str(e))
    if base64.b64encode(data).decode("ascii") != text:
        raise ValueError("non-canonical encoding: stray bits before the "
                         "padding")
    return data


DATA_URL_RE = re.compile(r"data:([^;,]*);base64,")
MIME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/"
                     r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")


def decode_image_url(param, url):
    """Check an image_url.url; return (mime, bytes) for a data URL or
    (None, None) for an https URL.  Raises ApiError naming `param`."""
    _check_str(param, url)
    m = DATA_URL_RE.match(url)
    if m:
        mime = m.group(1)
        if not MIME_RE.fullmatch(mime) or not mime.lower().startswith(
                "image/"):
            raise _invalid(param, "invalid MIME type %r in the data URL. "
                           "Only image types are supported." % mime[:100],
                           "invalid_image_format")
        try:
            data = strict_b64decode(url[m.end():])
        except ValueError as e:
            raise _invalid(param, "the base64 data of the data URL does not "
                           "decode (%s)." % e, "invalid_image_url")
        if not data:
            raise _invalid(param, "the data URL holds no data.",
                           "invalid_image_url")
        return mime, data
    if url.startswith("data:"):
        raise _invalid(param, "expected a data URL of the form "
                       "'data:<mime>;base64,<data>'.", "invalid_image_url")
    if (not url.startswith("https://") or len(url) == len("https://")
            or re.search(r"[\s\x00-\x1f\x7f]", url)):
        raise _invalid(param, "expected an https:// URL or a base64 data "
                       "URL, but got %r." % url[:100], "invalid_image_url")
    return None, None


def decode_audio(param, data):
    """Check input_audio.data (strict base64); return the bytes."""
    _check_str(param, data)
    try:
        raw = strict_b64decode(data)
    except ValueError as e:
        raise _invalid(param, "the base64 audio data does not decode (%s)."
                       % e)
    if not raw:
        raise _invalid(param, "the audio data is empty.")
    return raw


def _validate_parts(p, role, parts):
    """Content given as an array of parts.  User messages may hold text,
    image_url and input_audio parts; other roles text parts only."""
    _check_empty_array(p, parts)
    kinds = (("text", "image_url", "input_audio") if role == "user"
             else ("text",))
    for j, part in enumerate(parts):
        q = "%s[%d]" % (p, j)
        if not isinstance(part, dict):
            raise _type_error(q, "an object", part)
        ptype = _check_enum(q + ".type", _required(q, part, "type"), kinds)
        _check_object(q, part, ("type", ptype))
        body = _required(q, part, ptype)
        if ptype == "text":
            _check_str(q + ".text", body)
        elif ptype == "image_url":
            _check_object(q + ".image_url", body, ("url", "detail"))
            if body.get("detail") is not None:
                _check_enum(q + ".image_url.detail", body["detail"],
                            ("low", "high", "auto"))
            decode_image_url(q + ".image_url.url",
                             _required(q + ".image_url", body, "url"))
        else:
            _check_object(q + ".input_audio", body, ("data", "format"))
            _check_enum(q + ".input_audio.format",
                        _required(q + ".input_audio", body, "format"),
                        ("wav", "mp3"))
            decode_audio(q + ".input_audio.data",
                         _required(q + ".input_audio", body, "data"))


def _validate_tool_calls(p, calls, call_names):
    """An assistant message's tool_calls; records id -> name."""
    if not isinstance(calls, list):
        raise _type_error(p, "an array", calls)
    _check_empty_array(p, calls)
    ids = []
    for j, c in enumerate(calls):
        q = "%s[%d]" % (p, j)
        _check_object(q, c, ("id", "type", "function"))
        cid = _check_str(q + ".id", _required(q, c, "id"))
        _check_enum(q + ".type", _required(q, c, "type"), ("function",))
        fn = _check_object(q + ".function", _required(q, c, "function"),
                           ("name", "arguments"))
        name = _check_str(q + ".function.name",
                          _required(q + ".function", fn, "name"))
        _check_str(q + ".function.arguments",
                   _required(q + ".function", fn, "arguments"))
        call_names[cid] = name
        ids.append(cid)
    return ids


MESSAGE_KEYS = ("role", "content", "name", "tool_call_id", "tool_calls",
                "reasoning_content")


def _validate_messages(msgs):
    call_names = {}     # tool call id -> function name, from earlier calls
    pending = None      # (message index, ids of its calls not yet answered)

    def unanswered():
        i, ids = pending
        return oai_error(
            400, "An assistant message with 'tool_calls' must be followed "
            "by tool messages responding to each 'tool_call_id'. The "
            "following tool_call_ids did not have response messages: %s"
            % ", ".join(ids), param="messages[%d].tool_calls" % i)

    for i, m in enumerate(msgs):
        p = "messages[%d]" % i
        if not isinstance(m, dict):
            raise _type_error(p, "an object", m)
        for k in m:
            if k not in MESSAGE_KEYS:
                raise _unknown("%s.%s" % (p, k))
        if "role" not in m:
            raise _missing(p + ".role")
        role = m["role"]
        if not isinstance(role, str):
            raise _type_error(p + ".role", "a string", role)
        if role not in VALID_ROLES:
            raise oai_error(400, "Invalid value: '%s'. Supported values are: "
                            "'system', 'assistant', 'user', 'developer', and "
                            "'tool'." % role, param=p + ".role",
                            code="invalid_value")
        if role != "assistant":
            for k in ("tool_calls", "reasoning_content"):
                if k in m:
                    raise _unknown("%s.%s" % (p, k))
        if pending is not None and pending[1] and role != "tool":
            raise unanswered()
        calls = m.get("tool_calls")
        if "content" not in m and calls is None:
            raise _missing(p + ".content")
        content = m.get("content")
        if isinstance(content, list):
            _validate_parts(p + ".content", role, content)
        elif not (isinstance(content, str)
                  or (content is None and calls is not None)):
            raise _type_error(p + ".content",
                              "one of a string or array of objects", content)
        elif content is not None:
            _check_utf8(p + ".content", content)
        for k in ("name", "tool_call_id"):
            if k in m and not isinstance(m[k], str):
                raise _type_error("%s.%s" % (p, k), "a string", m[k])
        if role == "assistant":
            if m.get("reasoning_content") is not None:
                _check_str(p + ".reasoning_content", m["reasoning_content"])
            if calls is not None:
                ids = _validate_tool_calls(p + ".tool_calls", calls,
                                           call_names)
                pending = (i, ids)
            else:
                pending = None
        elif role == "tool":
            cid = _required(p, m, "tool_call_id")
            _check_utf8(p + ".tool_call_id", cid)
            if cid not in call_names:
                raise oai_error(
                    400, "Invalid '%s.tool_call_id': '%s' is not the id of "
                    "a tool call in an earlier assistant message. Messages "
                    "with role 'tool' must be a response to a preceding "
                    "message with 'tool_calls'." % (p, cid[:100]),
                    param=p + ".tool_call_id")
            if pending is not None and cid in pending[1]:
                pending[1].remove(cid)
        else:
            pending = None
    if pending is not None and pending[1]:
        raise unanswered()


def _validate_tools(req):
    """tools, tool_choice and parallel_tool_calls."""
    tools = req.get("tools")
    names = {}
    if tools is not None:
        if not isinstance(tools, list):
            raise _type_error("tools", "an array", tools)
        _check_empty_array("tools", tools)
        if len(tools) > 128:
            raise _invalid("tools", "array too long. Expected an array with "
                           "maximum length 128, but got an array with length "
                           "%d instead." % len(tools),
                           "array_above_max_length")
        for i, t in enumerate(tools):
            p = "tools[%d]" % i
            _check_object(p, t, ("type", "function"))
            _check_enum(p + ".type", _required(p, t, "type"), ("function",))
            fn = _check_object(p + ".function", _required(p, t, "function"),
                               ("name", "description", "parameters",
                                "strict"))
            name = _check_name(p + ".function.name",
                               _required(p + ".function", fn, "name"))
            if name in names:
                raise _invalid(p + ".function.name", "duplicate function "
                               "name '%s' (also in tools[%d])."
                               % (name, names[name]))
            names[name] = i
            if fn.get("description") is not None:
                _check_str(p + ".function.description", fn["description"])
            params = fn.get("parameters")
            if params is not None and not isinstance(params, dict):
                raise _type_error(p + ".function.parameters", "an object",
                                  params)
            if fn.get("strict") is not None:
                _check_bool(p + ".function.strict", fn["strict"])

    for k in ("tool_choice", "parallel_tool_calls"):
        if req.get(k) is not None and tools is None:
            raise oai_error(400, "Invalid value for '%s': '%s' is only "
                            "allowed when 'tools' are specified." % (k, k),
                            param=k)
    tc = req.get("tool_choice")
    if isinstance(tc, str):
        _check_enum("tool_choice", tc, ("none", "auto", "required"))
    elif isinstance(tc, dict):
        _check_object("tool_choice", tc, ("type", "function"))
        _check_enum("tool_choice.type", _required("tool_choice", tc, "type"),
                    ("function",))
        fn = _check_object("tool_choice.function",
                           _required("tool_choice", tc, "function"),
                           ("name",))
        name = _check_str("tool_choice.function.name",
                          _required("tool_choice.function", fn, "name"))
        if name not in names:
            raise _invalid("tool_choice.function.name", "no function named "
                           "'%s' in 'tools'." % name[:100])
    elif tc is not None:
        raise _type_error("tool_choice", "one of a string or an object", tc)
    if req.get("parallel_tool_calls") is not None:
        _check_bool("parallel_tool_calls", req["parallel_tool_calls"])


def _validate_response_format(rf):
    if not isinstance(rf, dict):
        raise _type_error("response_format", "an object", rf)
    rtype = _check_enum("response_format.type",
                        _required("response_format", rf, "type"),
                        ("text", "json_object", "json_schema"))
    if rtype != "json_schema":
        _check_object("response_format", rf, ("type",))
        return
    _check_object("response_format", rf, ("type", "json_schema"))
    p = "response_format.json_schema"
    js = _check_object(p, _required("response_format", rf, "json_schema"),
                       ("name", "schema", "strict", "description"))
    _check_name(p + ".name", _required(p, js, "name"))
    schema = _required(p, js, "schema")
    if not isinstance(schema, dict):
        raise _type_error(p + ".schema", "an object", schema)
    if js.get("strict") is not None:
        _check_bool(p + ".strict", js["strict"])
    if js.get("description") is not None:
        _check_str(p + ".description", js["description"])


def _validate_metadata(md):
    """Up to 16 string pairs; keys <= 64 and values <= 512 characters."""
    if not isinstance(md, dict):
        raise _type_error("metadata", "an object", md)
    if len(md) > 16:
        raise _invalid("metadata", "too many properties. Expected an object "
                       "with at most 16 properties, but got an object with "
                       "%d properties instead." % len(md),
                       "object_above_max_properties")
    for k, v in md.items():
        _check_utf8("metadata", k)
        if len(k) > 64:
            raise _invalid("metadata", "key %r is too long (%d characters, "
                           "at most 64)." % (k[:80], len(k)))
        q = "metadata.%s" % k
        _check_str(q, v)
        if len(v) > 512:
            raise _invalid(q, "string too long. Expected a string with "
                           "maximum length 512, but got a string with length "
                           "%d instead." % len(v), "string_above_max_length")


def validate_request(req, default_model=None):
    """Validate a parsed chat-completions body; raise ApiError if invalid.

    Optional parameters may be null (as in the real API).  Returns the
    model name (default_model is used for Azure deployment URLs)."""
    if not isinstance(req, dict):
        raise oai_error(400, "Invalid type for request body: expected an "
                        "object, but got %s instead." % json_type(req),
                        code="invalid_type")
    allowed = {"model", "messages", "stream", "stream_options", "max_tokens",
               "max_completion_tokens", "temperature", "top_p", "stop",
               "user", "tools", "tool_choice", "parallel_tool_calls",
               "reasoning_effort", "response_format", "seed",
               "presence_penalty", "frequency_penalty", "safety_identifier",
               "prompt_cache_key", "metadata", "store"}
    for k in req:
        if k not in allowed:
            raise _unknown(k)

    # model
    if "model" not in req:
        if default_model is None:
            raise oai_error(400, "you must provide a model parameter")
        model = default_model
    else:
        model = req["model"]
        if not isinstance(model, str):
            raise _type_error("model", "a string", model)
        _check_utf8("model", model)

    # messages
    if "messages" not in req:
        raise _missing("messages")
    msgs = req["messages"]
    if not isinstance(msgs, list):
        raise _type_error("messages", "an array", msgs)
    if not msgs:
        raise oai_error(400, "Invalid 'messages': empty array. Expected an "
                        "array with minimum length 1, but got an empty array "
                        "instead.", param="messages", code="empty_array")
    _validate_messages(msgs)

    # stream / stream_options
    stream = req.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _type_error("stream", "a boolean", stream)
    so = req.get("stream_options")
    if so is not None:
        if not isinstance(so, dict):
            raise _type_error("stream_options", "an object", so)
        for k in so:
            if k != "include_usage":
                raise _unknown("stream_options." + k)
        iu = so.get("include_usage")
        if iu is not None and not isinstance(iu, bool):
            raise _type_error("stream_options.include_usage", "a boolean",
                              iu)
        if stream is not True:
            raise oai_error(400, "The 'stream_options' parameter is only "
                            "allowed when 'stream' is enabled.",
                            param="stream_options", code="invalid_value")

    # token limits
    for k in ("max_tokens", "max_completion_tokens"):
        v = req.get(k)
        if v is None:
            continue
        if not is_int(v):
            raise _type_error(k, "an integer", v)
        if v < 1:
            raise oai_error(400, "Invalid '%s': integer below minimum value. "
                            "Expected a value >= 1, but got %d instead."
                            % (k, v), param=k, code="integer_below_min_value")

    # sampling
    if req.get("temperature") is not None:
        _check_range("temperature", req["temperature"], 0, 2)
    if req.get("top_p") is not None:
        _check_range("top_p", req["top_p"], 0, 1)

    # stop
    stop = req.get("stop")
    if stop is not None:
        if isinstance(stop, str):
            _check_utf8("stop", stop)
        elif isinstance(stop, list):
            if len(stop) > 4:
                raise oai_error(400, "Invalid 'stop': array too long. "
                                "Expected an array with maximum length 4, "
                                "but got an array with length %d instead."
                                % len(stop), param="stop",
                                code="array_above_max_length")
            for i, s in enumerate(stop):
                if not isinstance(s, str):
                    raise _type_error("stop[%d]" % i, "a string", s)
                _check_utf8("stop[%d]" % i, s)
        else:
            raise _type_error("stop", "a string or an array of strings",
                              stop)

    # user
    if req.get("user") is not None and not isinstance(req["user"], str):
        raise _type_error("user", "a string", req["user"])

    # tools, tool_choice, parallel_tool_calls
    _validate_tools(req)

    # the rest of the 2026 request surface
    for k in ("presence_penalty", "frequency_penalty"):
        if req.get(k) is not None:
            _check_range(k, req[k], -2, 2)
    if req.get("seed") is not None and not is_int(req["seed"]):
        raise _type_error("seed", "an integer", req["seed"])
    for k in ("reasoning_effort", "safety_identifier", "prompt_cache_key"):
        if req.get(k) is not None:
            _check_str(k, req[k])
    if req.get("store") is not None:
        _check_bool("store", req["store"])
    if req.get("metadata") is not None:
        _validate_metadata(req["metadata"])
    if req.get("response_format") is not None:
        _validate_response_format(req["response_format"])
    return model


def content_text(content):
    """The text of a (validated) message content: the string itself, or
    the text of its text parts joined with ' ' (null content: '')."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return " ".join(part["text"] for part in content
                    if part["type"] == "text")


def media_markers(content):
    """' [image ...]' / ' [audio ...]' for each media part, in order."""
    if not isinstance(content, list):
        return ""
    out = []
    for part in content:
        if part["type"] == "image_url":
            url = part["image_url"]["url"]
            mime, data = decode_image_url("url", url)
            if mime is None:
                out.append(" [image url %s]" % url)
                continue
            kind, what = "image", mime
        elif part["type"] == "input_audio":
            data = decode_audio("data", part["input_audio"]["data"])
            kind, what = "audio", part["input_audio"]["format"]
        else:
            continue
        out.append(" [%s %s %d bytes sha256:%s]" % (
            kind, what, len(data), hashlib.sha256(data).hexdigest()[:16]))
    return "".join(out)


def count_prompt_tokens(messages):
    """Deterministic stand-in for a tokenizer: words + 3 per message + 3."""
    return 3 + sum(3 + len(content_text(m.get("content")).split())
                   for m in messages)


def make_call_id(shape, name, k):
    """A tool call id in the style of the server `shape` (k from 0)."""
    if shape == "gemini":
        return "function-call-%d" % (k + 1)
    if shape == "kimi":
        return "functions.%s:%d" % (name, k)
    if shape == "mistral":
        return random_id("", 9)
    if shape == "qwen":
        return "call_" + secrets.token_hex(12)
    if shape == "ollama":
        return "call_" + "".join(secrets.choice(string.ascii_lowercase +
                                                string.digits)
                                 for _ in range(8))
    if shape == "glm":
        return "call_" + secrets.token_urlsafe(16)[:22]
    if shape == "deepseek":
        return random_id("call_00_", 24)
    return "call_" + secrets.token_hex(4)       # openai, interleaved


def arg_pieces(args):
    """Streamed fragments of an arguments string: about TOOL_ARG_PIECE
    characters each, but at most MAX_ARG_PIECES of them."""
    size = max(TOOL_ARG_PIECE, -(-len(args) // MAX_ARG_PIECES))
    return [args[i:i + size] for i in range(0, len(args), size)] or [""]


# --------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------

class ClientGone(Exception):
    """The peer closed / reset the connection while we were writing."""


class DropConnection(Exception):
    """Raised by the handler to abort the connection on purpose."""


class ConnReader:
    """Minimal buffered reader over a (TLS) socket, used as the handler's
    rfile.  Unlike io.BufferedReader its buffer can be inspected, and poll()
    pulls in already-arrived bytes without blocking, which lets the server
    tell "body longer than Content-Length" from a pipelined request even
    under TLS.  Socket timeouts surface as TimeoutError, as http.server
    expects."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False
        self.closed = False

    def _fill(self):
        if self.eof:
            return False
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _take(self, n):
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def readline(self, limit=-1):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                n = i + 1
                break
            if 0 <= limit <= len(self.buf) or not self._fill():
                n = len(self.buf)
                break
        if limit >= 0:
            n = min(n, limit)
        return self._take(n)

    def read(self, n):
        while len(self.buf) < n and self._fill():
            pass
        return self._take(n)

    def take_all(self):
        return self._take(len(self.buf))

    def poll(self):
        """Non-blocking: buffer whatever has already arrived; return it."""
        old = self.sock.gettimeout()
        try:
            self.sock.settimeout(0.0)
            while self._fill():
                pass
        except OSError:          # BlockingIOError, SSLWantReadError, ...
            pass
        finally:
            self.sock.settimeout(old)
        return bytes(self.buf)

    def close(self):
        self.closed = True


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, opts, ssl_ctx):
        self.opts = opts
        self.ssl_ctx = ssl_ctx
        self.models = set(DEFAULT_MODELS) | set(opts.model or [])
        self.lock = threading.Lock()
        self.conn_counter = 0
        self.fail_counts = {}
        if ":" in opts.host:
            self.address_family = socket.AF_INET6
        super().__init__((opts.host, opts.port), Handler)

    def server_bind(self):
        # HTTPServer.server_bind calls socket.getfqdn(), which may block on
        # DNS; do the plain TCP bind instead.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.opts.host
        self.server_port = self.server_address[1]

    def get_request(self):
        # TLS is wrapped here without the handshake; the handshake happens in
        # the connection's own thread (Handler.setup) so a slow or broken
        # client cannot block the accept loop.
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_ctx is not None:
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        # Replace the default traceback dump with one line.
        exc = sys.exc_info()[1]
        self.log("connection from %s: %s: %s"
                 % (fmt_addr(client_address), type(exc).__name__, exc))

    def next_conn_id(self):
        with self.lock:
            self.conn_counter += 1
            return self.conn_counter

    def count_failure(self, test_id):
        """Return how many requests have been seen so far for test_id."""
        with self.lock:
            n = self.fail_counts.get(test_id, 0) + 1
            self.fail_counts[test_id] = n
            return n

    def log(self, line):
        if not self.opts.quiet:
            sys.stderr.write("chat_server: %s\n" % line)
            sys.stderr.flush()

    def event_log(self, line):
        if self.opts.event_log:
            with self.lock:
                with open(self.opts.event_log, "a", encoding="utf-8") as f:
                    f.write(line + "\n")


def fmt_addr(addr):
    try:
        host, port = addr[0], addr[1]
    except (TypeError, IndexError):
        return str(addr)
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"        # keep-alive + chunked encoding
    server_version = "chatwire-test-server/1.0"
    disable_nagle_algorithm = True       # TCP_NODELAY (also set on accept)

    def version_string(self):
        return self.server_version      # no " Python/3.x" suffix

    # ---------------------------------------------------------------- setup

    def setup(self):
        super().setup()
        self.rfile.close()                    # replace the makefile() reader
        self.rfile = ConnReader(self.connection)
        self.opts = self.server.opts
        self.conn_id = self.server.next_conn_id()
        self.conn_requests = 0
        self.aborted = False      # True: no TLS close_notify, just drop
        self.tls_info = "-"
        self.handshake_ok = True
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.settimeout(self.opts.read_timeout_ms / 1000.0)
            try:
                self.connection.do_handshake()
                c = self.connection
                self.tls_info = "%s/%s%s sni=%s" % (
                    c.version(), c.cipher()[0],
                    "/resumed" if c.session_reused else "",
                    SNI_SEEN.pop(id(c), "-"))
                if self.opts.tls_client_cert_reset and not c.getpeercert():
                    self.server.log("conn %d: no client certificate: reset"
                                    % self.conn_id)
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
                    self.handshake_ok = False
                    self.aborted = True
            except (ssl.SSLError, OSError) as e:
                self.server.log("conn %d from %s: TLS handshake failed: %s"
                                % (self.conn_id,
                                   fmt_addr(self.client_address), e))
                self.handshake_ok = False
                self.aborted = True

    def handle(self):
        if not self.handshake_ok:
            return
        # First request: ordinary read timeout.  Between requests on a
        # keep-alive connection: the idle timeout (--idle-close-ms), if any.
        self.connection.settimeout(self.opts.read_timeout_ms / 1000.0)
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            if self.opts.idle_close_ms:
                self.connection.settimeout(self.opts.idle_close_ms / 1000.0)
            else:
                self.connection.settimeout(None)
            self.handle_one_request()

    def handle_one_request(self):
        self.reset_request_state()
        try:
            super().handle_one_request()
        except TimeoutError:
            # Read timeout while inside a request (body) - already answered
            # where possible; just close.
            self.close_connection = True
        except (ClientGone, ConnectionError, BrokenPipeError):
            self.close_connection = True
            self.aborted = True
        except DropConnection:
            self.close_connection = True
            self.aborted = True

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        # Graceful TLS close: send close_notify (unless the connection is
        # being dropped on purpose).  Non-blocking: we do not wait for the
        # peer's close_notify.
        c = self.connection
        if (isinstance(c, ssl.SSLSocket) and not self.aborted
                and c.fileno() >= 0):
            try:
                c.settimeout(0.0)
                c.unwrap()
            except (ssl.SSLError, OSError, ValueError):
                pass

    def reset_request_state(self):
        self.path = None
        self.command = None
        self.req_id = "req_" + secrets.token_hex(16)
        self.t_request = None
        self.t_headers = None
        self.t_first_event = None
        self.status = None
        self.modes = {}
        self.stream = False
        self.test_id = None
        self.body_bytes = 0
        self.events_sent = 0
        self.sse_seq = 0
        self.note = ""

    # ------------------------------------------------------------- logging

    def log_request(self, code="-", size="-"):
        pass  # replaced by log_summary (one line per request)

    def log_message(self, fmt, *args):
        self.server.log("conn %d: %s" % (self.conn_id, fmt % args))

    def log_error(self, fmt, *args):
        if fmt.startswith("Request timed out"):
            self.server.log("conn %d: idle/read timeout, closing"
                            % self.conn_id)
            return
        self.log_message(fmt, *args)

    def log_summary(self):
        path = getattr(self, "path", None) or "-"
        path = path.split("?", 1)[0]      # never log query strings
        modes = ",".join(k if v is True else "%s=%s" % (k, v)
                         for k, v in sorted(self.modes.items())) or "-"
        line = ("conn=%d req=%d peer=%s %s %s status=%s stream=%d modes=%s "
                "test_id=%s tls=%s request_id=%s request_ns=%s headers_ns=%s "
                "first_event_ns=%s done_ns=%d body_bytes=%d events=%d%s"
                % (self.conn_id, self.conn_requests,
                   fmt_addr(self.client_address), self.command or "-", path,
                   self.status, 1 if self.stream else 0, modes,
                   self.test_id or "-", self.tls_info, self.req_id,
                   self.t_request if self.t_request is not None else -1,
                   self.t_headers if self.t_headers is not None else -1,
                   self.t_first_event if self.t_first_event is not None
                   else -1,
                   time.monotonic_ns(), self.body_bytes, self.events_sent,
                   (" note=" + self.note) if self.note else ""))
        self.server.log(line)
        self.server.event_log(line)

    # ----------------------------------------------------- request parsing

    def parse_request(self):
        # Called once the request line has been read.
        self.t_request = time.monotonic_ns()
        self.conn_requests += 1
        self.connection.settimeout(self.opts.read_timeout_ms / 1000.0)
        return super().parse_request()

    def send_error(self, code, message=None, explain=None):
        """Protocol-level errors from http.server (bad request line, header
        too long, unsupported method) as OpenAI-shaped JSON; then close."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":   # garbage request line
            self.request_version = "HTTP/1.1"    # still send a status line
        text = message or self.responses.get(code, ("Error",))[0]
        try:
            self.send_api_error(oai_error(code, text, close=True))
        except (OSError, ClientGone):
            pass
        self.log_summary()

    def read_body(self):
        """Read exactly Content-Length bytes; raise ApiError otherwise."""
        if self.headers.get("Transfer-Encoding") is not None:
            raise oai_error(411, "Transfer-Encoding is not supported for "
                            "request bodies by this test server; send "
                            "Content-Length.", close=True)
        values = self.headers.get_all("Content-Length") or []
        if not values:
            if self.command == "GET":
                return b""
            raise oai_error(411, "A Content-Length header is required.",
                            close=True)
        if len(values) > 1:
            raise oai_error(400, "Multiple Content-Length headers.",
                            close=True)
        v = values[0].strip()
        if not (v.isascii() and v.isdigit()):
            raise oai_error(400, "Invalid Content-Length header.",
                            close=True)
        n = int(v)
        if n > MAX_BODY_BYTES:
            raise oai_error(413, "Request body too large (%d bytes, limit "
                            "%d)." % (n, MAX_BODY_BYTES), close=True)
        try:
            data = self.rfile.read(n)
        except TimeoutError:
            data = self.rfile.take_all()
        got = len(data)
        if got < n:
            raise oai_error(400, "Request body shorter than Content-Length "
                            "(%d of %d bytes received)." % (got, n),
                            close=True)
        if self.extra_input_pending():
            raise oai_error(400, "Request body longer than Content-Length "
                            "(extra bytes after %d-byte body)." % n,
                            close=True)
        self.body_bytes = n
        return data

    def extra_input_pending(self):
        """True if bytes beyond the body have already arrived and they do
        not look like the start of a pipelined request, i.e. the
        Content-Length was too small."""
        extra = self.rfile.poll()
        if not extra:
            return False
        return not re.match(rb"[A-Z]{1,16}( |$)", extra[:17])

    def check_auth(self):
        """Bearer token or Azure-style api-key header; raise 401."""
        provided = []
        auth = self.headers.get("Authorization")
        if auth is not None:
            scheme, _, token = auth.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                provided.append(token.strip())
        api_key = self.headers.get("api-key")
        if api_key is not None and api_key.strip():
            provided.append(api_key.strip())
        if not provided:
            raise self.auth_error(None)
        for p in provided:
            if hmac.compare_digest(p.encode("utf-8", "replace"),
                                   self.opts.key.encode("utf-8")):
                return p
        raise self.auth_error(provided[0])

    @staticmethod
    def auth_error(provided):
        if provided is None:
            return oai_error(401, MSG_NO_KEY)
        return oai_error(401, MSG_BAD_KEY.format(masked=mask_key(provided)),
                         code="invalid_api_key")

    # -------------------------------------------------------------- output

    def common_headers(self):
        """Headers sent on every API response (like OpenAI's)."""
        if self.status == 429:
            remaining_req, reset_req = "0", "20s"
        else:
            remaining_req, reset_req = "9999", "6m0s"
        elapsed = 0
        if self.t_request is not None:
            elapsed = (time.monotonic_ns() - self.t_request) // 1000000
        return [
            ("x-request-id", self.req_id),
            ("openai-organization", "org-test"),
            ("openai-processing-ms", str(elapsed)),
            ("openai-version", "2020-10-01"),
            ("x-ratelimit-limit-requests", "10000"),
            ("x-ratelimit-limit-tokens", "200000"),
            ("x-ratelimit-remaining-requests", remaining_req),
            ("x-ratelimit-remaining-tokens", "199990"),
            ("x-ratelimit-reset-requests", reset_req),
            ("x-ratelimit-reset-tokens", "20ms"),
            ("x-test-conn-id", str(self.conn_id)),
            ("x-test-conn-requests", str(self.conn_requests)),
            # "TLSv1.3/TLS_AES_256_GCM_SHA384[/resumed]": what the server
            # saw of the handshake, so tests can check resumption
            ("x-test-tls", self.tls_info),
        ]

    def begin_response(self, status, content_type, length=None,
                       chunked=False, extra=()):
        """Status line + headers.  length=None and chunked=False means the
        body is delimited by closing the connection."""
        slow = self.modes.get("slow-headers")
        if slow:
            time.sleep(slow / 1000.0)
        self.status = status
        if self.modes.get("close") or (length is None and not chunked):
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif length is not None:
            self.send_header("Content-Length", str(length))
        for k, v in self.common_headers():
            self.send_header(k, v)
        for k, v in extra:
            self.send_header(k, v)
        # Note: send_header("Connection", ...) also updates close_connection.
        self.send_header("Connection",
                         "close" if self.close_connection else "keep-alive")
        self.end_headers()                  # -> flush_headers -> write
        self.t_headers = time.monotonic_ns()

    def flush_headers(self):
        # Route the header block through write() so fragment=N splits it too.
        if hasattr(self, "_headers_buffer"):
            data = b"".join(self._headers_buffer)
            self._headers_buffer = []
            self.write(data)

    def write(self, data):
        """Write bytes; mode fragment=N splits them into N-byte writes with
        1 ms gaps so the client sees every boundary split across reads."""
        frag = self.modes.get("fragment")
        try:
            if isinstance(frag, int) and frag > 0:
                for i in range(0, len(data), frag):
                    self.wfile.write(data[i:i + frag])
                    time.sleep(0.001)
            else:
                self.wfile.write(data)
        except OSError as e:
            self.note = (self.note + "," if self.note else "") + "client-gone"
            raise ClientGone(e)

    def write_chunk(self, data, ext=b"", upper=False):
        """One HTTP/1.1 chunk, written with a single write call."""
        if not data:
            return
        size = (b"%X" if upper else b"%x") % len(data)
        self.write(size + ext + b"\r\n" + data + b"\r\n")

    def end_chunks(self, trailers=()):
        self.write(b"0\r\n" + b"".join(b"%s: %s\r\n" % (k, v)
                                       for k, v in trailers) + b"\r\n")

    def dump_json(self, obj, indent=None):
        ascii_only = bool(self.modes.get("escape-unicode"))
        if indent is None or self.modes.get("compact"):
            return json.dumps(obj, ensure_ascii=ascii_only,
                              separators=(",", ":"))
        return json.dumps(obj, ensure_ascii=ascii_only, indent=indent)

    def send_api_error(self, err):
        if err.close:
            self.close_connection = True
        body = (self.dump_json(err.body, err.indent) + "\n").encode("utf-8")
        self.begin_response(err.status, "application/json; charset=utf-8",
                            length=len(body), extra=err.headers)
        self.write(body)

    def drop(self, rst=False):
        """Abort the connection: no terminating chunk, no TLS close_notify.
        rst=True sends a TCP RST (SO_LINGER 0) instead of a FIN."""
        c = self.connection
        try:
            if rst:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
                self.rfile.close()
                self.wfile.close()
                c.close()
            else:
                socket.socket.shutdown(c, socket.SHUT_RDWR)
        except OSError:
            pass
        self.note = "dropped" + ("-rst" if rst else "")
        raise DropConnection()

    # ------------------------------------------------------------- routing

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        try:
            try:
                self.read_body()
                if path == "/health":
                    body = b'{"status":"ok"}\n'
                    self.begin_response(200, "application/json",
                                        length=len(body))
                    self.write(body)
                    return
                if path in ("/v1/models", "/models"):
                    self.check_auth()
                    data = [{"id": m, "object": "model", "created": 1686935002,
                             "owned_by": "system"}
                            for m in sorted(self.server.models)]
                    body = (self.dump_json({"object": "list", "data": data},
                                           2) + "\n").encode("utf-8")
                    self.begin_response(200, "application/json",
                                        length=len(body))
                    self.write(body)
                    return
                raise oai_error(404, "Invalid URL (GET %s)" % path)
            except ApiError as e:
                self.send_api_error(e)
        finally:
            self.log_summary()

    def do_POST(self):
        try:
            try:
                self.handle_chat()
            except ApiError as e:
                self.send_api_error(e)
        finally:
            self.log_summary()

    # --------------------------------------------------- chat completions

    def handle_chat(self):
        path = self.path.split("?", 1)[0]
        body = self.read_body()  # before anything else: keeps framing sane
        azure = re.match(r"^/openai/deployments/([^/]+)/chat/completions$",
                         path)
        if not path.endswith("/chat/completions"):
            raise oai_error(404, "Invalid URL (POST %s)" % path)
        self.check_auth()

        # Test-control headers.
        self.test_id = self.headers.get("x-test-id")
        hdr_modes = self.headers.get("x-test-mode")
        try:
            if hdr_modes:
                parse_modes(hdr_modes, self.modes)
            if self.headers.get("x-test-chunked", "").strip() == "1":
                self.modes["chunked"] = True
            pace = self.headers.get("x-test-pace-ms")
            if pace is not None:
                parse_modes("pace=" + pace.strip(), self.modes)
        except ValueError as e:
            raise oai_error(400, "Bad test header: %s" % e)

        # Body: media type, JSON, schema.
        ctype = self.headers.get("Content-Type", "")
        mtype, _, params = ctype.partition(";")
        charset = re.search(r"charset\s*=\s*\"?([^\";\s]+)", params, re.I)
        if mtype.strip().lower() != "application/json" or (
                charset and charset.group(1).lower() not in ("utf-8",
                                                             "utf8")):
            raise oai_error(400, "Invalid Content-Type header (%r), expected "
                            "application/json." % ctype[:100])
        try:
            req = strict_json_loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise oai_error(400, MSG_BAD_JSON)
        model = validate_request(req, azure.group(1) if azure else None)

        # Modes from the last user message.
        messages = req["messages"]
        last_user, last_user_at = "", -1
        for i, m in enumerate(messages):
            if m["role"] == "user":
                last_user, last_user_at = content_text(m["content"]), i
        mm = re.match(r"!mode:(\S+)", last_user)
        if mm:
            try:
                parse_modes(mm.group(1), self.modes)
            except ValueError as e:
                raise oai_error(400, "Bad !mode: %s" % e)
        self.stream = bool(req.get("stream"))
        modes = self.modes

        # Model allow-list (mode 404 forces the same error).
        if model not in self.server.models or modes.get("404"):
            raise oai_error(404, "The model `%s` does not exist or you do not "
                            "have access to it." % model,
                            code="model_not_found")

        # Error modes.
        if "fail-n" in modes:
            # counted per x-test-id, or else per prompt text, so that
            # tests with different prompts do not share a counter
            seen = self.server.count_failure(self.test_id or last_user)
            if seen <= modes["fail-n"]:
                self.note = "fail-n:%d/%d" % (seen, modes["fail-n"])
                code = modes.get("fail-code", 503)
                if code is True or code not in (429, 500, 502, 503, 504):
                    raise oai_error(400, "fail-code must be one of 429, 500, "
                                    "502, 503, 504")
                raise self.status_error(code)
        if modes.get("401"):
            raise self.auth_error(self.check_auth())
        for code in ("429", "500", "503"):
            if modes.get(code):
                raise self.status_error(int(code))
        if modes.get("quota"):
            raise oai_error(429, MSG_QUOTA, etype="insufficient_quota",
                            code="insufficient_quota")
        if modes.get("llamacpp-error"):
            raise ApiError(500, {"error": {
                "code": 500,
                "message": "llama_decode failed: the batch could not be "
                           "decoded (test llama.cpp error)",
                "type": "server_error"}}, indent=None)
        if modes.get("vllm-error"):
            raise ApiError(400, {
                "object": "error",
                "message": "This model's maximum context length is 4096 "
                           "tokens. However, you requested 8192 tokens. "
                           "Please reduce the length of the messages or "
                           "completion.",
                "type": "BadRequestError", "param": None, "code": 400},
                indent=None)
        if modes.get("stream-error") and not self.stream:
            raise oai_error(500, MSG_STREAM_ERR, etype="server_error")
        if "tools" in modes and modes.get("tool-call"):
            raise oai_error(400, "test modes 'tool-call' and 'tools' do not "
                            "combine")
        if "tools-args" in modes:
            n = modes["tools-args"]
            if "tools" not in modes and not modes.get("tool-call"):
                raise oai_error(400, "test mode 'tools-args' needs "
                                "'tools=SHAPE' or 'tool-call'")
            if not 11 <= n <= MAX_BIG_BYTES:
                raise oai_error(400, "tools-args=N needs 11 <= N <= %d"
                                % MAX_BIG_BYTES)

        # The reply.  With tools=SHAPE: tool calls, or "Done: ..." once the
        # messages after the last user message hold tool results.
        shape = modes.get("tools")
        results = [i for i in range(last_user_at + 1, len(messages))
                   if messages[i]["role"] == "tool"]
        calls = None
        if shape and not results and req.get("tools"):
            calls = self.plan_calls(req, shape) or None
        refusal = bool(modes.get("refusal")) and calls is None
        if refusal:
            text = REFUSAL_TEXT
        elif "big" in modes:
            if modes["big"] > MAX_BIG_BYTES:
                raise oai_error(400, "big=N is limited to %d" % MAX_BIG_BYTES)
            text = lorem(modes["big"])
        elif shape and results:
            text = "Done: " + "; ".join(
                "%s -> %s" % (self.called_name(messages, i),
                              content_text(messages[i]["content"]))
                for i in results)
        else:
            text = "Echo: " + last_user
            if last_user_at >= 0:
                text += media_markers(messages[last_user_at]["content"])
        if modes.get("count"):
            text += " (%d messages)" % len(messages)
        if not refusal and "big" not in modes:
            text += self.echo_headers()
        finish = "stop"
        stop = req.get("stop")
        if stop is not None and not refusal:
            cut = [text.find(s) for s in ([stop] if isinstance(stop, str)
                                          else stop) if s]
            cut = [c for c in cut if c >= 0]
            if cut:
                text = text[:min(cut)]
        pieces = split_words(text)
        limit = req.get("max_completion_tokens") or req.get("max_tokens")
        if limit is not None and len(pieces) > limit:
            pieces = pieces[:limit]
            finish = "length"
        text = "".join(pieces)
        if calls is not None:
            pieces, text = [], ""
            finish = "stop" if shape == "gemini" else "tool_calls"
        # reasoning=SHAPE (tools=deepseek thinks before its calls too)
        rshape = modes.get("reasoning")
        if rshape is None and shape == "deepseek" and calls is not None:
            rshape = "deepseek"
        reasoning = None
        if rshape:
            reasoning = (rshape, REASONING_TEXT_TOOLS if calls is not None
                         else REASONING_TEXT)
        reasoning_tokens = len(split_words(reasoning[1])) if reasoning else 0
        completion = len(pieces) + reasoning_tokens
        if calls is not None:
            completion += sum(1 + len(split_words(c["args"])) for c in calls)
        prompt_tokens = count_prompt_tokens(messages)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning_tokens, "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0},
        }
        if modes.get("no-usage"):
            usage = None  # as some servers answer, streamed or not
        reply = {
            "id": random_id("chatcmpl-", 29), "created": int(time.time()),
            "model": model, "pieces": pieces, "text": text,
            "finish": finish, "usage": usage, "refusal": refusal,
            "include_usage": bool((req.get("stream_options") or {})
                                  .get("include_usage")),
            "calls": calls, "shape": shape, "reasoning": reasoning,
        }
        if self.stream:
            self.send_stream(reply)
        else:
            self.send_completion(reply)

    @staticmethod
    def status_error(code):
        if code == 429:
            return oai_error(429, MSG_RATE, etype="requests",
                             code="rate_limit_exceeded",
                             headers=[("Retry-After", "1"),
                                      ("retry-after-ms", "1000")])
        if code == 503:
            return oai_error(503, MSG_503, etype="server_error")
        return oai_error(code, MSG_500, etype="server_error")

    def tool_args(self, obj):
        """obj, or with tools-args=N the object {"pad": "xx..."} whose JSON
        text is N bytes; returns (object, JSON text)."""
        n = self.modes.get("tools-args")
        if n:
            obj = {"pad": "x" * (n - len('{"pad": ""}'))}
        return obj, json.dumps(obj)

    def plan_calls(self, req, shape):
        """The calls of a tools=SHAPE answer, in the order of `tools`
        (at most MAX_TOOL_CALLS; tool_choice and parallel_tool_calls
        narrow them down)."""
        names = [t["function"]["name"] for t in req["tools"]]
        choice = req.get("tool_choice")
        if choice == "none":
            return []
        if isinstance(choice, dict):
            names = [choice["function"]["name"]]
        if req.get("parallel_tool_calls") is False:
            names = names[:1]
        calls = []
        for k, name in enumerate(names[:MAX_TOOL_CALLS]):
            obj, args = self.tool_args(TOOL_ARGS.get(name, {}))
            calls.append({"id": make_call_id(shape, name, k), "name": name,
                          "obj": obj, "args": args})
        return calls

    def legacy_calls(self):
        """The calls of the "tool-call" mode (tools-args=N resizes them)."""
        if not self.modes.get("tools-args"):
            return TOOL_CALLS
        return tuple((i, n, self.tool_args({})[1]) for i, n, _ in TOOL_CALLS)

    @staticmethod
    def called_name(messages, at):
        """The function name of the latest call, before messages[at], whose
        id is the tool_call_id of messages[at] (validation made sure there
        is one; ids may repeat across turns, as Kimi's do)."""
        call_id, name = messages[at]["tool_call_id"], "?"
        for m in messages[:at]:
            for c in m.get("tool_calls") or ():
                if c["id"] == call_id:
                    name = c["function"]["name"]
        return name

    def echo_headers(self):
        """' [Name: value]' for each header named in x-test-echo-header
        (comma-separated); credentials are masked like in error messages."""
        spec = self.headers.get("x-test-echo-header")
        out = []
        for name in (spec or "").split(","):
            name = name.strip()
            if not name:
                continue
            values = self.headers.get_all(name)
            if values is None:
                out.append(" [%s not sent]" % name)
                continue
            value = ", ".join(v.strip() for v in values)
            try:     # http.server decodes header bytes as ISO-8859-1
                value = value.encode("latin-1").decode("utf-8")
            except UnicodeError:
                pass
            if name.lower() in ("authorization", "proxy-authorization",
                                "api-key"):
                scheme, sp, token = value.partition(" ")
                value = (scheme + " " + mask_key(token) if sp
                         else mask_key(value))
            out.append(" [%s: %s]" % (name, value))
        return "".join(out)

    # ---------------------------------------------------------- non-stream

    def citations(self, text):
        """url_citation annotations, as search models send them."""
        n = self.modes.get("citations", 0)
        return [{"type": "url_citation", "url_citation": {
            "start_index": 0, "end_index": min(len(text), 10 + i),
            "title": "Source number %d about this question" % (i + 1),
            "url": "https://docs.example.com/page-%d?utm_source=openai" % i}}
            for i in range(n)]

    def send_completion(self, r):
        if self.modes.get("html"):
            body = HTML_PAGE.encode()
            self.begin_response(200, "text/html; charset=utf-8",
                                length=len(body))
            self.write(body)
            return
        msg = {"role": "assistant",
               "content": None if r["refusal"] else r["text"],
               "refusal": r["text"] if r["refusal"] else None,
               "annotations": self.citations(r["text"])}
        finish = r["finish"]
        if self.modes.get("tool-call"):
            msg["content"] = None
            msg["tool_calls"] = [{"id": i, "type": "function", "function": {
                "name": n, "arguments": a}} for i, n, a in self.legacy_calls()]
            finish = "tool_calls"
        elif r["calls"] is not None:
            msg["content"] = "" if r["shape"] == "gemini" else None
            msg["tool_calls"] = [self.whole_call(c, k, r["shape"], False)
                                 for k, c in enumerate(r["calls"])]
        if r["reasoning"]:
            msg.update(self.reasoning_fields(*r["reasoning"]))
        choices = [{"index": 0, "message": msg, "logprobs": None,
                    "finish_reason": finish}]
        if self.modes.get("two-choices"):
            other = dict(msg, content="Another answer.")
            if r["calls"] is not None:
                del other["tool_calls"]
            choices.append({"index": 1, "message": other, "logprobs": None,
                            "finish_reason": "stop"})
        obj = {
            "id": r["id"], "object": "chat.completion",
            "created": r["created"], "model": r["model"],
            "choices": choices,
            "usage": r["usage"], "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
        body = (self.dump_json(obj, 2) + "\n").encode("utf-8")
        modes = self.modes
        http11 = self.request_version == "HTTP/1.1"

        if modes.get("chunked") and http11:
            # Several small chunks of varying size (hex with letters, upper
            # and lower case), a chunk extension, and a trailer.
            self.begin_response(200, "application/json", chunked=True,
                                extra=[("Trailer", "x-test-trailer")])
            pos, i = 0, 0
            while pos < len(body):
                n = CHUNK_PATTERN[i % len(CHUNK_PATTERN)]
                ext = b";foo=bar" if i % 3 == 1 else b""
                self.write_chunk(body[pos:pos + n], ext, upper=(i % 2 == 1))
                pos += n
                i += 1
                self.pace()
                if i == 2:
                    self.maybe_stall()
                if i == 2 and (modes.get("drop") or modes.get("drop-rst")):
                    self.drop(rst=bool(modes.get("drop-rst")))
            self.end_chunks([(b"x-test-trailer", b"done")])
            return

        self.begin_response(200, "application/json", length=len(body))
        if modes.get("drop") or modes.get("drop-rst") or modes.get("stall"):
            half = len(body) // 2
            self.write(body[:half])
            self.maybe_stall()
            if modes.get("drop") or modes.get("drop-rst"):
                self.drop(rst=bool(modes.get("drop-rst")))
            self.write(body[half:])
        else:
            self.write(body)

    @staticmethod
    def whole_call(c, k, shape, streamed):
        """One tool call whole, as server `shape` writes it: in
        message.tool_calls, or (streamed) in one delta."""
        fn = {"name": c["name"],
              "arguments": c["obj"] if shape == "glm" else c["args"]}
        if shape == "gemini":
            return {"function": fn, "id": c["id"], "type": "function"}
        if shape == "mistral":          # no type; index only non-streamed
            return ({"id": c["id"], "function": fn} if streamed
                    else {"function": fn, "id": c["id"], "index": k})
        call = {"id": c["id"]}
        if streamed:
            if shape == "ollama":
                call["index"] = 0         # every call: index 0
            elif shape == "glm":
                call["index"] = -1
        elif shape in ("ollama", "deepseek"):
            call["index"] = k
        call["type"] = "function"
        call["function"] = fn
        return call

    @staticmethod
    def text_detail(text):
        return {"type": "reasoning.text", "text": text, "format": "unknown",
                "index": 0}

    @staticmethod
    def encrypted_detail(text):
        blob = b"\x80" + hashlib.sha256(text.encode()).digest() * 2
        return {"type": "reasoning.encrypted",
                "data": base64.b64encode(blob).decode("ascii"),
                "id": "rs_" + hashlib.sha256(blob).hexdigest()[:24],
                "format": "openai-responses-v1", "index": 0}

    def reasoning_fields(self, shape, text):
        """Non-streamed message members of reasoning=SHAPE."""
        if shape == "deepseek":
            return {"reasoning_content": text}
        if shape == "groq":
            return {"reasoning": text}
        return {"reasoning": text,
                "reasoning_details": [self.text_detail(text),
                                      self.encrypted_detail(text)]}

    def pace(self):
        ms = self.modes.get("pace", self.opts.pace_ms)
        if isinstance(ms, int) and ms > 0:
            time.sleep(ms / 1000.0)

    def maybe_stall(self):
        stall = self.modes.get("stall")
        if stall:
            ms = 30000 if stall is True else stall
            self.note = "stalled:%dms" % ms
            time.sleep(ms / 1000.0)

    # -------------------------------------------------------------- stream

    def sse(self, payload):
        """Format one server-sent event (data: <payload>\\n\\n)."""
        nl = "\r\n" if self.modes.get("sse-crlf") else "\n"
        prefix = "data:" if self.modes.get("sse-nospace") else "data: "
        head = ""
        if self.modes.get("sse-fields"):
            self.sse_seq += 1
            head = "event: message%sid: %d%s" % (nl, self.sse_seq, nl)
            if self.sse_seq == 1:
                head = "retry: 3000" + nl + head
        return (head + prefix + payload + nl + nl).encode("utf-8")

    def reasoning_events(self, r, chunk):
        """The reasoning deltas of reasoning=SHAPE, which come before the
        content or the calls.  Returns (events, extra): extra is None when
        there is no reasoning, else the members every content delta then
        carries (the role has been sent already)."""
        if not r["reasoning"]:
            return [], None
        shape, text = r["reasoning"]
        pieces = split_words(text)
        if shape == "deepseek":
            events = [chunk({"role": "assistant", "content": None,
                             "reasoning_content": ""})]
            events += [chunk({"content": None, "reasoning_content": p})
                       for p in pieces]
            return events, {"reasoning_content": None}
        if shape == "groq":
            events = [chunk({"role": "assistant", "content": ""})]
            events += [chunk({"reasoning": p, "channel": "analysis"})
                       for p in pieces]
            return events, {}
        # openrouter: role on every delta, "reasoning" and
        # "reasoning_details" side by side, then one encrypted detail
        events = [chunk({"role": "assistant", "content": "", "reasoning": p,
                         "reasoning_details": [self.text_detail(p)]})
                  for p in pieces]
        events.append(chunk({"role": "assistant", "content": "",
                             "reasoning": None, "reasoning_details": [
                                 self.encrypted_detail(text)]}))
        return events, {"role": "assistant", "reasoning": None,
                        "reasoning_details": []}

    def tool_events(self, r, chunk, events, role_sent):
        """Append the streamed calls of tools=SHAPE to events.  Returns
        (finish_done, usage_done): whether they include the finish chunk,
        and the usage (if there is any to send)."""
        shape, calls = r["shape"], r["calls"]
        usage = r["usage"]
        if shape in ("ollama", "gemini"):
            # each call whole in a delta of its own, role on every delta
            for k, c in enumerate(calls):
                delta = {"role": "assistant"}
                if shape == "ollama":
                    delta["content"] = ""
                delta["tool_calls"] = [self.whole_call(c, k, shape, True)]
                events.append(chunk(delta))
            events.append(chunk({"role": "assistant", "content": ""}
                                if shape == "ollama" else {}, r["finish"]))
            return True, False
        if shape in ("mistral", "glm"):
            # all calls whole in the finish chunk
            if not role_sent:
                events.append(chunk({"role": "assistant", "content": ""}))
            whole = [self.whole_call(c, k, shape, True)
                     for k, c in enumerate(calls)]
            if shape == "mistral":
                events.append(chunk({"content": None, "tool_calls": whole},
                                    r["finish"], usage=usage))
                return True, True
            events.append(chunk({"role": "assistant", "tool_calls": whole},
                                r["finish"]))
            return True, False

        # Fragmented: a first fragment with id, type and name, then
        # "arguments" pieces keyed by index.
        qwen = shape == "qwen"
        per_call = []       # per call: its fragments, as (delta, last)
        for k, c in enumerate(calls):
            frags = [({"index": k, "id": c["id"], "type": "function",
                       "function": {"name": c["name"], "arguments": ""}},
                      False)]
            for piece in arg_pieces(c["args"]):
                if qwen:    # continuations repeat type, with an empty id
                    frags.append(({"index": k, "id": "", "type": "function",
                                   "function": {"arguments": piece}}, False))
                else:
                    frags.append(({"index": k,
                                   "function": {"arguments": piece}}, False))
            if qwen:        # and a last empty fragment closes each call
                frags.append(({"function": {"arguments": ""}, "index": k,
                               "id": "", "type": "function"}, True))
            per_call.append(frags)
        if shape == "interleaved":      # 0, 1, 0, 1, ...
            order = []
            for j in range(max(len(f) for f in per_call)):
                order += [f[j] for f in per_call if j < len(f)]
        else:                           # one call after the other
            order = [frag for frags in per_call for frag in frags]
        if not role_sent and shape not in ("qwen", "kimi"):
            events.append(chunk({"role": "assistant", "content": None,
                                 "refusal": None}))
        for n, (frag, last) in enumerate(order):
            if qwen:
                delta = ({"tool_calls": [frag]} if last
                         else {"content": None, "tool_calls": [frag]})
                if n == 0:
                    delta["role"] = "assistant"
            elif shape == "kimi" and n == 0:
                delta = {"role": "assistant", "content": None,
                         "tool_calls": [frag]}
            else:
                delta = {"tool_calls": [frag]}
            # Qwen: no finish_reason member until the last chunk
            events.append(chunk(delta, finish_key=not qwen))
        if shape == "deepseek":
            # DeepSeek's finish chunk, which also carries the usage
            events.append(chunk({"content": "", "reasoning_content": None},
                                r["finish"], usage=usage
                                if r["include_usage"] else None))
            return True, True
        return False, False

    def send_stream(self, r):
        modes = self.modes
        base = {"id": r["id"], "object": "chat.completion.chunk",
                "created": r["created"], "model": r["model"],
                "service_tier": "default",
                "system_fingerprint": SYSTEM_FINGERPRINT}

        def chunk(delta, finish=None, index=0, finish_key=True, usage=None):
            # finish_key=False: no "finish_reason" member at all (Qwen);
            # usage: put the usage in this chunk (Mistral, DeepSeek)
            obj = dict(base)
            choice = {"index": index, "delta": delta, "logprobs": None}
            if finish_key:
                choice["finish_reason"] = finish
            obj["choices"] = [choice]
            if r["include_usage"] or usage is not None:
                obj["usage"] = usage
            return self.sse(self.dump_json(obj))

        if modes.get("html"):
            body = HTML_PAGE.encode()
            self.begin_response(200, "text/html; charset=utf-8",
                                length=len(body))
            self.write(body)
            return
        # Build the whole event list first; modes then decide where to cut.
        events, rextra = self.reasoning_events(r, chunk)
        # True when the events already hold the finish chunk / the usage
        finish_done = usage_done = False
        if modes.get("tool-call"):
            # OpenAI's shape: id, type and name in the first fragment of
            # each call, then "arguments" pieces keyed by index
            events += [chunk({"role": "assistant", "content": None,
                              "refusal": None})]
            for k, (cid, name, args) in enumerate(self.legacy_calls()):
                events.append(chunk({"tool_calls": [{
                    "index": k, "id": cid, "type": "function",
                    "function": {"name": name, "arguments": ""}}]}))
                for piece in (args[:5], args[5:]):
                    events.append(chunk({"tool_calls": [{
                        "index": k, "function": {"arguments": piece}}]}))
            r = dict(r, finish="tool_calls", pieces=[])
        elif r["calls"] is not None:
            finish_done, usage_done = self.tool_events(r, chunk, events,
                                                       rextra is not None)
        elif r["refusal"]:
            events += [chunk({"role": "assistant", "content": None,
                              "refusal": ""})]
            events += [chunk({"refusal": p}) for p in r["pieces"]]
        else:
            if rextra is None:
                events.append(chunk({"role": "assistant", "content": "",
                                     "refusal": None}))
            for p in r["pieces"]:
                if modes.get("two-choices"):
                    events.append(chunk({"content": p.upper()}, index=1))
                events.append(chunk(dict({"content": p}, **(rextra or {}))))
        if modes.get("citations") and not r["refusal"]:
            events.append(chunk({"annotations": self.citations(r["text"])}))
        if modes.get("two-choices"):
            events.append(chunk({}, "length", index=1))
        if not finish_done:
            events.append(chunk({}, r["finish"]))
        if r["include_usage"] and r["usage"] is not None and not usage_done:
            obj = dict(base)
            obj["choices"] = []
            obj["usage"] = r["usage"]
            events.append(self.sse(self.dump_json(obj)))
        events.append(self.sse("[DONE]"))
        # Where error / drop modes strike: after the role event and up to
        # two content events ("some deltas").
        cut = max(0, min(3, len(events) - 3))

        http11 = self.request_version == "HTTP/1.1"
        ext_mode = bool(modes.get("chunked"))
        extra = [("Cache-Control", "no-cache")]
        if ext_mode and http11:
            extra.append(("Trailer", "x-test-trailer"))
        self.begin_response(200, "text/event-stream; charset=utf-8",
                            chunked=http11, extra=extra)

        def out(data, i=0):
            if http11:
                self.write_chunk(data, b";foo=bar" if ext_mode and i % 3 == 1
                                 else b"", upper=ext_mode and i % 2 == 1)
            else:
                self.write(data)

        def finish_body():
            if not http11:
                return  # close-delimited (HTTP/1.0 client)
            self.end_chunks([(b"x-test-trailer", b"done")]
                            if ext_mode else ())

        nl = b"\r\n" if modes.get("sse-crlf") else b"\n"
        keepalive = b": keep-alive" + nl + nl
        if modes.get("coalesce") and not (modes.get("drop")
                                          or modes.get("drop-rst")
                                          or modes.get("stream-error")
                                          or modes.get("stall")):
            # All events in a single chunk / single write.
            self.t_first_event = time.monotonic_ns()
            out(keepalive + b"".join(events))
            self.events_sent = len(events)
            finish_body()
            return

        out(keepalive)
        for i, ev in enumerate(events):
            if i > 0:
                self.pace()
            if i == cut:
                if modes.get("drop") or modes.get("drop-rst"):
                    self.drop(rst=bool(modes.get("drop-rst")))
                if modes.get("stream-error"):
                    out(self.sse(self.dump_json(
                        {"error": {"message": MSG_STREAM_ERR,
                                   "type": "server_error", "param": None,
                                   "code": None}})), i)
                    self.note = "stream-error"
                    finish_body()
                    return
            if i == 0:
                # Taken just before the write, so (client receive time -
                # first_event_ns) is never negative.
                self.t_first_event = time.monotonic_ns()
            out(ev, i)
            self.events_sent += 1
            if i == 0:
                self.maybe_stall()
        finish_body()


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

TLS_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


class Terminate(Exception):
    pass


def build_ssl_context(opts):
    if not opts.tls_cert and not opts.tls_key:
        return None
    if not (opts.tls_cert and opts.tls_key):
        raise SystemExit("chat_server: --tls-cert and --tls-key go together")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
    ctx.minimum_version = TLS_VERSIONS[opts.tls_min]
    ctx.maximum_version = TLS_VERSIONS[opts.tls_max]
    if ctx.minimum_version > ctx.maximum_version:
        raise SystemExit("chat_server: --tls-min is above --tls-max")
    if opts.tls_ciphers:
        ctx.set_ciphers(opts.tls_ciphers)
    if opts.tls_curve:
        ctx.set_ecdh_curve(opts.tls_curve)
    if opts.tls_tickets is not None:
        ctx.num_tickets = opts.tls_tickets
    if opts.tls_client_ca:
        # a server that requires client certificates (chatwire sends none)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(opts.tls_client_ca)
    elif opts.tls_client_cert_reset:
        # asks for one, and refuses its absence with a bare TCP reset
        # (what a TLS 1.3 alert can be overtaken by)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(opts.tls_client_cert_reset)

    def note_sni(sock, name, _ctx):
        SNI_SEEN[id(sock)] = name if name is not None else "-"
    ctx.sni_callback = note_sni
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


# The server name each TLS connection sent (SNI), by socket, for the log.
SNI_SEEN = {}


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Local OpenAI-compatible Chat Completions test server.")
    ap.add_argument("--host", default="127.0.0.1",
                    help="address to bind (default 127.0.0.1; '::1' for IPv6)")
    ap.add_argument("--port", type=int, default=0,
                    help="port to bind, 0 = pick a free one (default 0)")
    ap.add_argument("--port-file",
                    help="write the bound port here once listening "
                         "(atomically; removed again on clean exit)")
    ap.add_argument("--tls-cert", help="server certificate (PEM, may hold "
                    "a chain); with --tls-key enables HTTPS")
    ap.add_argument("--tls-key", help="server private key (PEM)")
    ap.add_argument("--tls-min", choices=sorted(TLS_VERSIONS), default="1.2")
    ap.add_argument("--tls-max", choices=sorted(TLS_VERSIONS), default="1.3")
    ap.add_argument("--tls-ciphers", help="OpenSSL cipher list for TLS 1.2")
    ap.add_argument("--tls-curve", help="restrict ECDHE to one group, e.g. "
                    "prime256v1 (forces a HelloRetryRequest for clients "
                    "that send another key share)")
    ap.add_argument("--tls-client-ca", metavar="FILE",
                    help="require a client certificate signed by FILE")
    ap.add_argument("--tls-client-cert-reset", metavar="FILE",
                    help="ask for a client certificate signed by FILE; "
                    "without one, reset the connection after the handshake")
    ap.add_argument("--tls-tickets", type=int, metavar="N",
                    help="TLS 1.3 session tickets to send (default 2)")
    ap.add_argument("--key", default="test-key",
                    help="expected API key (default test-key)")
    ap.add_argument("--model", action="append", metavar="NAME",
                    help="accept another model name (repeatable)")
    ap.add_argument("--pace-ms", type=int, default=0,
                    help="default delay between stream events")
    ap.add_argument("--idle-close-ms", type=int, default=0,
                    help="close keep-alive connections idle this long "
                         "(default 0 = never)")
    ap.add_argument("--read-timeout-ms", type=int, default=10000,
                    help="timeout for the TLS handshake and for reading a "
                         "request (default 10000)")
    ap.add_argument("--event-log", metavar="FILE",
                    help="append one line per request (with monotonic "
                         "timestamps) to FILE")
    ap.add_argument("--quiet", action="store_true",
                    help="no log output on stderr")
    opts = ap.parse_args(argv)

    ctx = build_ssl_context(opts)
    server = ChatServer(opts, ctx)
    port = server.server_address[1]

    def on_signal(signum, frame):
        raise Terminate()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if opts.port_file:
        tmp = "%s.tmp.%d" % (opts.port_file, os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, opts.port_file)
    host = opts.host if ":" not in opts.host else "[%s]" % opts.host
    server.log("listening on %s://%s:%d" % ("https" if ctx else "http", host,
                                            port))
    try:
        server.serve_forever(poll_interval=0.2)
    except Terminate:
        pass
    finally:
        server.server_close()
        if opts.port_file:
            try:
                os.unlink(opts.port_file)
            except OSError:
                pass
    server.log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
