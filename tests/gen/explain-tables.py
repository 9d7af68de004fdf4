#!/usr/bin/env python3
"""Regenerates the generated tables of src/explain/tables.rs from the installed stacks.

Names and numbers come from the headers (wolfSSL, mbedTLS, OpenSSL, GnuTLS, as tests/run installs
them: libwolfssl-dev, libmbedtls-dev, libssl-dev, libgnutls28-dev); each message is printed by the
library itself, through a small C program built with gcc and linked to it. Only the tables marked
`#[rustfmt::skip]` are regenerated, in place; what is written by hand stays as it is: the module's
preamble, MBEDTLS3_SSL (mbedTLS 3.x is not installed), OPENSSL_SSL_GET_ERROR, MQTT, and the texts
of builds other than the installed one (WOLFSSL_OTHER_BUILD below).

    tests/gen/explain-tables.py           rewrite src/explain/tables.rs
    tests/gen/explain-tables.py --check   print what would change; exit 1 if anything would

The test `tables_agree_with_the_installed_headers` (src/explain/tests.rs) checks the names and
numbers of the committed file against the headers, with the same reading of C as below.
"""

import difflib
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TABLES = os.path.join(ROOT, "src", "explain", "tables.rs")
INCLUDE = "/usr/include"

# wolfSSL texts that depend on the build (OPENSSL_EXTRA): the text of builds without it, as
# wolfSSL's sources (src/internal.c, wolfcrypt/src/error.c) write it, comes first; the installed
# library's text becomes the alternative.
WOLFSSL_OTHER_BUILD = {
    "ASN_NO_SIGNER_E": "ASN no signer error to confirm failure",
    "UNSUPPORTED_PROTO_VERSION": "bad/unsupported protocol version",
}

# OpenSSL reasons of libraries other than ssl met when loading credentials: (ERR_LIB_*, name).
OPENSSL_OTHER = [
    ("ERR_LIB_X509", "X509_R_KEY_VALUES_MISMATCH"),
    ("ERR_LIB_PEM", "PEM_R_NO_START_LINE"),
    ("ERR_LIB_PEM", "PEM_R_BAD_DECRYPT"),
    ("ERR_LIB_PEM", "PEM_R_BAD_PASSWORD_READ"),
]

# Codes the headers define that the tables leave out: OpenSSL's OCSP status results (73-75),
# never part of the tables; take them out of this set and regenerate to have them explained.
LEFT_OUT = {
    "X509_V_ERR_OCSP_VERIFY_NEEDED",
    "X509_V_ERR_OCSP_VERIFY_FAILED",
    "X509_V_ERR_OCSP_CERT_UNKNOWN",
}

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ----------------------------------------------------------------------------- reading C headers


def strip_comments(text):
    """The text without /* */ and // comments, its lines kept where they were."""
    out = []
    rest = text
    while True:
        start = rest.find("/*")
        if start < 0:
            break
        out.append(rest[:start])
        end = rest.find("*/", start)
        if end < 0:
            rest = ""
            break
        out.append("\n" * rest[start:end].count("\n"))
        rest = rest[end + 2 :]
    out.append(rest)
    return "\n".join(line.split("//")[0] for line in "".join(out).split("\n"))


def c_value(text):
    """`-0x7780`, `42`, `(-0x0020)`, `1 << 6`, `MBEDTLS_DEPRECATED_NUMERIC_CONSTANT(-0x005C)`."""
    text = text.strip()
    if text.startswith("MBEDTLS_DEPRECATED_NUMERIC_CONSTANT"):
        text = text[len("MBEDTLS_DEPRECATED_NUMERIC_CONSTANT") :].strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    if "<<" in text:
        a, b = (c_value(part) for part in text.split("<<", 1))
        return None if a is None or b is None else a << b
    negative = text.startswith("-")
    digits = (text[1:].strip() if negative else text).rstrip("uUlL")
    try:
        value = int(digits[2:], 16) if digits[:2].lower() == "0x" else int(digits)
    except ValueError:
        return None
    return -value if negative else value


class Constant:
    def __init__(self, name, value, literal, deprecated):
        self.name = name
        self.value = value
        self.literal = literal
        self.deprecated = deprecated


