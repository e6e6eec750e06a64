#!/usr/bin/python3
"""check.py - the platform manifests, checked offline for what can be checked.

None of ESP-IDF, Zephyr, PlatformIO, Arduino or the pico-sdk can be
installed here, so this checks what they would read, the way they read it:

  versions     every manifest carries the CMake project version (and
               chatwire.h's CW_VERSION_STRING is the same)
  sources      chatwireFilePaths.cmake, chatwire.mk and src/ list the same
               files
  kconfig      ./Kconfig (ESP-IDF) and zephyr/Kconfig (Zephyr, under the
               symbols it depends on) parse without a warning
               (kconfiglib); every CONFIG_CHATWIRE_* symbol maps onto a
               chatwire_config.h macro that exists, with the same default,
               and every option of chatwire_config.h has a symbol
  module.yml   validates against Zephyr's schema (pykwalify)
  library.json validates against PlatformIO's schema (jsonschema), plus the
               fields that schema marks required in a way jsonschema ignores
  library.properties  the Arduino fields, the headers it names
  esp-idf, zephyr, pico-sdk
               a project that does what each SDK's build does with
               chatwire's CMake (tests/manifests/<sdk>/CMakeLists.txt)
               compiles every source the component lists, with Kconfig
               values that are the defaults, all changed, and all features
               off; a program built beside it prints the option values it
               sees, which must be the ones Kconfig was given
  arduino      every .c under src/ compiles with only src/ on the include
               path (how the Arduino IDE builds a library), as the ESP32
               core would (ARDUINO_ARCH_ESP32)

Run with Debian's python3 (python3-kconfiglib, python3-pykwalify,
python3-jsonschema):  /usr/bin/python3 tests/manifests/check.py
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import jsonschema
import kconfiglib
import yaml
from pykwalify.core import Core

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FAILED = []


def ok(name):
    print("ok   %s" % name, flush=True)


def fail(name, why):
    FAILED.append(name)
    print("FAIL %s: %s" % (name, why), flush=True)


def check(name, cond, why):
    if cond:
        ok(name)
    else:
        fail(name, why)
    return cond


def read(rel):
    with open(os.path.join(REPO, rel)) as f:
        return f.read()


# ------------------------------------------------------------------ versions

def project_version():
    m = re.search(r"project\(chatwire VERSION (\d+\.\d+\.\d+)", read("CMakeLists.txt"))
    return m.group(1)


def check_versions(version):
    header = re.search(r'#define CW_VERSION_STRING "([^"]+)"',
                       read("include/chatwire.h")).group(1)
    idf = yaml.safe_load(read("idf_component.yml"))["version"]
    pio = json.loads(read("library.json"))["version"]
    props = properties()
    for what, got in (("chatwire.h CW_VERSION_STRING", header),
                      ("idf_component.yml", idf), ("library.json", pio),
                      ("library.properties", props.get("version"))):
        check("version: %s is %s" % (what, version), got == version,
              "it says %r" % got)


# ------------------------------------------------------------------- sources

def cmake_lists():
    text = read("chatwireFilePaths.cmake")
    out = {}
    for m in re.finditer(r"set\((CHATWIRE_[A-Z_]+)\s+([^)]*)\)", text):
        if m.group(1) == "CHATWIRE_DIR":
            continue
        out[m.group(1)] = [v.replace("${CHATWIRE_DIR}/", "")
                           for v in m.group(2).split()]
    return out


def make_lists():
    text = read("chatwire.mk").replace("\\\n", " ")
    out = {}
    for m in re.finditer(r"^(CHATWIRE_[A-Z_]+) :=(.*)$", text, re.M):
        out[m.group(1)] = [v.replace("$(CHATWIRE_DIR)/", "")
                           for v in m.group(2).split()]
    return out


MK_NAME = {"SOURCES": "SRCS", "INCLUDE_DIRS": "INC",
           "PRIVATE_INCLUDE_DIRS": "PRIVATE_INC", "PUBLIC_HEADERS": "PUBLIC_HEADERS"}


def check_sources(cm):
    mk = make_lists()
    for name, files in sorted(cm.items()):
        mk_name = name
        for suffix in sorted(MK_NAME, key=len, reverse=True):
            if name.endswith("_" + suffix):
                mk_name = name[:-len(suffix)] + MK_NAME[suffix]
                break
        check("sources: chatwire.mk %s = chatwireFilePaths.cmake %s" % (mk_name, name),
              mk.get(mk_name) == files,
              "make has %r, CMake %r" % (mk.get(mk_name), files))
        missing = [f for f in files if not os.path.exists(os.path.join(REPO, f))]
        check("sources: %s all exist" % name, not missing, "missing %r" % missing)
    listed = set(cm["CHATWIRE_CORE_SOURCES"] + cm["CHATWIRE_JSMN_SOURCES"])
    in_src = set(os.path.relpath(p, REPO) for d in ("core", "client")
                 for p in glob.glob(os.path.join(REPO, "src", d, "*.c")))
    in_src |= set(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "src", "*.c")))
    check("sources: every src/core, src/client (and src/) *.c is in the core or jsmn list (and only those)",
          listed == in_src, "not listed %r, listed but absent %r"
          % (sorted(in_src - listed), sorted(listed - in_src)))
    ports = set(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "ports", "**", "*.c"), recursive=True))
    plisted = set(f for k, v in cm.items() if k.endswith("_SOURCES") for f in v)
    check("sources: every ports/**/*.c is listed", ports <= plisted,
          "not listed %r" % sorted(ports - plisted))
    headers = set(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "include", "*.h")))
    check("sources: every include/*.h is a public header",
          headers == set(cm["CHATWIRE_PUBLIC_HEADERS"]),
          "include/ has %r" % sorted(headers))


# ------------------------------------------------------------------- kconfig

# chatwire_config.h options that are not Kconfig's to set: hooks to code
NOT_KCONFIG = {"CW_LOG_ERROR", "CW_LOG_WARN", "CW_LOG_INFO", "CW_LOG_DEBUG",
               "CW_ASSERT", "CW_API"}


def config_h_defaults():
    text = read("include/chatwire_config.h")
    out = {}
    for m in re.finditer(r"#ifndef (CW_\w+)\n#define \1(?:\(\.\.\.\))? (.*)\n", text):
        out[m.group(1)] = m.group(2).strip()
    return out


def kconfig_map():
    """CONFIG_CHATWIRE_X -> CW_Y, from ports/kconfig/cw_config_kconfig.h."""
    text = read("ports/kconfig/cw_config_kconfig.h")
    out = {}
    for m in re.finditer(r"#ifdef CONFIG_(CHATWIRE_\w+)\n#define (CW_\w+) 1\n", text):
        out[m.group(1)] = m.group(2)
    for m in re.finditer(r"#define (CW_\w+) \(?CONFIG_(CHATWIRE_\w+)\b", text):
        out[m.group(2)] = m.group(1)
    return out


def c_default(value):
    v = value.strip()
    if v.startswith('"'):
        return v.strip('"')
    return str(int(v.rstrip("u"), 0))


def load_kconfig(path):
    k = kconfiglib.Kconfig(path, warn_to_stderr=False)
    return k, list(k.warnings)


def zephyr_kconfig_top(tmp):
    # the Zephyr symbols chatwire's module refers to, as Zephyr has them
    top = os.path.join(tmp, "Kconfig.zephyr")
    with open(top, "w") as f:
        f.write('mainmenu "Zephyr stand-in"\n')
        for sym in ("NETWORKING", "NET_SOCKETS", "MBEDTLS", "POSIX_API"):
            f.write('config %s\n\tbool "%s"\n\tdefault y\n' % (sym, sym))
        f.write('source "%s/zephyr/Kconfig"\n' % REPO)
    return top


def check_kconfig(tmp):
    idf, warns = load_kconfig(os.path.join(REPO, "Kconfig"))
    check("kconfig: ./Kconfig parses without a warning", not warns, warns)
    zk, zwarns = load_kconfig(zephyr_kconfig_top(tmp))
    check("kconfig: zephyr/Kconfig parses without a warning", not zwarns, zwarns)
    idf_syms = {s.name for s in idf.unique_defined_syms}
    z_syms = {s.name for s in zk.unique_defined_syms if s.name.startswith("CHATWIRE")}
    check("kconfig: zephyr/Kconfig has ./Kconfig's symbols and CHATWIRE",
          z_syms == idf_syms | {"CHATWIRE"}, "differ: %r" % sorted(z_syms ^ (idf_syms | {"CHATWIRE"})))
    check("kconfig: every symbol is CHATWIRE_*",
          all(s.startswith("CHATWIRE_") for s in idf_syms), sorted(idf_syms))
    mapping = kconfig_map()
    defaults = config_h_defaults()
    for sym in sorted(idf_syms):
        macro = mapping.get(sym)
        if not check("kconfig: CONFIG_%s maps onto a macro" % sym, macro is not None,
                     "cw_config_kconfig.h does not use it"):
            continue
        if not check("kconfig: %s exists in chatwire_config.h" % macro, macro in defaults,
                     "no #ifndef %s there" % macro):
            continue
        s = idf.syms[sym]
        if s.type == kconfiglib.BOOL:
            kdef = "1" if s.str_value == "y" else "0"
        else:
            kdef = s.str_value
        check("kconfig: CONFIG_%s defaults to chatwire_config.h's %s" % (sym, macro),
              kdef == c_default(defaults[macro]),
              "Kconfig %r, chatwire_config.h %r" % (kdef, defaults[macro]))
    unmapped = sorted(set(defaults) - set(mapping.values()) - NOT_KCONFIG)
    check("kconfig: every chatwire_config.h option has a Kconfig symbol", not unmapped,
          "no symbol for %r" % unmapped)
    return idf, mapping


def kconfig_variants(k):
    """(name, {symbol: value}) for the builds: defaults, every value
    changed (retries on, the other features off), every feature off."""
    changed = {}
    for s in k.unique_defined_syms:
        if s.type == kconfiglib.BOOL:
            changed[s.name] = "y" if s.name == "CHATWIRE_RETRIES" else "n"
        elif s.type == kconfiglib.INT:
            lo, hi = [int(x.str_value) for x in s.ranges[0][:2]] if s.ranges else (0, 1 << 30)
            v = int(s.str_value) + 7
            changed[s.name] = str(v if lo <= v <= hi else lo)
        elif s.type == kconfiglib.STRING:
            changed[s.name] = "changed-" + s.name.lower()
    off = {s.name: "n" for s in k.unique_defined_syms if s.type == kconfiglib.BOOL}
    return [("defaults", {}), ("changed", changed), ("features-off", off)]


def write_config(path_kconfig, values, header, top=None):
    k = kconfiglib.Kconfig(top or path_kconfig, warn_to_stderr=False)
    for name, v in values.items():
        k.syms[name].set_value(v)
        if k.syms[name].str_value != v and k.syms[name].visibility:
            raise SystemExit("kconfig: %s=%s not taken (%s)" % (name, v, k.syms[name].str_value))
    k.write_autoconf(header)
    return {s.name: s.str_value for s in k.unique_defined_syms}, k


# -------------------------------------------------------------- manifests

def check_module_yml():
    data = yaml.safe_load(read("zephyr/module.yml"))
    with open(os.path.join(HERE, "zephyr-module.schema.yaml")) as f:
        schema = yaml.safe_load(f)
    try:
        Core(source_data=data, schema_data=schema).validate(raise_exception=True)
        ok("zephyr/module.yml validates against Zephyr's schema")
    except Exception as e:  # pykwalify's SchemaError and friends
        fail("zephyr/module.yml validates against Zephyr's schema", e)
    b = data.get("build", {})
    check("zephyr/module.yml: build.cmake holds a CMakeLists.txt",
          os.path.isfile(os.path.join(REPO, b.get("cmake", "?"), "CMakeLists.txt")), b)
    check("zephyr/module.yml: build.kconfig is a file",
          os.path.isfile(os.path.join(REPO, b.get("kconfig", "?"))), b)


def check_library_json(version):
    data = json.loads(read("library.json"))
    with open(os.path.join(HERE, "platformio-library.schema.json")) as f:
        schema = json.load(f)
    # The schema writes "required": true/false inside each property (draft
    # 3 style), which JSON Schema 2020-12 does not allow: turn them into
    # the parent's "required" list, which says the same, and validate.
    def standard(node):
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                req = [k for k, v in props.items()
                       if isinstance(v, dict) and v.get("required") in (True, "true")]
                for v in props.values():
                    if isinstance(v, dict) and not isinstance(v.get("required"), list):
                        v.pop("required", None)
                if req:
                    node["required"] = req
            for v in node.values():
                standard(v)
        elif isinstance(node, list):
            for v in node:
                standard(v)
    standard(schema)
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
        cls(schema).validate(data)
        ok("library.json validates against PlatformIO's schema")
    except (jsonschema.ValidationError, jsonschema.SchemaError) as e:
        fail("library.json validates against PlatformIO's schema", e.message)
    check("library.json: the schema's required fields are name, version, "
          "description, keywords", schema.get("required") ==
          ["name", "version", "description", "keywords"], schema.get("required"))
    check("library.json: name is slug style", re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", data.get("name", "")) is not None,
          data.get("name"))
    kws = data.get("keywords", [])
    kws = kws if isinstance(kws, list) else [w.strip() for w in kws.split(",")]
    check("library.json: keywords are lower-case slugs",
          all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", w) for w in kws), kws)
    build = data.get("build", {})
    root = os.path.join(REPO, build.get("srcDir", "src"))
    srcs = set()
    for rule in build.get("srcFilter", []):
        pats = glob.glob(os.path.join(root, rule[2:-1]))
        if rule.startswith("+"):
            srcs |= set(os.path.relpath(p, REPO) for p in pats)
    cm = cmake_lists()
    want = set(cm["CHATWIRE_CORE_SOURCES"] + cm["CHATWIRE_JSMN_SOURCES"] +
               cm["CHATWIRE_LWIP_SOURCES"] + cm["CHATWIRE_MBEDTLS_SOURCES"])
    check("library.json: srcFilter picks the core, jsmn, lwIP and mbedTLS sources",
          srcs == want, "picks %r" % sorted(srcs ^ want))
    for flag in build.get("flags", []):
        if flag.startswith("-I"):
            d = flag[2:].strip()
            check("library.json: include %s exists" % d, os.path.isdir(os.path.join(REPO, d)), d)
    for h in data.get("headers", []):
        found = [d for d in ("include", "ports/lwip", "ports/mbedtls") if os.path.isfile(os.path.join(REPO, d, h))]
        check("library.json: header %s exists" % h, bool(found), h)


def properties():
    out = {}
    for line in read("library.properties").splitlines():
        if line.strip() and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


def check_library_properties():
    p = properties()
    # the fields of the Arduino library specification (1.5 format)
    for field in ("name", "version", "author", "maintainer", "sentence",
                  "paragraph", "category", "architectures"):
        check("library.properties: has %s" % field, bool(p.get(field)), "missing")
    check("library.properties: category is one of Arduino's",
          p.get("category") in ("Display", "Communication", "Signal Input/Output",
                                "Sensors", "Device Control", "Timing",
                                "Data Storage", "Data Processing", "Other"),
          p.get("category"))
    for h in p.get("includes", "").split(","):
        check("library.properties: includes %s is in src/" % h.strip(),
              os.path.isfile(os.path.join(REPO, "src", h.strip())), h)


# ------------------------------------------------------------- SDK builds

def run(cmd, log, **kw):
    with open(log, "a") as f:
        f.write("$ %s\n" % " ".join(cmd))
        f.flush()
        return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, **kw).returncode


def tail(log, n=25):
    with open(log) as f:
        return "".join(f.readlines()[-n:])


def mbedtls_include():
    found = sorted(glob.glob(os.path.join(REPO, "third_party", "src", "mbedtls-3.6.*", "include")))
    if not found:
        raise SystemExit("check.py: no mbedTLS 3.6 source: run scripts/get-deps-src.sh first")
    return found[-1]


LWIP_INCLUDE = "/usr/include/lwip"   # Debian's liblwip-dev: headers, lwipopts.h, arch/cc.h


def nm_defined(paths):
    out = subprocess.run(["nm", "--defined-only"] + paths, capture_output=True, text=True).stdout
    return set(line.split()[-1] for line in out.splitlines() if len(line.split()) == 3)


def build_sdk(sdk, tmp, variant, config_dir, extra):
    bdir = os.path.join(tmp, "%s-%s" % (sdk, variant))
    log = bdir + ".log"
    cmd = ["cmake", "-S", os.path.join(HERE, sdk), "-B", bdir,
           "-DCW_MBEDTLS_INCLUDE_DIR=" + mbedtls_include(),
           "-DCW_LWIP_INCLUDE_DIRS=" + LWIP_INCLUDE] + extra
    if config_dir:
        cmd.append("-DCW_SDKCONFIG_DIR=" + config_dir)
    if run(cmd, log) != 0 or run(["cmake", "--build", bdir, "-j2"], log) != 0:
        fail("%s (%s): configure and build" % (sdk, variant), "\n" + tail(log))
        return None
    ok("%s (%s): every listed source compiles, warnings as errors" % (sdk, variant))
    return bdir


def printed(bdir):
    out = subprocess.run([os.path.join(bdir, "print_config")], capture_output=True,
                         text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def expect_values(values, mapping):
    """What print_config must show for these Kconfig values."""
    defaults = config_h_defaults()
    want = {}
    for macro, d in defaults.items():
        if macro not in NOT_KCONFIG:
            want[macro] = c_default(d)
    for sym, macro in mapping.items():
        if sym in values and values[sym] != "":
            v = values[sym]
            want[macro] = {"y": "1", "n": "0"}.get(v, v)
        elif sym in values and macro.startswith("CW_CONFIG_"):
            want[macro] = "0"   # a bool that is off has no value
        # an int whose dependency is off has none either: the default
    return want


def check_printed(name, got, want):
    bad = {m: (got.get(m), v) for m, v in want.items() if got.get(m) != v}
    check("%s: the options are the ones asked for" % name, not bad,
          "macro: (seen, asked) %r" % bad)
    for field, macro in (("detail", "CW_DETAIL_MAX"), ("error.message", "CW_ERROR_MESSAGE_MAX")):
        key = "sizeof(((cw_result_t *)0)->%s)" % field
        check("%s: cw_result_t.%s has %s bytes" % (name, field, macro),
              got.get(key) == want[macro], "%r" % got.get(key))


def check_listed(name, bdir, wanted):
    with open(os.path.join(bdir, "component_sources.txt")) as f:
        got = set(os.path.relpath(line.strip(), REPO) for line in f if line.strip())
    check("%s: compiles the sources the one list names" % name, got == set(wanted),
          "differs by %r" % sorted(got ^ set(wanted)))


def check_esp_idf(tmp, kconf, mapping, cm):
    wanted = (cm["CHATWIRE_CORE_SOURCES"] + cm["CHATWIRE_JSMN_SOURCES"] +
              cm["CHATWIRE_LWIP_SOURCES"] + cm["CHATWIRE_MBEDTLS_SOURCES"])
    for variant, values in kconfig_variants(kconf):
        cfg = os.path.join(tmp, "sdkconfig-" + variant)
        os.makedirs(cfg, exist_ok=True)
        vals, _ = write_config(os.path.join(REPO, "Kconfig"), values,
                               os.path.join(cfg, "sdkconfig.h"))
        bdir = build_sdk("esp-idf", tmp, variant, cfg, [])
        if not bdir:
            continue
        name = "esp-idf (%s)" % variant
        check_listed(name, bdir, wanted)
        lib = os.path.join(bdir, "chatwire", "lib__idf_chatwire.a")
        syms = nm_defined([lib]) if os.path.exists(lib) else set()
        need = {"cw_chat", "cw_client_init", "cw_jsmn_parse", "cw_lwip_transport", "cw_tls_init"}
        check("%s: the component archive defines %s" % (name, ", ".join(sorted(need))),
              need <= syms, "missing %r" % sorted(need - syms))
        check_printed(name, printed(bdir), expect_values(vals, mapping))


def check_zephyr(tmp, kconf, mapping, cm):
    wanted = (cm["CHATWIRE_CORE_SOURCES"] + cm["CHATWIRE_JSMN_SOURCES"] +
              cm["CHATWIRE_POSIX_SOURCES"] + cm["CHATWIRE_MBEDTLS_SOURCES"])
    top = zephyr_kconfig_top(tmp)
    for variant, values in kconfig_variants(kconf):
        header = os.path.join(tmp, "autoconf-%s.h" % variant)
        vals, _ = write_config(None, dict(values, CHATWIRE="y"), header, top=top)
        bdir = build_sdk("zephyr", tmp, variant, None, ["-DCW_AUTOCONF_H=" + header])
        if not bdir:
            continue
        name = "zephyr (%s)" % variant
        check_listed(name, bdir, wanted)
        lib = os.path.join(bdir, "chatwire", "libchatwire.a")
        syms = nm_defined([lib]) if os.path.exists(lib) else set()
        need = {"cw_chat", "cw_jsmn_parse", "cw_posix_transport", "cw_tls_init"}
        check("%s: the library defines %s" % (name, ", ".join(sorted(need))),
              need <= syms, "missing %r" % sorted(need - syms))
        check_printed(name, printed(bdir), expect_values(vals, mapping))


def check_pico(tmp, cm):
    bdir = build_sdk("pico-sdk", tmp, "defaults", None, [])
    if not bdir:
        return
    wanted = (cm["CHATWIRE_CORE_SOURCES"] + cm["CHATWIRE_JSMN_SOURCES"] +
              cm["CHATWIRE_LWIP_SOURCES"] + cm["CHATWIRE_MBEDTLS_SOURCES"] +
              cm["CHATWIRE_MBEDTLS_MCU_SOURCES"])
    check_listed("pico-sdk", bdir, wanted)
    syms = nm_defined([os.path.join(bdir, "libapp.a")])
    need = {"cw_chat", "cw_jsmn_parse", "cw_lwip_transport", "cw_tls_init", "cw_tls_mcu_init"}
    check("pico-sdk: the target that links them defines %s" % ", ".join(sorted(need)),
          need <= syms, "missing %r" % sorted(need - syms))
    got = printed(bdir)
    want = {m: c_default(v) for m, v in config_h_defaults().items() if m not in NOT_KCONFIG}
    check_printed("pico-sdk", got, want)


def check_arduino(tmp):
    # arduino-cli: each .c under src/ (recursively), -I src only (plus the
    # core's headers and the jsmn library's folder)
    jsmn = os.path.join(tmp, "arduino-libraries", "jsmn")
    os.makedirs(jsmn, exist_ok=True)
    shutil.copy("/usr/include/jsmn.h", jsmn)
    log = os.path.join(tmp, "arduino.log")
    srcs = sorted(glob.glob(os.path.join(REPO, "src", "**", "*.c"), recursive=True))
    objs = []
    bad = []
    for src in srcs:
        obj = os.path.join(tmp, "arduino-" + os.path.relpath(src, REPO).replace("/", "_") + ".o")
        cmd = ["cc", "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wshadow",
               "-Werror", "-DARDUINO_ARCH_ESP32", "-DARDUINO=10819",
               # the jsmn library's folder: its warnings are not ours
               "-I", os.path.join(REPO, "src"), "-isystem", jsmn,
               "-isystem", LWIP_INCLUDE, "-isystem", mbedtls_include(), "-c", src, "-o", obj]
        if run(cmd, log) != 0:
            bad.append(os.path.relpath(src, REPO))
        objs.append(obj)
    check("arduino: every src/**/*.c compiles with only src/ on the include path",
          not bad, "failed: %r\n%s" % (bad, tail(log)))
    if not bad:
        syms = nm_defined(objs)
        need = {"cw_chat", "cw_jsmn_parse", "cw_lwip_transport", "cw_tls_init"}
        check("arduino: the library defines %s" % ", ".join(sorted(need)),
              need <= syms, "missing %r" % sorted(need - syms))
    sketch = os.path.join(tmp, "sketch.c")
    with open(sketch, "w") as f:
        f.write('#include <chatwire_arduino.h>\n'
                'int main(void) { cw_lwip_t s; cw_lwip_init(&s); return 0; }\n')
    check("arduino: a sketch's #include <chatwire_arduino.h> gives the client and the ports",
          run(["cc", "-std=c99", "-Wall", "-Werror", "-DARDUINO_ARCH_ESP32", "-I",
               os.path.join(REPO, "src"), "-isystem", LWIP_INCLUDE, "-isystem",
               mbedtls_include(), "-fsyntax-only", sketch], log) == 0, tail(log))


def main():
    tmp = tempfile.mkdtemp(prefix="cw-manifests-")
    try:
        version = project_version()
        cm = cmake_lists()
        check_versions(version)
        check_sources(cm)
        kconf, mapping = check_kconfig(tmp)
        check_module_yml()
        check_library_json(version)
        check_library_properties()
        check_esp_idf(tmp, kconf, mapping, cm)
        check_zephyr(tmp, kconf, mapping, cm)
        check_pico(tmp, cm)
        check_arduino(tmp)
    finally:
        if FAILED and os.environ.get("CW_KEEP"):
            print("build trees kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
