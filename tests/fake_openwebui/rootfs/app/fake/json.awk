# Minimal JSON object reader for the fake Open WebUI (busybox awk).
#
# Reads one JSON document on stdin. It must be an object; top-level members are
# parsed (nested objects/arrays are skipped but kept as raw text). For every key
# named in -v keys="a b c" it prints shell assignments for eval:
#   J_a_t='s'      type: s string, n number, b bool, z null, o object, a array, '' missing
#   J_a='...'      raw value; strings stay JSON-escaped (without the quotes)
# On malformed input it prints J__error='reason' only.

function fail(msg) {
    printf "J__error=%s\n", shq(msg)
    failed = 1
    exit 0
}

function shq(v) {
    gsub(/'/, "'\\''", v)
    return "'" v "'"
}

function skip_ws() {
    while (pos <= n && index(" \t\r\n", substr(s, pos, 1)) > 0)
        pos++
}

function read_string(    start, c) {
    # at the opening quote
    pos++
    start = pos
    while (pos <= n) {
        c = substr(s, pos, 1)
        if (c == "\\") {
            pos += 2
            continue
        }
        if (c == "\"") {
            pos++
            return substr(s, start, pos - 1 - start)
        }
        if (c < " ")
            fail("Invalid control character in string")
        pos++
    }
    fail("Unterminated string")
}

function read_value(    c, start, depth, v) {
    skip_ws()
    c = substr(s, pos, 1)
    if (c == "\"") {
        vtype = "s"
        return read_string()
    }
    if (c == "{" || c == "[") {
        vtype = (c == "{") ? "o" : "a"
        start = pos
        depth = 0
        while (pos <= n) {
            c = substr(s, pos, 1)
            if (c == "\"") {
                read_string()
                continue
            }
            if (c == "{" || c == "[")
                depth++
            else if (c == "}" || c == "]") {
                depth--
                if (depth == 0) {
                    pos++
                    return substr(s, start, pos - start)
                }
            }
            pos++
        }
        fail("Unterminated container")
    }
    start = pos
    while (pos <= n && index(",}] \t\r\n", substr(s, pos, 1)) == 0)
        pos++
    v = substr(s, start, pos - start)
    if (v == "true" || v == "false")
        vtype = "b"
    else if (v == "null")
        vtype = "z"
    else if (v ~ /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/)
        vtype = "n"
    else
        fail("Expecting value")
    return v
}

{ s = (NR == 1) ? $0 : s "\n" $0 }

END {
    if (failed)
        exit 0
    n = length(s)
    pos = 1
    skip_ws()
    if (pos > n)
        fail("Expecting value")
    if (substr(s, pos, 1) != "{")
        fail("Input should be a valid dictionary")
    pos++
    skip_ws()
    if (substr(s, pos, 1) == "}")
        pos++
    else {
        while (1) {
            skip_ws()
            if (substr(s, pos, 1) != "\"")
                fail("Expecting property name enclosed in double quotes")
            k = read_string()
            skip_ws()
            if (substr(s, pos, 1) != ":")
                fail("Expecting ':' delimiter")
            pos++
            v = read_value()
            if (failed)
                exit 0
            val[k] = v
            typ[k] = vtype
            skip_ws()
            c = substr(s, pos, 1)
            pos++
            if (c == ",")
                continue
            if (c == "}")
                break
            fail("Expecting ',' delimiter")
        }
    }
    skip_ws()
    if (pos <= n)
        fail("Extra data")
    nk = split(keys, want, " ")
    for (i = 1; i <= nk; i++) {
        k = want[i]
        if (k in typ)
            printf "J_%s_t=%s\nJ_%s=%s\n", k, typ[k], k, shq(val[k])
        else
            printf "J_%s_t=\nJ_%s=\n", k, k
    }
}