def c_constants(path):
    """The integer constants of a header, in the order it defines them: `#define NAME VALUE`
    and enum members (explicit or counted), with aliases (`#define A B`) resolved."""
    text = strip_comments(open(path, encoding="utf-8", errors="replace").read())
    found = {}
    aliases = []
    in_enum = pending = False
    counter = -1

    def add(name, value, literal):
        if name not in found:
            deprecated = "DEPRECATED" in literal
            found[name] = Constant(name, value, literal.strip(), deprecated)

    for line in text.split("\n"):
        line = line.strip()
        if line.startswith("#"):
            rest = line[1:].lstrip()
            if rest.startswith("define"):
                definition = rest[len("define") :]
                parts = definition.split()
                if len(parts) >= 2:
                    name = parts[0]
                    literal = definition.lstrip()[len(name) :].strip()
                    value = c_value(literal)
                    if value is not None:
                        add(name, value, literal)
                    elif IDENTIFIER.match(literal):
                        aliases.append((name, literal))
            continue
        if "enum" in line:
            pending = True
        if pending and "{" in line:
            in_enum, pending, counter = True, False, -1
        if not in_enum:
            continue
        body = line.split("{")[-1].split("}")[0]
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            if "=" in item:
                name, literal = (part.strip() for part in item.split("=", 1))
                value = c_value(literal)
            else:
                name, literal, value = item, "", counter + 1
            if IDENTIFIER.match(name) and value is not None:
                counter = value
                add(name, value, literal)
        if "}" in line:
            in_enum = False
    for _ in range(4):
        for name, target in aliases:
            if target in found and name not in found:
                add(name, found[target].value, target)
    return list(found.values())


def constants(*paths):
    merged = {}
    for path in paths:
        for constant in c_constants(path):
            merged.setdefault(constant.name, constant)
    return list(merged.values())


# ----------------------------------------------------------------------------- asking the libraries


def run_c(includes, body, libraries):
    """Builds and runs a C program whose main is `body`; returns its lines, split at tabs."""
    source = "#include <stdio.h>\n#include <string.h>\n"
    source += "".join(f"#include <{include}>\n" for include in includes)
    source += "int main(void) {\n" + body + "\nreturn 0;\n}\n"
    with tempfile.TemporaryDirectory() as directory:
        c_file = os.path.join(directory, "messages.c")
        binary = os.path.join(directory, "messages")
        with open(c_file, "w") as out:
            out.write(source)
        subprocess.run(
            ["gcc", "-w", "-o", binary, c_file] + [f"-l{lib}" for lib in libraries], check=True
        )
        output = subprocess.run([binary], check=True, capture_output=True).stdout
    return [line.split("\t") for line in output.decode("utf-8", "replace").split("\n") if line]


def ask(includes, libraries, codes, expression):
    """The text `expression` (C, of `code`) gives for each code: {code: text}."""
    array = ", ".join(f"{code}L" for code in codes) or "0"
    body = (
        f"static const long codes[] = {{{array}}};\n"
        f"for (size_t i = 0; i < {len(codes)}; i++) {{\n"
        "    long code = codes[i];\n"
        f"    const char *text = {expression};\n"
        '    printf("%ld\\t%s\\n", code, text ? text : "");\n'
        "}"
    )
    return {int(code): text for code, text in run_c(includes, body, libraries)}


# ----------------------------------------------------------------------------- Rust


def rust_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def entry(code, name, message, alt_names=(), alt_messages=()):
    if alt_messages:
        alts = ", ".join(rust_string(m) for m in alt_messages)
        return f"ea({code}, {rust_string(name)}, {rust_string(message)}, &[{alts}]),"
    if alt_names:
        alts = ", ".join(rust_string(n) for n in alt_names)
        return f"en({code}, {rust_string(name)}, {rust_string(message)}, &[{alts}]),"
    return f"e({code}, {rust_string(name)}, {rust_string(message)}),"


def mbedtls_hex(value):
    return f"-0x{-value:04X}"


# ----------------------------------------------------------------------------- the tables


def wolfssl():
    headers = [f"{INCLUDE}/wolfssl/error-ssl.h", f"{INCLUDE}/wolfssl/wolfcrypt/error-crypt.h"]
    chosen = [
        c
        for c in constants(*headers)
        if c.value < 0 and c.name not in ("MAX_CODE_E", "WC_LAST_E", "MIN_CODE_E")
    ]
    # The return codes of ssl.h's enum (WOLFSSL_FATAL_ERROR ... WOLFSSL_ALPN_NOT_FOUND).
    chosen += [
        c
        for c in c_constants(f"{INCLUDE}/wolfssl/ssl.h")
        if re.match(r"^WOLFSSL_(?!BIO_|CBIO_|TICKET_)", c.name) and -9 <= c.value <= -1
    ]
    chosen.sort(key=lambda c: -c.value)
    texts = ask(
        ["wolfssl/options.h", "wolfssl/ssl.h"],
        ["wolfssl"],
        [c.value for c in chosen],
        "wolfSSL_ERR_reason_error_string((unsigned long)code)",
    )
    lines = []
    for c in chosen:
        text = texts[c.value]
        # What the library says of a code it has no text for.
        if text.startswith("unknown error number"):
            text = ""
        if c.name in WOLFSSL_OTHER_BUILD:
            lines.append(entry(c.value, c.name, WOLFSSL_OTHER_BUILD[c.name], alt_messages=[text]))
        else:
            lines.append(entry(c.value, c.name, text))
    return lines


def mbedtls():
    chosen = [
        c
        for path in sorted(glob.glob(f"{INCLUDE}/mbedtls/*.h"))
        for c in c_constants(path)
        if c.name.startswith("MBEDTLS_ERR_") and not c.deprecated and c.value < 0
    ]
    unique = {}
    for c in chosen:
        unique.setdefault(c.name, c)
    chosen = sorted(unique.values(), key=lambda c: c.value)
    texts = ask(
        ["mbedtls/error.h"],
        ["mbedtls", "mbedx509", "mbedcrypto"],
        [c.value for c in chosen],
        "({ static char buffer[512]; mbedtls_strerror((int)code, buffer, sizeof buffer); buffer; })",
    )
    lines = []
    for c in chosen:
        text = texts[c.value]
        if text.startswith("UNKNOWN ERROR CODE"):
            text = ""
        lines.append(entry(mbedtls_hex(c.value), c.name, text))
    return lines


def mbedtls_verify_flags():
    chosen = [
        c
        for c in c_constants(f"{INCLUDE}/mbedtls/x509.h")
        if re.match(r"^MBEDTLS_X509_BAD(CERT|CRL)_", c.name)
    ]
    chosen.sort(key=lambda c: c.value)
    texts = ask(
        ["mbedtls/x509_crt.h"],
        ["mbedtls", "mbedx509", "mbedcrypto"],
        [c.value for c in chosen],
        "({ static char buffer[512]; mbedtls_x509_crt_verify_info(buffer, sizeof buffer, \"\", "
        "(unsigned int)code); buffer[strcspn(buffer, \"\\n\")] = 0; buffer; })",
    )
    return [
        f"f({hex(c.value)}, {rust_string(c.literal)}, {rust_string(c.name)}, "
        f"{rust_string(texts[c.value])}),"
        for c in chosen
    ]


OPENSSL_INCLUDES = ["openssl/ssl.h", "openssl/err.h", "openssl/x509_vfy.h"]


def openssl_verify():
    chosen = [
        c
        for c in c_constants(f"{INCLUDE}/openssl/x509_vfy.h")
        if (c.name == "X509_V_OK" or c.name.startswith("X509_V_ERR_")) and c.name not in LEFT_OUT
    ]
    chosen.sort(key=lambda c: c.value)
    texts = ask(
        OPENSSL_INCLUDES,
        ["crypto"],
        [c.value for c in chosen],
        "X509_verify_cert_error_string(code)",
    )
    # The library's text for a number it does not know: those are left out.
    unknown = ask(OPENSSL_INCLUDES, ["crypto"], [99999], "X509_verify_cert_error_string(code)")
    return [
        entry(c.value, c.name, texts[c.value])
        for c in chosen
        if texts[c.value] != unknown[99999]
    ]


def openssl_reason_texts(lib, reasons):
    return ask(
        OPENSSL_INCLUDES,
        ["ssl", "crypto"],
        reasons,
        "(OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL), "
        f"ERR_reason_error_string(ERR_PACK({lib}, 0, code)))",
    )


def openssl_reasons():
    chosen = [c for c in c_constants(f"{INCLUDE}/openssl/sslerr.h") if c.name.startswith("SSL_R_")]
    chosen.sort(key=lambda c: c.value)
    texts = openssl_reason_texts("ERR_LIB_SSL", [c.value for c in chosen])
    return [entry(c.value, c.name, texts[c.value]) for c in chosen]


def openssl_other():
    known = {
        c.name: c.value
        for c in constants(
            f"{INCLUDE}/openssl/err.h", f"{INCLUDE}/openssl/x509err.h", f"{INCLUDE}/openssl/pemerr.h"
        )
    }
    lines = []
    for lib, name in OPENSSL_OTHER:
        text = openssl_reason_texts(lib, [known[name]])[known[name]]
        lines.append(f"({known[lib]}, {entry(known[name], name, text)[:-1]}),")
    return lines


def gnutls():
    chosen = [
        c
        for c in c_constants(f"{INCLUDE}/gnutls/gnutls.h")
        if c.name.startswith("GNUTLS_E_") and c.value < 0
    ]
    codes = sorted({c.value for c in chosen}, reverse=True)
    texts = ask(["gnutls/gnutls.h"], ["gnutls"], codes, "gnutls_strerror((int)code)")
    # gnutls_strerror_name: whether the library knows the number at all.
    names = ask(["gnutls/gnutls.h"], ["gnutls"], codes, "gnutls_strerror_name((int)code)")
    unknown = ask(["gnutls/gnutls.h"], ["gnutls"], [-99999], "gnutls_strerror((int)code)")[-99999]
    lines = []
    for code in codes:
        if texts[code] == unknown or not names[code]:
            continue
        # The name the header gives the number to comes first; the names it defines as
        # aliases of that one follow.
        same = [c for c in chosen if c.value == code]
        same.sort(key=lambda c: c_value(c.literal) is None)
        lines.append(
            entry(code, same[0].name, texts[code], alt_names=[c.name for c in same[1:]])
        )
    return lines


def gnutls_verify_status():
    chosen = [
        c
        for c in c_constants(f"{INCLUDE}/gnutls/gnutls.h")
        if c.name.startswith("GNUTLS_CERT_") and "<<" in c.literal
    ]
    chosen.sort(key=lambda c: c.value)
    # The reasons printed for a status, one sentence each; INVALID is printed with every one.
    print_status = (
        "({ static gnutls_datum_t out; gnutls_certificate_verification_status_print("
        "(unsigned)code, GNUTLS_CRT_X509, &out, 0); (const char *)out.data; })"
    )
    texts = ask(["gnutls/gnutls.h", "gnutls/x509.h"], ["gnutls"], [c.value for c in chosen], print_status)
    invalid = [c.value for c in chosen if c.name == "GNUTLS_CERT_INVALID"][0]
    lines = []
    for c in chosen:
        text = texts[c.value].strip()
        if c.value != invalid:
            text = text.replace(texts[invalid].strip(), "").strip()
            text = re.sub(r"^The certificate is trusted\.\s*", "", text)
        lines.append(
            f"f({c.value}, {rust_string(c.literal)}, {rust_string(c.name)}, {rust_string(text)}),"
        )
    return lines


def gnutls_alerts():
    chosen = [c for c in c_constants(f"{INCLUDE}/gnutls/gnutls.h") if c.name.startswith("GNUTLS_A_")]
    codes = sorted({c.value for c in chosen})
    includes = ["gnutls/gnutls.h"]
    strnames = ask(includes, ["gnutls"], codes, "gnutls_alert_get_strname((gnutls_alert_description_t)code)")
    names = ask(includes, ["gnutls"], codes, "gnutls_alert_get_name((gnutls_alert_description_t)code)")
    return [
        f"({code}, {rust_string(strnames[code])}, {rust_string(names[code])}),"
        for code in codes
        if strnames[code]
    ]


GENERATED = {
    "WOLFSSL": wolfssl,
    "MBEDTLS": mbedtls,
    "MBEDTLS_VERIFY_FLAGS": mbedtls_verify_flags,
    "OPENSSL_VERIFY": openssl_verify,
    "OPENSSL_REASONS": openssl_reasons,
    "GNUTLS": gnutls,
    "GNUTLS_VERIFY_STATUS": gnutls_verify_status,
    "GNUTLS_ALERTS": gnutls_alerts,
    "OPENSSL_OTHER": openssl_other,
}


def regenerate(text):
    for name, make in GENERATED.items():
        match = re.search(
            r"#\[rustfmt::skip\]\npub\(super\) const " + name + r": [^\n]*= &\[\n(.*?)\n\];",
            text,
            re.S,
        )
        if not match:
            sys.exit(f"{TABLES}: no generated table {name}")
        body = "\n".join("    " + line for line in make())
        text = text[: match.start(1)] + body + text[match.end(1) :]
    return text


def main():
    check = sys.argv[1:] == ["--check"]
    if sys.argv[1:] not in ([], ["--check"]):
        sys.exit(__doc__)
    old = open(TABLES, encoding="utf-8").read()
    new = regenerate(old)
    if check:
        diff = list(
            difflib.unified_diff(
                old.splitlines(), new.splitlines(), "tables.rs", "regenerated", lineterm=""
            )
        )
        print("\n".join(diff) if diff else "tables.rs is what the installed stacks give")
        sys.exit(1 if diff else 0)
    with open(TABLES, "w", encoding="utf-8") as out:
        out.write(new)


if __name__ == "__main__":
    main()
